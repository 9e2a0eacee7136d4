package xenshim.x86.cpu;

/**
 * Why {@link VirtualCpu#run()} returned, whatever the CPU backend: the vCPU
 * loop handles it in one {@code switch}. The exits on the hot path are
 * interfaces a backend implements with reused views of its own state
 * (valid until the next {@code run()}); completing one (data for an
 * {@code in}, the result of an MSR access) takes effect on the next
 * {@code run()}.
 */
public sealed interface CpuExit {

    /** A port access ({@code in}/{@code out}, or a string one with {@link #count()} items). */
    non-sealed interface Io extends CpuExit {
        /** True for {@code in}/{@code ins}: the VMM supplies the data with {@link #setData}. */
        boolean isIn();

        int port();

        /** Bytes per item: 1, 2 or 4. */
        int size();

        /** Items: 1 for {@code in}/{@code out}, more for {@code rep ins/outs}. */
        int count();

        /** Item {@code i} the guest wrote, zero-extended. */
        long data(int i);

        /** The (first) item the guest wrote, zero-extended. */
        default long data() {
            return data(0);
        }

        /** For an {@code in}: the value every item reads. */
        void setData(long value);
    }

    /** A {@code rdmsr} the VMM serves. */
    non-sealed interface MsrRead extends CpuExit {
        int index();

        void complete(long value);

        /** Injects #GP. */
        void fail();
    }

    /** A {@code wrmsr} the VMM serves. */
    non-sealed interface MsrWrite extends CpuExit {
        int index();

        long data();

        void complete();

        /** Injects #GP. */
        void fail();
    }

    /** An access to a guest-physical address with no memory behind it for the CPU. */
    non-sealed interface Mmio extends CpuExit {
        long physAddr();

        int len();

        boolean isWrite();

        long data();

        void setData(long value);
    }

    /** {@link VirtualCpu#kick()} (or a signal) made the run return; nothing else happened. */
    record Kicked() implements CpuExit {
        public static final Kicked INSTANCE = new Kicked();
    }

    /** {@code hlt}. */
    record Halted() implements CpuExit {
        public static final Halted INSTANCE = new Halted();
    }

    /** The guest triple-faulted (or otherwise asked the CPU to shut down). */
    record TripleFault() implements CpuExit {
        public static final TripleFault INSTANCE = new TripleFault();
    }

    /** The backend cannot run the guest on: what happened, in the backend's words. */
    record Failure(String what) implements CpuExit {
    }
}
