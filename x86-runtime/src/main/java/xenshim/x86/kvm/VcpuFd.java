package xenshim.x86.kvm;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.List;
import xenshim.x86.cpu.Reg;

/**
 * A vCPU file descriptor and its mmapped {@code kvm_run}.
 *
 * <p><b>Threads.</b> {@link #run()}, the register ioctls and the synced-register accessors belong
 * to one platform thread at a time (the "vCPU thread"; virtual threads are refused because KVM
 * needs a stable kernel thread to signal). {@link #kick()} may be called from any thread.
 *
 * <p><b>Hot path.</b> {@link #run()} and the {@code synced*} accessors do no allocation and, apart
 * from KVM_RUN itself, no system call: after {@link #enableSyncRegs()} KVM copies the registers
 * and special registers into {@code kvm_run} on every exit, and copies back the general registers
 * marked dirty by {@link #setSyncedReg} on the next entry.
 */
public final class VcpuFd implements AutoCloseable {

    /** {@code struct kvm_interrupt}: one {@code __u32 irq}. */
    static final StructLayout INTERRUPT = MemoryLayout.structLayout(JAVA_INT.withName("irq")).withName("kvm_interrupt");
    /** KVM_INTERRUPT = _IOW(KVMIO, 0x86, struct kvm_interrupt). */
    static final long KVM_INTERRUPT = Native.iow(0x86, INTERRUPT);

    /** {@code struct kvm_msr_entry}: index, reserved, data; 16 bytes. */
    static final StructLayout MSR_ENTRY = MemoryLayout.structLayout(JAVA_INT.withName("index"),
            JAVA_INT.withName("reserved"), JAVA_LONG.withName("data")).withName("kvm_msr_entry");
    /** {@code struct kvm_msrs}: nmsrs, pad; its {@code entries[]} follow. */
    static final StructLayout MSRS_HEADER = MemoryLayout.structLayout(JAVA_INT.withName("nmsrs"),
            JAVA_INT.withName("pad")).withName("kvm_msrs");
    /** KVM_GET_MSRS = _IOWR(KVMIO, 0x88, struct kvm_msrs) (8-byte header; entries follow). */
    static final long KVM_GET_MSRS = Native.iowr(0x88, MSRS_HEADER);

    /** KVM_GET_TSC_KHZ = _IO(KVMIO, 0xa3): the guest TSC's rate, the ioctl's result. */
    static final long KVM_GET_TSC_KHZ = Native.io(0xa3);

    /** KVM_RUN = _IO(KVMIO, 0x80). */
    static final long KVM_RUN = Native.io(0x80);
    /** KVM_GET_REGS = _IOR(KVMIO, 0x81, struct kvm_regs) (144 bytes). */
    static final long KVM_GET_REGS = Native.ior(0x81, Regs.LAYOUT);
    /** KVM_SET_REGS = _IOW(KVMIO, 0x82, struct kvm_regs) (144 bytes). */
    static final long KVM_SET_REGS = Native.iow(0x82, Regs.LAYOUT);
    /** KVM_GET_SREGS = _IOR(KVMIO, 0x83, struct kvm_sregs) (312 bytes). */
    static final long KVM_GET_SREGS = Native.ior(0x83, Sregs.LAYOUT);
    /** KVM_SET_SREGS = _IOW(KVMIO, 0x84, struct kvm_sregs) (312 bytes). */
    static final long KVM_SET_SREGS = Native.iow(0x84, Sregs.LAYOUT);
    /** KVM_SET_CPUID2 = _IOW(KVMIO, 0x90, struct kvm_cpuid2) (8-byte header; entries follow). */
    static final long KVM_SET_CPUID2 = Native.iow(0x90, CpuidEntry.CPUID2_HEADER);

    private static final long SYNC_MASK = KvmRun.SYNC_X86_REGS | KvmRun.SYNC_X86_SREGS;
    private static final long CS = KvmRun.S_SREGS + SegmentRegister.CS.offset;
    /**
     * Where {@link #syncedCpl()} reads: SS.DPL of the synced special registers. The CPL is
     * SS.DPL, not CS.DPL (a conforming code segment's DPL may differ from the CPL); Xen's
     * hvm_get_cpl and KVM's own CPL both read SS.DPL.
     */
    static final long CPL = KvmRun.S_SREGS + SegmentRegister.SS.offset + Segment.DPL;

    private final OwnedFd fd;
    private final int id;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment run;
    private final MemorySegment capture;
    private final VcpuExit.Io io;
    private final VcpuExit.Mmio mmio;
    private final VcpuExit.MsrRead msrRead;
    private final VcpuExit.MsrWrite msrWrite;
    private boolean syncRegs;

    /** The thread that last called run(), and its kernel thread id (for kick()). */
    private Thread owner;
    private volatile int ownerTid;
    private volatile boolean inRun;

    VcpuFd(int fd, int id, int mmapSize) {
        this.fd = new OwnedFd("VcpuFd", fd);
        this.id = id;
        // The arena owns the kvm_run mapping: if anything below fails, closing it unmaps kvm_run
        // (the caller, VmFd.createVcpu, closes the fd).
        try {
            if (mmapSize < KvmRun.LAYOUT.byteSize()) {
                throw new KvmException("KVM_GET_VCPU_MMAP_SIZE is " + mmapSize + ", smaller than struct kvm_run");
            }
            this.run = Native.mmap(mmapSize, Native.PROT_READ | Native.PROT_WRITE, Native.MAP_SHARED, fd, arena);
            this.capture = arena.allocate(Native.CAPTURE_LAYOUT);
            this.io = new VcpuExit.Io(run);
            this.mmio = new VcpuExit.Mmio(run);
            this.msrRead = new VcpuExit.MsrRead(run);
            this.msrWrite = new VcpuExit.MsrWrite(run);
            // Install the kick signal's handler now (once per process), not on the first kick().
            int signal = KickSignal.SIGNAL;
            assert signal > 0;
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** The id this vCPU was created with (its initial APIC id). */
    public int id() {
        return id;
    }

    // ---- register ioctls (cold path) ----

    /** KVM_GET_REGS. */
    public Regs getRegs() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Regs.LAYOUT);
            Native.ioctl("KVM_GET_REGS", fd.get(), KVM_GET_REGS, s);
            return Regs.read(s);
        }
    }

    /** KVM_SET_REGS. Overrides, and is overridden by, pending {@link #setSyncedReg} writes. */
    public void setRegs(Regs regs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Regs.LAYOUT);
            regs.write(s);
            Native.ioctl("KVM_SET_REGS", fd.get(), KVM_SET_REGS, s);
        }
        // A dirty synced copy would be applied on the next KVM_RUN and undo this.
        run.set(JAVA_LONG, KvmRun.DIRTY_REGS, run.get(JAVA_LONG, KvmRun.DIRTY_REGS) & ~KvmRun.SYNC_X86_REGS);
    }

    /** KVM_GET_SREGS. */
    public Sregs getSregs() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Sregs.LAYOUT);
            Native.ioctl("KVM_GET_SREGS", fd.get(), KVM_GET_SREGS, s);
            return Sregs.read(s);
        }
    }

    /** KVM_SET_SREGS. */
    public void setSregs(Sregs sregs) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Sregs.LAYOUT);
            sregs.write(s);
            Native.ioctl("KVM_SET_SREGS", fd.get(), KVM_SET_SREGS, s);
        }
    }

    /** KVM_SET_CPUID2: the CPUID the guest sees (set before the first run). */
    public void setCpuid2(List<CpuidEntry> entries) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(CpuidEntry.entryOffset(entries.size()), 8);
            s.set(JAVA_INT, CpuidEntry.NENT, entries.size());
            for (int i = 0; i < entries.size(); i++) {
                entries.get(i).write(s, CpuidEntry.entryOffset(i));
            }
            Native.ioctl("KVM_SET_CPUID2", fd.get(), KVM_SET_CPUID2, s);
        }
    }

    // ---- running ----

    /**
     * From now on every {@link #run()} asks KVM (kvm_run.kvm_valid_regs) to store the
     * registers and special registers in {@code kvm_run} on exit, for the {@code synced*}
     * accessors. Set once: KVM reads {@code kvm_valid_regs} on each KVM_RUN and never clears it.
     * Needs {@link Kvm#CAP_SYNC_REGS}.
     */
    public void enableSyncRegs() {
        syncRegs = true;
        run.set(JAVA_LONG, KvmRun.VALID_REGS, SYNC_MASK);
    }

    /**
     * KVM_RUN: enters the guest until it exits to user space. Allocation-free; the returned
     * {@link VcpuExit.Io}/{@link VcpuExit.Mmio}/{@link VcpuExit.MsrRead}/{@link VcpuExit.MsrWrite}
     * are this vCPU's reused views, valid until the next call.
     *
     * <p>EINTR (a signal, {@link #kick()}, {@link #immediateExit(boolean)}) returns
     * {@link VcpuExit.Intr} and clears {@code immediate_exit}: a kick is a one-shot request.
     *
     * @throws KvmException naming KVM_RUN for any other failure (e.g. EFAULT: guest RAM unmapped)
     */
    public VcpuExit run() {
        Thread t = Thread.currentThread();
        if (t != owner) {
            bind(t);
        }
        int vcpu = fd.get();
        int r;
        inRun = true;
        try {
            r = (int) Native.IOCTL_LONG.invokeExact(capture, vcpu, KVM_RUN, 0L);
        } catch (Throwable e) {
            throw new AssertionError(e);
        } finally {
            inRun = false;
        }
        if (r < 0) {
            int errno = Native.errno(capture);
            if (errno == KvmException.EINTR) {
                KvmRun.IMMEDIATE_EXIT.setVolatile(run, 0L, (byte) 0);
                return VcpuExit.Intr.INSTANCE;
            }
            fd.get(); // closed meanwhile (another thread): say so rather than EBADF
            throw new KvmException("KVM_RUN", errno);
        }
        return exit();
    }

    private void bind(Thread t) {
        if (t.isVirtual()) {
            throw new IllegalStateException("a vCPU must run on a platform thread, not " + t);
        }
        if (fd.isClosed()) {
            throw new IllegalStateException("VcpuFd is closed");
        }
        ownerTid = Native.gettid();
        owner = t;
    }

    /**
     * KVM_INTERRUPT: queues external interrupt {@code vector} for the next {@link #run()} (no
     * in-kernel irqchip). Only when {@link #readyForInterruptInjection()}.
     */
    public void interrupt(int vector) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment irq = arena.allocate(JAVA_INT);
            irq.set(JAVA_INT, 0, vector);
            Native.ioctl("KVM_INTERRUPT", fd.get(), KVM_INTERRUPT, irq);
        }
    }

    /**
     * KVM_GET_MSRS for one MSR (the guest's TSC, say); cold path, on the vCPU's thread.
     *
     * @throws KvmException if KVM does not return it
     */
    public long getMsr(int index) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment msrs = a.allocate(MSRS_HEADER.byteSize() + MSR_ENTRY.byteSize(), 8);
            msrs.set(JAVA_INT, 0, 1);
            msrs.set(JAVA_INT, MSRS_HEADER.byteSize(), index);
            int read = Native.ioctl("KVM_GET_MSRS", fd.get(), KVM_GET_MSRS, msrs);
            if (read != 1) {
                throw new KvmException("KVM_GET_MSRS did not return MSR 0x" + Integer.toHexString(index));
            }
            return msrs.get(JAVA_LONG, MSRS_HEADER.byteSize() + 8);
        }
    }

    /** KVM_GET_TSC_KHZ: the rate of the guest's TSC, in kHz, as KVM set it (scaled or not). */
    public int tscKhz() {
        return Native.ioctl("KVM_GET_TSC_KHZ", fd.get(), KVM_GET_TSC_KHZ, 0L);
    }

    /** kvm_run.ready_for_interrupt_injection of the last exit: the guest can take one now (IF=1, no shadow). */
    public boolean readyForInterruptInjection() {
        return run.get(JAVA_BYTE, KvmRun.READY_FOR_INTERRUPT_INJECTION) != 0;
    }

    /** kvm_run.request_interrupt_window: exit with KVM_EXIT_IRQ_WINDOW_OPEN as soon as an interrupt can go in. */
    public void requestInterruptWindow(boolean on) {
        run.set(JAVA_BYTE, KvmRun.REQUEST_INTERRUPT_WINDOW, (byte) (on ? 1 : 0));
    }

    /** kvm_run.exit_reason of the last exit (a KVM_EXIT_* number). */
    public int exitReason() {
        return run.get(JAVA_INT, KvmRun.EXIT_REASON);
    }

    private VcpuExit exit() {
        int reason = run.get(JAVA_INT, KvmRun.EXIT_REASON);
        return switch (reason) {
            case KvmRun.EXIT_IO -> io;
            case KvmRun.EXIT_MMIO -> mmio;
            case KvmRun.EXIT_X86_WRMSR -> msrWrite;
            case KvmRun.EXIT_X86_RDMSR -> msrRead;
            case KvmRun.EXIT_HLT -> VcpuExit.Hlt.INSTANCE;
            case KvmRun.EXIT_IRQ_WINDOW_OPEN -> VcpuExit.IrqWindowOpen.INSTANCE;
            case KvmRun.EXIT_SHUTDOWN -> VcpuExit.Shutdown.INSTANCE;
            case KvmRun.EXIT_INTR -> {
                KvmRun.IMMEDIATE_EXIT.setVolatile(run, 0L, (byte) 0);
                yield VcpuExit.Intr.INSTANCE;
            }
            case KvmRun.EXIT_INTERNAL_ERROR -> new VcpuExit.InternalError(run.get(JAVA_INT, KvmRun.INTERNAL_SUBERROR),
                    longs(KvmRun.INTERNAL_DATA, run.get(JAVA_INT, KvmRun.INTERNAL_NDATA)));
            case KvmRun.EXIT_FAIL_ENTRY -> new VcpuExit.FailEntry(run.get(JAVA_LONG, KvmRun.FAIL_ENTRY_REASON),
                    run.get(JAVA_INT, KvmRun.FAIL_ENTRY_CPU));
            case KvmRun.EXIT_SYSTEM_EVENT -> new VcpuExit.SystemEvent(run.get(JAVA_INT, KvmRun.SYSTEM_EVENT_TYPE),
                    longs(KvmRun.SYSTEM_EVENT_DATA, run.get(JAVA_INT, KvmRun.SYSTEM_EVENT_NDATA)));
            case KvmRun.EXIT_DEBUG -> new VcpuExit.Debug(run.get(JAVA_INT, KvmRun.DEBUG_EXCEPTION),
                    run.get(JAVA_LONG, KvmRun.DEBUG_PC), run.get(JAVA_LONG, KvmRun.DEBUG_DR6),
                    run.get(JAVA_LONG, KvmRun.DEBUG_DR7));
            default -> new VcpuExit.Unknown(reason, run.get(JAVA_LONG, KvmRun.HW_REASON));
        };
    }

    private long[] longs(long at, int n) {
        long[] v = new long[Math.clamp(n, 0, 16)];
        for (int i = 0; i < v.length; i++) {
            v[i] = run.get(JAVA_LONG, at + 8L * i);
        }
        return v;
    }

    /**
     * Sets or clears kvm_run.immediate_exit: while set, KVM_RUN returns EINTR at once without
     * entering the guest. {@link #run()} clears it when it returns {@link VcpuExit.Intr}.
     */
    public void immediateExit(boolean on) {
        KvmRun.IMMEDIATE_EXIT.setVolatile(run, 0L, on ? (byte) 1 : (byte) 0);
    }

    /**
     * Makes the vCPU thread's current {@link #run()} return promptly, or, if it is not inside
     * one, its next: that call returns {@link VcpuExit.Intr} (or whatever exit had already
     * happened). Thread-safe; callable from any thread. Set your own stop/pause flag first and
     * check it on every exit.
     *
     * <p>How: sets {@code immediate_exit} (covers a vCPU thread that is between KVM_RUN calls)
     * and, if the thread is inside KVM_RUN, sends it a real-time signal with a no-op native
     * handler ({@link KickSignal}), which makes KVM leave the guest and return EINTR. The
     * volatile {@code immediate_exit} write before the volatile {@code inRun} read here, and the
     * {@code inRun} write before KVM reads {@code immediate_exit} on the vCPU thread, leave no
     * window in which both are missed.
     */
    public void kick() {
        KvmRun.IMMEDIATE_EXIT.setVolatile(run, 0L, (byte) 1);
        if (inRun) {
            KickSignal.send(ownerTid);
        }
    }

    // ---- synced registers (hot path: no ioctl, no allocation) ----

    private void checkSync() {
        if (!syncRegs) {
            throw new IllegalStateException("enableSyncRegs() first");
        }
    }

    /** A general register as of the last exit. */
    public long syncedReg(Reg r) {
        checkSync();
        return run.get(JAVA_LONG, KvmRun.S_REGS + Regs.offset(r));
    }

    /** Sets a general register for the next entry (marks kvm_dirty_regs KVM_SYNC_X86_REGS). */
    public void setSyncedReg(Reg r, long value) {
        checkSync();
        run.set(JAVA_LONG, KvmRun.S_REGS + Regs.offset(r), value);
        run.set(JAVA_LONG, KvmRun.DIRTY_REGS, run.get(JAVA_LONG, KvmRun.DIRTY_REGS) | KvmRun.SYNC_X86_REGS);
    }

    public long syncedCr0() {
        checkSync();
        return run.get(JAVA_LONG, KvmRun.S_SREGS + Sregs.CR0);
    }

    public long syncedCr2() {
        checkSync();
        return run.get(JAVA_LONG, KvmRun.S_SREGS + Sregs.CR2);
    }

    public long syncedCr3() {
        checkSync();
        return run.get(JAVA_LONG, KvmRun.S_SREGS + Sregs.CR3);
    }

    public long syncedCr4() {
        checkSync();
        return run.get(JAVA_LONG, KvmRun.S_SREGS + Sregs.CR4);
    }

    public long syncedEfer() {
        checkSync();
        return run.get(JAVA_LONG, KvmRun.S_SREGS + Sregs.EFER);
    }

    /** CS.L: 64-bit code segment. */
    public boolean syncedCsL() {
        checkSync();
        return run.get(JAVA_BYTE, CS + Segment.L) != 0;
    }

    /** CS.D/B: 32-bit (vs 16-bit) default operand size outside 64-bit mode. */
    public boolean syncedCsDb() {
        checkSync();
        return run.get(JAVA_BYTE, CS + Segment.DB) != 0;
    }

    /** The CPL in protected and long mode: SS.DPL (as Xen's hvm_get_cpl and KVM read it, not CS.DPL). */
    public int syncedCpl() {
        checkSync();
        return run.get(JAVA_BYTE, CPL);
    }

    public long syncedCsBase() {
        return syncedSegmentBase(SegmentRegister.CS);
    }

    public long syncedSegmentBase(SegmentRegister r) {
        checkSync();
        return run.get(JAVA_LONG, KvmRun.S_SREGS + r.offset + Segment.BASE);
    }

    /** All general registers as of the last exit (allocates). */
    public Regs syncedRegs() {
        checkSync();
        return Regs.read(run.asSlice(KvmRun.S_REGS, Regs.LAYOUT.byteSize()));
    }

    /** All special registers as of the last exit (allocates). */
    public Sregs syncedSregs() {
        checkSync();
        return Sregs.read(run.asSlice(KvmRun.S_SREGS, Sregs.LAYOUT.byteSize()));
    }

    /** Unmaps kvm_run and closes the fd. Not while another thread is in {@link #run()}. */
    @Override
    public void close() {
        if (fd.close()) {
            arena.close();
        }
    }
}
