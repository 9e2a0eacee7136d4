package xenshim.api;

/**
 * What {@code guest_console_write} keeps of an unprivileged domain's output:
 * printable ASCII ({@code 0x20..0x7e}), {@code '\t'}, and {@code '\n'} as the
 * line end. Everything else (control characters, escape sequences, bytes
 * {@code >= 0x7f}) is dropped, so a guest cannot drive the host's terminal.
 *
 * <p>Xen's {@code isprint} also passes Latin-1 {@code 0xa0..0xff}; xenshim
 * keeps ASCII only, because those bytes are half of a UTF-8 sequence on the
 * host's console. Xen also stops a chunk at {@code '\n'} to print the line;
 * here the newline is kept in the chunk and the rest follows it.
 *
 * <p>Shared by {@code console_io} and the runtime's 0x12 debug port, so both
 * ways a guest prints follow one rule.
 */
public final class ConsoleText {

    private ConsoleText() {
    }

    /** Whether an unprivileged domain's byte {@code c} reaches the console. */
    public static boolean kept(byte c) {
        return (c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\n';
    }

    /**
     * Compacts {@code buffer[0..length)} in place to the bytes that are
     * {@link #kept}, and returns how many remain.
     */
    public static int strip(byte[] buffer, int length) {
        int out = 0;
        for (int in = 0; in < length; in++) {
            byte c = buffer[in];
            if (kept(c)) {
                buffer[out++] = c;
            }
        }
        return out;
    }
}
