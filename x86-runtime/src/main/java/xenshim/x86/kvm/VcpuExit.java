package xenshim.x86.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemorySegment;
import xenshim.x86.cpu.CpuExit;

/**
 * Why {@link VcpuFd#run()} returned. Handle it with one {@code switch}.
 *
 * <p><b>Allocation and lifetime.</b> The exits on the hot path ({@link Io}, {@link Mmio},
 * {@link MsrRead}, {@link MsrWrite}) are not records but per-vCPU <em>views</em> of
 * {@code kvm_run}: {@code run()} returns the same object every time, and its accessors read
 * {@code kvm_run} directly, so they are valid only until the next {@code run()}. Completing an
 * exit (data for an I/O or MMIO read, the result of an MSR access) writes into {@code kvm_run}
 * and takes effect on the next {@code run()}. {@link Hlt}, {@link Shutdown} and {@link Intr} are
 * singletons; the rare exits are records allocated per exit.
 */
public sealed interface VcpuExit {

    /**
     * KVM_EXIT_IO: a port access. KVM completes the instruction on the next {@code run()} (for
     * an {@code in}, with the data set here). Where RIP points meanwhile depends on the KVM: at
     * the instruction on VMX/SVM fast PIO; on kvm_pvm already past an {@code out} (it emulates
     * and writes RIP back before exiting) but still at an {@code in}. Do not depend on it; change
     * only RAX.
     */
    final class Io implements VcpuExit, CpuExit.Io {
        private final MemorySegment run;

        Io(MemorySegment run) {
            this.run = run;
        }

        /** True for {@code in}/{@code ins} (the VMM must supply the data). */
        public boolean isIn() {
            return run.get(JAVA_BYTE, KvmRun.IO_DIRECTION) == 0;
        }

        public boolean isOut() {
            return !isIn();
        }

        public int port() {
            return Short.toUnsignedInt(run.get(JAVA_SHORT, KvmRun.IO_PORT));
        }

        /** Bytes per item: 1, 2 or 4. */
        public int size() {
            return run.get(JAVA_BYTE, KvmRun.IO_SIZE);
        }

        /** Items: 1 for {@code in}/{@code out}, more for {@code rep ins/outs}. */
        public int count() {
            return run.get(JAVA_INT, KvmRun.IO_COUNT);
        }

        /** The (first) item the guest wrote, zero-extended. */
        public long data() {
            return data(0);
        }

        /** Item {@code i} of a string I/O, zero-extended. */
        public long data(int i) {
            long at = itemOffset(i);
            return switch (size()) {
                case 1 -> Byte.toUnsignedLong(run.get(JAVA_BYTE, at));
                case 2 -> Short.toUnsignedLong(run.get(JAVA_SHORT, at));
                default -> Integer.toUnsignedLong(run.get(JAVA_INT, at));
            };
        }

        /** For an {@code in}: the value every item reads (e.g. all-ones for an unbacked port). */
        public void setData(long value) {
            for (int i = 0, n = count(); i < n; i++) {
                setData(i, value);
            }
        }

        /** For an {@code ins}: item {@code i}. */
        public void setData(int i, long value) {
            long at = itemOffset(i);
            switch (size()) {
                case 1 -> run.set(JAVA_BYTE, at, (byte) value);
                case 2 -> run.set(JAVA_SHORT, at, (short) value);
                default -> run.set(JAVA_INT, at, (int) value);
            }
        }

        private long itemOffset(int i) {
            if (i < 0 || i >= count()) {
                throw new IndexOutOfBoundsException(i);
            }
            return run.get(JAVA_LONG, KvmRun.IO_DATA_OFFSET) + (long) i * size();
        }

        @Override
        public String toString() {
            return "Io[%s port=%#x size=%d count=%d data=%#x]".formatted(isIn() ? "in" : "out", port(), size(),
                    count(), isIn() ? 0 : data());
        }
    }

    /** KVM_EXIT_MMIO: an access to guest-physical memory with no memory slot. */
    final class Mmio implements VcpuExit, CpuExit.Mmio {
        private final MemorySegment run;

        Mmio(MemorySegment run) {
            this.run = run;
        }

        public long physAddr() {
            return run.get(JAVA_LONG, KvmRun.MMIO_PHYS_ADDR);
        }

        /** Bytes accessed, 1 to 8. */
        public int len() {
            return run.get(JAVA_INT, KvmRun.MMIO_LEN);
        }

        public boolean isWrite() {
            return run.get(JAVA_BYTE, KvmRun.MMIO_IS_WRITE) != 0;
        }

        /** For a write: the {@link #len()} bytes written, little-endian, zero-extended. */
        public long data() {
            long v = 0;
            for (int i = Math.min(len(), 8) - 1; i >= 0; i--) {
                v = (v << 8) | Byte.toUnsignedLong(run.get(JAVA_BYTE, KvmRun.MMIO_DATA + i));
            }
            return v;
        }

        /** For a read: the value read, its low {@link #len()} bytes little-endian. */
        public void setData(long value) {
            for (int i = 0, n = Math.min(len(), 8); i < n; i++) {
                run.set(JAVA_BYTE, KvmRun.MMIO_DATA + i, (byte) (value >>> (8 * i)));
            }
        }

        @Override
        public String toString() {
            return "Mmio[%s %#x len=%d data=%#x]".formatted(isWrite() ? "write" : "read", physAddr(), len(),
                    isWrite() ? data() : 0);
        }
    }

    /** {@code kvm_run.msr.reason} values: why an MSR access came to user space. */
    int MSR_REASON_INVAL = 1, MSR_REASON_UNKNOWN = 2, MSR_REASON_FILTER = 4;

    /** KVM_EXIT_X86_RDMSR. Unless completed otherwise the guest reads 0 without fault. */
    final class MsrRead implements VcpuExit, CpuExit.MsrRead {
        private final MemorySegment run;

        MsrRead(MemorySegment run) {
            this.run = run;
        }

        public int index() {
            return run.get(JAVA_INT, KvmRun.MSR_INDEX);
        }

        /** {@link #MSR_REASON_FILTER}, {@link #MSR_REASON_UNKNOWN} or {@link #MSR_REASON_INVAL}. */
        public int reason() {
            return run.get(JAVA_INT, KvmRun.MSR_REASON);
        }

        /** The guest's {@code rdmsr} returns {@code value} in edx:eax. */
        public void complete(long value) {
            run.set(JAVA_LONG, KvmRun.MSR_DATA, value);
            run.set(JAVA_BYTE, KvmRun.MSR_ERROR, (byte) 0);
        }

        /** The guest's {@code rdmsr} takes #GP. */
        public void fail() {
            run.set(JAVA_BYTE, KvmRun.MSR_ERROR, (byte) 1);
        }

        @Override
        public String toString() {
            return "MsrRead[%#x reason=%d]".formatted(index(), reason());
        }
    }

    /** KVM_EXIT_X86_WRMSR. Unless {@link #fail()}ed the write completes without fault. */
    final class MsrWrite implements VcpuExit, CpuExit.MsrWrite {
        private final MemorySegment run;

        MsrWrite(MemorySegment run) {
            this.run = run;
        }

        public int index() {
            return run.get(JAVA_INT, KvmRun.MSR_INDEX);
        }

        /** edx:eax as written by the guest. */
        public long data() {
            return run.get(JAVA_LONG, KvmRun.MSR_DATA);
        }

        public int reason() {
            return run.get(JAVA_INT, KvmRun.MSR_REASON);
        }

        /** The guest's {@code wrmsr} completes normally (the default). */
        public void complete() {
            run.set(JAVA_BYTE, KvmRun.MSR_ERROR, (byte) 0);
        }

        /** The guest's {@code wrmsr} takes #GP. */
        public void fail() {
            run.set(JAVA_BYTE, KvmRun.MSR_ERROR, (byte) 1);
        }

        @Override
        public String toString() {
            return "MsrWrite[%#x data=%#x reason=%d]".formatted(index(), data(), reason());
        }
    }

    /** KVM_EXIT_HLT: the guest executed {@code hlt} (only without an in-kernel irqchip). */
    record Hlt() implements VcpuExit {
        public static final Hlt INSTANCE = new Hlt();
    }

    /** KVM_EXIT_SHUTDOWN: triple fault (or a shutdown cycle). The vCPU cannot continue. */
    record Shutdown() implements VcpuExit {
        public static final Shutdown INSTANCE = new Shutdown();
    }

    /**
     * KVM_RUN returned EINTR (or KVM_EXIT_INTR): a signal, {@link VcpuFd#kick()} or
     * {@link VcpuFd#immediateExit(boolean)}. The guest is intact; run again to continue.
     */
    record Intr() implements VcpuExit {
        public static final Intr INSTANCE = new Intr();
    }

    /**
     * KVM_EXIT_IRQ_WINDOW_OPEN: the guest can take an external interrupt now, as
     * {@link VcpuFd#requestInterruptWindow} asked to be told.
     */
    record IrqWindowOpen() implements VcpuExit {
        public static final IrqWindowOpen INSTANCE = new IrqWindowOpen();
    }

    /**
     * KVM_EXIT_INTERNAL_ERROR. {@code suberror} 1 is KVM_INTERNAL_ERROR_EMULATION (an
     * instruction KVM could not emulate).
     */
    record InternalError(int suberror, long[] data) implements VcpuExit {
        public static final int EMULATION = 1, SIMUL_EX = 2, DELIVERY_EV = 3, UNEXPECTED_EXIT_REASON = 4;

        public InternalError {
            data = data.clone();
        }

        @Override
        public long[] data() {
            return data.clone();
        }

        @Override
        public String toString() {
            return "InternalError[suberror=" + suberror + ", data=" + java.util.Arrays.toString(data) + "]";
        }
    }

    /** KVM_EXIT_FAIL_ENTRY: the hardware refused to enter the guest (bad guest state). */
    record FailEntry(long hardwareEntryFailureReason, int cpu) implements VcpuExit {}

    /** KVM_EXIT_SYSTEM_EVENT: 1 = shutdown, 2 = reset, 3 = crash. */
    record SystemEvent(int type, long[] data) implements VcpuExit {
        public static final int SHUTDOWN = 1, RESET = 2, CRASH = 3;

        public SystemEvent {
            data = data.clone();
        }

        @Override
        public long[] data() {
            return data.clone();
        }
    }

    /** KVM_EXIT_DEBUG. */
    record Debug(int exception, long pc, long dr6, long dr7) implements VcpuExit {}

    /** Any other exit reason; {@code hardwareExitReason} is kvm_run.hw.hardware_exit_reason. */
    record Unknown(int reason, long hardwareExitReason) implements VcpuExit {}
}
