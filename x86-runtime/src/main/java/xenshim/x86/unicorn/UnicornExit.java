package xenshim.x86.unicorn;

/**
 * Why {@link UnicornCpu#run()} returned, the software CPU's counterpart of
 * {@link xenshim.x86.kvm.VcpuExit}. Handle it with one {@code switch}.
 *
 * <p><b>Where the guest stopped.</b> Unicorn (QEMU's TCG) runs guest code as translated blocks and
 * stops cleanly only at the start of one. An instruction hook that asks for an exit therefore lets
 * the rest of its block run first: for {@link Io} RIP is where the block containing the {@code out}
 * ended (after a stub's {@code ret}, or at the target of a {@code jmp} that ends the block right after
 * the {@code out}), not the instruction after the {@code out}. Registers always agree with RIP: no
 * instruction is half-run or run twice. {@link Exception} stops at the instruction the CPU would
 * report; {@link MsrWrite} and {@link Stopped} at a block start.
 *
 * <p><b>Allocation.</b> {@link Io} is a per-vCPU view, reused by every {@code run()}, valid until the
 * next one (as KVM's exits); {@link Hlt} and {@link Stopped} are singletons; the rare exits are records.
 */
public sealed interface UnicornExit {

    /**
     * An {@code out} the {@link PortHandler} did not handle inside the hook. The guest has already
     * run to the end of the translated block holding it (see above). An {@code in} is never an exit:
     * its value is needed before the next instruction, so the handler answers it inside the hook.
     */
    final class Io implements UnicornExit {
        private int port;
        private int size;
        private long value;

        Io() {
        }

        void set(int port, int size, long value) {
            this.port = port;
            this.size = size;
            this.value = value;
        }

        public int port() {
            return port;
        }

        /** Bytes written: 1, 2 or 4. */
        public int size() {
            return size;
        }

        /** The value written, zero-extended from {@link #size()} bytes. */
        public long value() {
            return value;
        }

        @Override
        public String toString() {
            return "Io[out port=%#x size=%d value=%#x]".formatted(port, size, value);
        }
    }

    /**
     * The guest executed {@code hlt}: RIP is past it. (Or, indistinguishably, a kick arrived while
     * the guest was halted: it then reads as {@link Stopped}, and the next {@code run()} resumes after
     * the {@code hlt}, which guests tolerate as a spurious wake-up.)
     */
    record Hlt() implements UnicornExit {
        public static final Hlt INSTANCE = new Hlt();
    }

    /**
     * A CPU exception or software interrupt, not delivered: Unicorn has no interrupt controller and
     * does not walk the guest's IDT. {@code rip} is what the CPU would push: the faulting
     * instruction for a fault (#DE 0, #UD 6, #GP 13, #PF 14 with CR2 set, ...), the next instruction
     * for {@code int n}, {@code int3} (3) and {@code into}. No error code is available.
     */
    record Exception(int vector, long rip) implements UnicornExit {
        public static final int DE = 0, DB = 1, BP = 3, UD = 6, DF = 8, GP = 13, PF = 14;

        @Override
        public String toString() {
            return "Exception[vector=%d rip=%#x]".formatted(vector, rip);
        }
    }

    /**
     * The MSR named by {@link UnicornCpu#watchMsr(int)} changed to {@code value}. Seen at the start
     * of the first translated block after the one holding the {@code wrmsr}, before that block runs:
     * RIP is there, and no call into a page the write announced can have run yet (a call ends a block).
     */
    record MsrWrite(int index, long value) implements UnicornExit {
        @Override
        public String toString() {
            return "MsrWrite[%#x value=%#x]".formatted(index, value);
        }
    }

    /** {@link UnicornCpu#kick()}: stopped at the start of a block, the guest intact; run again to continue. */
    record Stopped() implements UnicornExit {
        public static final Stopped INSTANCE = new Stopped();
    }

    /**
     * The engine stopped on an error, or a handler threw inside a hook. {@code error} is the
     * {@code uc_err} ({@code UC_ERR_OK} for a handler failure, with {@code cause} set); the message says
     * what and where, e.g. {@code "uc_emu_start failed: UC_ERR_READ_UNMAPPED (6): Invalid memory read
     * (UC_ERR_READ_UNMAPPED) at 0x40000000 (8 bytes), rip 0x10000"}.
     */
    record Error(int error, String message, Throwable cause) implements UnicornExit {
        @Override
        public String toString() {
            return "Error[" + message + "]";
        }
    }
}
