package xenshim.api;

/**
 * Where {@code CONSOLEIO_write} output goes: the runtime's console (stdout
 * of {@code xenshim run}). Bound by the platform, injected into handlers.
 */
public interface GuestConsole {

    /** Writes bytes a domain printed; called with whole chunks, in order per domain. */
    void write(Domain domain, byte[] bytes, int offset, int length);

    /**
     * Bytes waiting on the console's input for a privileged reader
     * ({@code CONSOLEIO_read}): up to {@code max} are moved into
     * {@code into}, and their count returned; 0 when there is none. Never blocks.
     */
    default int read(byte[] into, int max) {
        return 0;
    }
}
