package xenshim.x86.unicorn;

/**
 * Port I/O answered inside Unicorn's instruction hooks, on the vCPU thread, while the guest's
 * translated block is running. General registers read there are current (RIP is not: it is the
 * start of the block); write only RAX, and nothing that changes the CPU mode.
 *
 * <p>A handler must return quickly. It may throw: the hook catches everything (a throw across the
 * native frame would kill the JVM), stops the guest and reports an {@link UnicornExit.Error}.
 */
public interface PortHandler {

    /** Nothing behind any port: {@code in} reads all-ones, every {@code out} is an exit. */
    PortHandler EXIT_ON_OUT = new PortHandler() {
        @Override
        public long in(int port, int size) {
            return -1L;
        }

        @Override
        public boolean out(int port, int size, long value) {
            return false;
        }
    };

    /**
     * An {@code in} of {@code size} bytes (1, 2 or 4): the value the guest reads (only the low
     * {@code size} bytes are used). It cannot be an exit: the guest's next instruction needs it.
     */
    long in(int port, int size);

    /**
     * An {@code out} of {@code size} bytes, {@code value} zero-extended. Return true if handled here
     * (the guest goes on), false to end the run with a {@link UnicornExit.Io} exit after the block.
     */
    boolean out(int port, int size, long value);
}
