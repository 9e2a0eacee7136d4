package xenshim.x86.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BOOLEAN;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static xenshim.x86.unicorn.Unicorn.UC_ERR_OK;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.Optional;
import xenshim.api.GuestAtomics;
import xenshim.x86.kvm.CpuidEntry;
import xenshim.x86.kvm.DTable;
import xenshim.x86.cpu.Reg;
import xenshim.x86.kvm.Regs;
import xenshim.x86.kvm.SegmentRegister;

/**
 * One Unicorn engine ({@code UC_ARCH_X86}, {@code UC_MODE_64}) used as one vCPU: the software-CPU
 * counterpart of {@link xenshim.x86.kvm.VcpuFd}. Guest RAM is the runtime's own host memory
 * ({@link #mapRam}); {@link #run()} runs the guest until something needs the VMM and returns it as
 * an {@link UnicornExit}.
 *
 * <p><b>Hooks.</b> Port I/O and {@code cpuid} are answered inside Unicorn's instruction hooks by a
 * {@link PortHandler} and a {@link CpuidHandler}; an {@code out} they do not handle, an exception, a
 * watched MSR write and errors end the run. Every hook is an FFM upcall that catches everything it
 * could throw (a throw across the native frame kills the JVM), records it as an exit and stops the
 * engine; hooks call nothing that can raise a guest fault.
 *
 * <p><b>Threads.</b> {@link #run()} and every other method belong to one thread at a time (the vCPU
 * thread); handlers run on it, inside {@code run()}. {@link #kick()} may be called from any thread.
 * Inside a handler only the general registers and the read accessors may be used.
 *
 * <p><b>Atomics.</b> The guest's {@code lock}ed instructions are atomic against this engine only, not
 * against host threads (TCG without {@code CF_PARALLEL}): the rule is that every host thread's
 * read-modify-write of a guest word the guest also read-modify-writes goes through
 * {@link #guestAtomics()}, which stops the guest between instructions for it.
 *
 * <p><b>Unicorn 2.0.1 facts this class is built on</b> (measured; see the package documentation):
 * a stop is exact only at the start of a translated block, so every stop an instruction hook or a
 * kick asks for is taken there ({@link BlockStartStop}); RIP inside an instruction hook is the start
 * of the block; a host write to guest code is not seen until the translations are flushed
 * ({@link #flushTranslations}), and {@code uc_mem_write} does not flush them either; there is no
 * WRMSR hook ({@code UC_ERR_HOOK}), so an MSR write is seen by {@link #watchMsr watching} an MSR that
 * Unicorn's CPU keeps.
 */
public final class UnicornCpu implements AutoCloseable {

    /**
     * AMD's {@code MSR_VM_HSAVE_PA}: an MSR Unicorn's CPU keeps (a {@code wrmsr} to Xen's usual
     * 0x40000000 is dropped) and no guest without SVM touches. Advertised as the hypercall-page MSR
     * (CPUID 0x40000002 ebx) and {@link #watchMsr watched}, it shows the guest's hypercall-page write.
     */
    public static final int MSR_VM_HSAVE_PA = 0xC001_0117;
    public static final int MSR_EFER = 0xC000_0080;

    /** Port exits one translated block may queue (a block has at most 512 instructions). */
    private static final int IO_QUEUE = 512;

    /**
     * The stop word {@link BlockStartStop} checks at every block start: byte 0 is a pending kick
     * (written by any thread), byte 1 an exit a hook recorded (written by the vCPU thread).
     */
    private static final long KICK = 0, EXIT = 1;
    private static final VarHandle STOP_BYTE = JAVA_BYTE.varHandle();

    /** Unicorn's register ids for {@link Reg}, by ordinal. */
    private static final int[] REG_IDS = {
        Unicorn.UC_X86_REG_RAX, Unicorn.UC_X86_REG_RBX, Unicorn.UC_X86_REG_RCX, Unicorn.UC_X86_REG_RDX,
        Unicorn.UC_X86_REG_RSI, Unicorn.UC_X86_REG_RDI, Unicorn.UC_X86_REG_RSP, Unicorn.UC_X86_REG_RBP,
        Unicorn.UC_X86_REG_R8, Unicorn.UC_X86_REG_R9, Unicorn.UC_X86_REG_R10, Unicorn.UC_X86_REG_R11,
        Unicorn.UC_X86_REG_R12, Unicorn.UC_X86_REG_R13, Unicorn.UC_X86_REG_R14, Unicorn.UC_X86_REG_R15,
        Unicorn.UC_X86_REG_RIP, Unicorn.UC_X86_REG_RFLAGS,
    };

    private final MemorySegment uc;
    private final Arena arena = Arena.ofShared();
    /** Guards {@link #closed} against {@link #kick()} from other threads. */
    private final Object lifecycle = new Object();
    private volatile boolean closed;
    /** {@link #KICK} and {@link #EXIT}: see {@link BlockStartStop}. */
    private final MemorySegment stopWord;
    /** Held while the guest runs: what makes a host thread's atomic atomic against the guest. */
    private final RunExclusion exclusion = new RunExclusion(this);

    // buffers: one set for the public accessors, one for the hooks (a handler may call an accessor)
    private final MemorySegment value;
    private final MemorySegment msr;
    private final MemorySegment mmr;
    private final MemorySegment hookValue;
    private final MemorySegment hookMsr;
    private final MemorySegment batchIds;
    private final MemorySegment batchPointers;
    private final MemorySegment batchValues;

    private final MemorySegment blockStub;
    private MemorySegment unbackedRead;
    private MemorySegment unbackedWrite;

    private PortHandler ports = PortHandler.EXIT_ON_OUT;
    private CpuidHandler cpuid = CpuidHandler.NONE;

    // what the hooks of the current run recorded (vCPU thread only)
    private final UnicornExit.Io io = new UnicornExit.Io();
    private final int[] ioPort = new int[IO_QUEUE];
    private final int[] ioSize = new int[IO_QUEUE];
    private final long[] ioValue = new long[IO_QUEUE];
    private int ioFirst;
    private int ioCount;
    /** The first exception, MSR write or hook failure of the run; reported after its port exits. */
    private UnicornExit pending;
    private int unmappedType;
    private long unmappedAddress;
    private int unmappedSize;
    private boolean emulating;

    // the MSR watch
    private int watchedMsr;
    private long watchedValue;
    private long blockHook;

    private UnicornCpu(MemorySegment uc) {
        this.uc = uc;
        try {
            stopWord = arena.allocate(JAVA_INT);
            value = arena.allocate(16, 16);
            msr = arena.allocate(Unicorn.UC_X86_MSR);
            mmr = arena.allocate(Unicorn.UC_X86_MMR);
            hookValue = arena.allocate(16, 16);
            hookMsr = arena.allocate(Unicorn.UC_X86_MSR);
            batchIds = arena.allocate(JAVA_INT, REG_IDS.length);
            batchValues = arena.allocate(JAVA_LONG, REG_IDS.length);
            batchPointers = arena.allocate(ADDRESS, REG_IDS.length);
            for (int i = 0; i < REG_IDS.length; i++) {
                batchIds.setAtIndex(JAVA_INT, i, REG_IDS[i]);
                batchPointers.setAtIndex(ADDRESS, i, batchValues.asSlice(8L * i, 8));
            }
            // Exits mechanism on, with no exits: uc_emu_start's "until" is ignored and only a hook,
            // hlt, an error or uc_emu_stop ends a run.
            Unicorn.check("uc_ctl(UC_CTL_UC_USE_EXITS)", Unicorn.ctl(uc, Unicorn.UC_CTL_WRITE_UC_USE_EXITS_1, 1));
            // First, so that it runs before any other block hook: every stop happens here.
            Unicorn.hookAdd(uc, Unicorn.UC_HOOK_BLOCK, BlockStartStop.callback(), stopWord, 1, 0);
            Unicorn.hookAddInsn(uc, stub("onOut", FunctionDescriptor.ofVoid(ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                    ADDRESS)), 1, 0, Unicorn.UC_X86_INS_OUT);
            Unicorn.hookAddInsn(uc, stub("onIn", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT,
                    ADDRESS)), 1, 0, Unicorn.UC_X86_INS_IN);
            Unicorn.hookAddInsn(uc, stub("onCpuid", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS)), 1, 0,
                    Unicorn.UC_X86_INS_CPUID);
            Unicorn.hookAdd(uc, Unicorn.UC_HOOK_INTR, stub("onInterrupt", FunctionDescriptor.ofVoid(ADDRESS,
                    JAVA_INT, ADDRESS)), 1, 0);
            Unicorn.hookAdd(uc, Unicorn.UC_HOOK_INSN_INVALID, stub("onInvalidInstruction",
                    FunctionDescriptor.of(JAVA_BOOLEAN, ADDRESS, ADDRESS)), 1, 0);
            Unicorn.hookAdd(uc, Unicorn.UC_HOOK_MEM_UNMAPPED, stub("onUnmapped", FunctionDescriptor.of(JAVA_BOOLEAN,
                    ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS)), 1, 0);
            blockStub = stub("onBlock", FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS));
        } catch (RuntimeException | Error e) {
            Unicorn.close(uc);
            arena.close();
            throw e;
        }
    }

    /** Why no engine can be opened here (the library is missing), or empty if one can. */
    public static Optional<String> unavailableReason() {
        return Unicorn.unavailableReason();
    }

    /**
     * Opens an engine in Unicorn's 64-bit reset state: 64-bit code, CR0 = PE|ET, paging off, EFER =
     * LME|LMA, all segments and tables zero, no memory. {@link #enterPvh} takes it to a PVH entry.
     *
     * @throws UnicornException if {@code libunicorn.so.2} is missing (saying what to install) or refuses
     */
    public static UnicornCpu open() {
        int version = Unicorn.version();
        if ((version >>> 24) != Unicorn.UC_API_MAJOR) {
            throw new UnicornException(Unicorn.LIBRARY + " has API " + (version >>> 24) + "." + ((version >>> 16) & 0xFF)
                    + "; this binding is written for " + Unicorn.UC_API_MAJOR + ".x: " + Unicorn.HOW_TO_INSTALL);
        }
        return new UnicornCpu(Unicorn.open(Unicorn.UC_ARCH_X86, Unicorn.UC_MODE_64));
    }

    /** The {@code uc_engine *}, for tests that measure raw Unicorn hooks. */
    MemorySegment engine() {
        return uc;
    }

    private MemorySegment stub(String method, FunctionDescriptor fd) {
        try {
            MethodHandle target = MethodHandles.lookup()
                    .findVirtual(UnicornCpu.class, method, fd.toMethodType())
                    .bindTo(this);
            return Unicorn.upcall(target, fd, arena);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    // ---- guest memory ----

    /**
     * {@code uc_mem_map_ptr}: guest-physical {@code [guestPhysAddr, + host.byteSize())} is {@code host},
     * read/write/execute. Page-aligned. {@code host} must stay mapped until {@link #unmap} or
     * {@link #close()}.
     */
    public void mapRam(long guestPhysAddr, MemorySegment host) {
        notEmulating();
        checkPages(guestPhysAddr, host.byteSize());
        if (!host.isNative() || host.address() % 4096 != 0) {
            throw new IllegalArgumentException("guest RAM must be page-aligned native memory");
        }
        Unicorn.check("uc_mem_map_ptr", Unicorn.memMapPtr(uc, guestPhysAddr, host.byteSize(), Unicorn.UC_PROT_ALL,
                host));
    }

    /**
     * {@code uc_mmio_map}: guest-physical {@code [guestPhysAddr, + size)} has nothing behind it: reads
     * return all-ones and writes are dropped, as on KVM for an address with no memory slot. Without
     * it such an access stops the guest with an {@link UnicornExit.Error} ({@code UC_ERR_READ_UNMAPPED}).
     */
    public void mapUnbacked(long guestPhysAddr, long size) {
        notEmulating();
        checkPages(guestPhysAddr, size);
        if (unbackedRead == null) {
            unbackedRead = stub("onUnbackedRead", FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG, JAVA_INT,
                    ADDRESS));
            unbackedWrite = stub("onUnbackedWrite", FunctionDescriptor.ofVoid(ADDRESS, JAVA_LONG, JAVA_INT,
                    JAVA_LONG, ADDRESS));
        }
        Unicorn.check("uc_mmio_map", Unicorn.mmioMap(uc, guestPhysAddr, size, unbackedRead, unbackedWrite));
    }

    /** Memory Unicorn allocates and owns (zero-filled), for the VMM's own pages outside guest RAM. */
    void mapScratch(long guestPhysAddr, long size) {
        notEmulating();
        checkPages(guestPhysAddr, size);
        Unicorn.check("uc_mem_map", Unicorn.memMap(uc, guestPhysAddr, size, Unicorn.UC_PROT_ALL));
    }

    /** {@code uc_mem_unmap}: removes a range mapped by {@link #mapRam} or {@link #mapUnbacked}. */
    public void unmap(long guestPhysAddr, long size) {
        notEmulating();
        checkPages(guestPhysAddr, size);
        Unicorn.check("uc_mem_unmap", Unicorn.memUnmap(uc, guestPhysAddr, size));
    }

    private static void checkPages(long address, long size) {
        if ((address & 0xFFF) != 0 || (size & 0xFFF) != 0 || size <= 0) {
            throw new IllegalArgumentException("not whole pages: address " + Long.toHexString(address) + " size "
                    + Long.toHexString(size));
        }
    }

    /** {@code uc_mem_read}: guest-physical bytes into {@code dst}. */
    public void readPhys(long guestPhysAddr, MemorySegment dst) {
        Unicorn.check("uc_mem_read", Unicorn.memRead(uc, guestPhysAddr, dst, dst.byteSize()));
    }

    /**
     * {@code uc_mem_write}: {@code src} to guest-physical memory. Like a write through the host
     * mapping, it does not invalidate translated code: call {@link #flushTranslations()} after
     * writing code the guest may already have run.
     */
    public void writePhys(long guestPhysAddr, MemorySegment src) {
        notEmulating();
        Unicorn.check("uc_mem_write", Unicorn.memWrite(uc, guestPhysAddr, src, src.byteSize()));
    }

    /**
     * Drops every translated block ({@code UC_CTL_TB_FLUSH}): needed after the host writes guest code
     * (the hypercall page) the guest may have run, and after adding a block or code hook.
     */
    public void flushTranslations() {
        notEmulating();
        Unicorn.check("uc_ctl(UC_CTL_TB_FLUSH)", Unicorn.ctl(uc, Unicorn.UC_CTL_WRITE_UC_TB_FLUSH_0));
    }

    /**
     * Drops the translated blocks of {@code [linearAddr, + size)} ({@code uc_ctl_remove_cache}). The
     * address is linear (translated through the guest's current page tables), not physical.
     */
    public void invalidateTranslations(long linearAddr, long size) {
        notEmulating();
        Unicorn.check("uc_ctl(UC_CTL_TB_REMOVE_CACHE)",
                Unicorn.ctl(uc, Unicorn.UC_CTL_WRITE_UC_TB_REMOVE_CACHE_2, linearAddr, linearAddr + size));
    }

    // ---- handlers ----

    /** Who answers port I/O from now on (default {@link PortHandler#EXIT_ON_OUT}). Not during a run. */
    public void setPortHandler(PortHandler handler) {
        notEmulating();
        ports = Objects.requireNonNull(handler);
    }

    /** Who answers {@code cpuid} from now on (default {@link CpuidHandler#NONE}). Not during a run. */
    public void setCpuidHandler(CpuidHandler handler) {
        notEmulating();
        cpuid = Objects.requireNonNull(handler);
    }

    // ---- running ----

    /**
     * Runs the guest from its current RIP until it needs the VMM. Exits a block queued (further
     * {@code out}s, then an exception) are returned by the following calls before the guest runs
     * again. Allocation-free for {@link UnicornExit.Io}, {@link UnicornExit.Hlt} and
     * {@link UnicornExit.Stopped}.
     */
    public UnicornExit run() {
        if (ioCount > 0) {
            return nextIo();
        }
        if (pending != null) {
            return takePending();
        }
        if (closed) {
            throw new IllegalStateException("UnicornCpu is closed");
        }
        if (takeKick()) {
            return UnicornExit.Stopped.INSTANCE;
        }
        long rip = reg(Reg.RIP);
        unmappedSize = 0;
        int error;
        exclusion.beginRun();
        emulating = true;
        try {
            error = Unicorn.emuStart(uc, rip, 0, 0, 0);
        } finally {
            emulating = false;
            exclusion.endRun();
            STOP_BYTE.setVolatile(stopWord, EXIT, (byte) 0);
        }
        if (error != UC_ERR_OK && pending == null) {
            pending = new UnicornExit.Error(error, emuStartFailure(error), null);
        }
        if (ioCount > 0) {
            return nextIo();
        }
        if (pending != null) {
            return takePending();
        }
        if (blockHook != 0) {
            long now = readMsr(msr, watchedMsr);
            if (now != watchedValue) {
                watchedValue = now;
                return new UnicornExit.MsrWrite(watchedMsr, now);
            }
        }
        if (takeKick()) {
            return UnicornExit.Stopped.INSTANCE;
        }
        return UnicornExit.Hlt.INSTANCE;
    }

    /** Consumes a pending kick. */
    private boolean takeKick() {
        if ((byte) STOP_BYTE.getVolatile(stopWord, KICK) == 0) {
            return false;
        }
        STOP_BYTE.setVolatile(stopWord, KICK, (byte) 0);
        return true;
    }

    private UnicornExit.Io nextIo() {
        int i = ioFirst;
        io.set(ioPort[i], ioSize[i], ioValue[i]);
        ioFirst = (i + 1) % IO_QUEUE;
        ioCount--;
        return io;
    }

    private UnicornExit takePending() {
        UnicornExit exit = pending;
        pending = null;
        return exit;
    }

    private String emuStartFailure(int error) {
        StringBuilder s = new StringBuilder(Unicorn.failure("uc_emu_start", error).getMessage());
        if (unmappedSize != 0) {
            s.append(switch (unmappedType) {
                case Unicorn.UC_MEM_WRITE_UNMAPPED -> " writing ";
                case Unicorn.UC_MEM_FETCH_UNMAPPED -> " fetching ";
                default -> " reading ";
            }).append(unmappedSize).append(" bytes at 0x").append(Long.toHexString(unmappedAddress))
                    .append(" (guest-physical, no memory mapped there)");
        }
        s.append(", rip 0x").append(Long.toHexString(reg(Reg.RIP)));
        if (unmappedType != Unicorn.UC_MEM_FETCH_UNMAPPED) {
            s.append(" (the start of the translated block)");
        }
        return s.toString();
    }

    /**
     * Makes the current {@link #run()} return {@link UnicornExit.Stopped} at the start of the next
     * translated block (microseconds; a block has at most 512 instructions), or, if none is running,
     * the next {@code run()} at once. Thread-safe; set your own stop flag first and check it on every
     * exit.
     *
     * <p>How: it sets a byte that {@link BlockStartStop}'s native block hook checks; it never calls
     * {@code uc_emu_stop} from this thread, which in Unicorn 2.0.1 can corrupt the guest (see there).
     * The byte stays set until a {@code run()} returns {@code Stopped}, so no kick is lost.
     */
    public void kick() {
        synchronized (lifecycle) {
            if (!closed) {
                STOP_BYTE.setVolatile(stopWord, KICK, (byte) 1);
            }
        }
    }

    /**
     * How a host thread must change a word of guest memory that the guest changes with {@code lock}ed
     * instructions (event bits, grant flags): Unicorn runs QEMU's TCG without {@code CF_PARALLEL}, so
     * the guest's {@code lock btr} is a load then a store, and a host atomic between the two is lost.
     * These operations wait until the guest is between instructions: {@link #run()} holds their lock
     * only while inside {@code uc_emu_start}, and they {@link #kick()} a running guest to get it (see
     * {@link RunExclusion}). A hook operates directly; the vCPU thread between runs never waits for a guest.
     */
    public GuestAtomics guestAtomics() {
        return exclusion;
    }

    // ---- the MSR watch ----

    /**
     * From now on, a change of MSR {@code index} (by the guest's {@code wrmsr}) ends the run with an
     * {@link UnicornExit.MsrWrite}, before the next translated block runs. Unicorn 2.0.1 cannot hook
     * {@code wrmsr}: this reads the MSR at the start of every block (a {@code UC_HOOK_BLOCK}), which
     * slows the guest while armed; arm it until the write is seen (for the hypercall page: from
     * power-on, and again whenever the guest reads CPUID 0x40000002), then {@link #unwatchMsr()}.
     *
     * @param index an MSR Unicorn's CPU keeps, such as {@link #MSR_VM_HSAVE_PA}
     * @throws IllegalArgumentException if Unicorn drops writes to {@code index} (it could never change)
     */
    public void watchMsr(int index) {
        notEmulating();
        long original = msr(index);
        setMsr(index, original ^ 0x1000);
        boolean kept = msr(index) == (original ^ 0x1000);
        setMsr(index, original);
        if (!kept) {
            throw new IllegalArgumentException("MSR 0x" + Integer.toHexString(index) + " is not kept by Unicorn's"
                    + " CPU (a wrmsr to it is dropped), so a write to it cannot be seen; use one it keeps, e.g."
                    + " MSR_VM_HSAVE_PA 0xc0010117");
        }
        unwatchMsr();
        watchedMsr = index;
        watchedValue = original;
        blockHook = Unicorn.hookAdd(uc, Unicorn.UC_HOOK_BLOCK, blockStub, 1, 0);
        flushTranslations(); // blocks translated before the hook existed would not call it
    }

    /** Stops {@link #watchMsr watching}; the guest runs at full speed again. */
    public void unwatchMsr() {
        notEmulating();
        if (blockHook != 0) {
            Unicorn.check("uc_hook_del", Unicorn.hookDel(uc, blockHook));
            blockHook = 0;
            flushTranslations(); // translated blocks still call into the (now empty) hook list
        }
    }

    // ---- registers ----

    /** A general register, RIP or RFLAGS. Usable inside a handler. */
    public long reg(Reg r) {
        Unicorn.check("uc_reg_read", Unicorn.regRead(uc, REG_IDS[r.ordinal()], value));
        return value.get(JAVA_LONG, 0);
    }

    /**
     * Sets a general register (usable inside a handler), RIP or RFLAGS (only between runs: a RIP
     * written inside a handler is overwritten by the rest of the block).
     */
    public void setReg(Reg r, long v) {
        if (r == Reg.RIP || r == Reg.RFLAGS) {
            notEmulating();
        }
        value.set(JAVA_LONG, 0, v);
        Unicorn.check("uc_reg_write", Unicorn.regWrite(uc, REG_IDS[r.ordinal()], value));
    }

    /** All general registers, RIP and RFLAGS, in one {@code uc_reg_read_batch}. */
    public Regs regs() {
        Unicorn.check("uc_reg_read_batch", Unicorn.regReadBatch(uc, batchIds, batchPointers, REG_IDS.length));
        long[] v = batchValues.toArray(JAVA_LONG);
        return new Regs(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
                v[14], v[15], v[16], v[17]);
    }

    /** Sets all general registers, RIP and RFLAGS in one {@code uc_reg_write_batch}. Not during a run. */
    public void setRegs(Regs regs) {
        notEmulating();
        for (Reg r : Reg.values()) {
            batchValues.setAtIndex(JAVA_LONG, r.ordinal(), regs.get(r));
        }
        Unicorn.check("uc_reg_write_batch", Unicorn.regWriteBatch(uc, batchIds, batchPointers, REG_IDS.length));
    }

    public long cr0() {
        return control(Unicorn.UC_X86_REG_CR0);
    }

    public long cr2() {
        return control(Unicorn.UC_X86_REG_CR2);
    }

    public long cr3() {
        return control(Unicorn.UC_X86_REG_CR3);
    }

    public long cr4() {
        return control(Unicorn.UC_X86_REG_CR4);
    }

    /** Sets CR0 as {@code mov %reg,%cr0} would (QEMU's mode switch logic runs). Not during a run. */
    public void setCr0(long v) {
        setControl(Unicorn.UC_X86_REG_CR0, v);
    }

    public void setCr2(long v) {
        setControl(Unicorn.UC_X86_REG_CR2, v);
    }

    public void setCr3(long v) {
        setControl(Unicorn.UC_X86_REG_CR3, v);
    }

    public void setCr4(long v) {
        setControl(Unicorn.UC_X86_REG_CR4, v);
    }

    private long control(int id) {
        Unicorn.check("uc_reg_read", Unicorn.regRead(uc, id, value));
        return value.get(JAVA_LONG, 0);
    }

    private void setControl(int id, long v) {
        notEmulating();
        value.set(JAVA_LONG, 0, v);
        Unicorn.check("uc_reg_write", Unicorn.regWrite(uc, id, value));
    }

    /** EFER, LMA included. */
    public long efer() {
        return msr(MSR_EFER);
    }

    /** Sets EFER's writable bits (SCE, LME, NXE, ...; LMA follows CR0.PG). Not during a run. */
    public void setEfer(long v) {
        setMsr(MSR_EFER, v);
    }

    /**
     * An MSR as {@code rdmsr} reads it; 0 for one Unicorn's CPU does not know. Unicorn's
     * {@code rdmsr} cannot fault outside an SVM guest, which the guest cannot enter if CPUID hides SVM.
     */
    public long msr(int index) {
        return readMsr(msr, index);
    }

    /** An MSR as {@code wrmsr} writes it: silently dropped for one Unicorn's CPU does not keep. Not during a run. */
    public void setMsr(int index, long v) {
        notEmulating();
        msr.set(JAVA_INT, Unicorn.MSR_RID, index);
        msr.set(JAVA_LONG, Unicorn.MSR_VALUE, v);
        Unicorn.check("uc_reg_write(UC_X86_REG_MSR)", Unicorn.regWrite(uc, Unicorn.UC_X86_REG_MSR, msr));
    }

    private long readMsr(MemorySegment buffer, int index) {
        buffer.set(JAVA_INT, Unicorn.MSR_RID, index);
        buffer.set(JAVA_LONG, Unicorn.MSR_VALUE, 0);
        Unicorn.check("uc_reg_read(UC_X86_REG_MSR)", Unicorn.regRead(uc, Unicorn.UC_X86_REG_MSR, buffer));
        return buffer.get(JAVA_LONG, Unicorn.MSR_VALUE);
    }

    public DTable gdt() {
        return table(Unicorn.UC_X86_REG_GDTR);
    }

    public DTable idt() {
        return table(Unicorn.UC_X86_REG_IDTR);
    }

    /** Sets GDTR (base, limit), as {@code lgdt}. Not during a run. */
    public void setGdt(DTable t) {
        setTable(Unicorn.UC_X86_REG_GDTR, t);
    }

    /** Sets IDTR (base, limit), as {@code lidt}. Not during a run. */
    public void setIdt(DTable t) {
        setTable(Unicorn.UC_X86_REG_IDTR, t);
    }

    private DTable table(int id) {
        mmr.fill((byte) 0);
        Unicorn.check("uc_reg_read", Unicorn.regRead(uc, id, mmr));
        return new DTable(mmr.get(JAVA_LONG, Unicorn.MMR_BASE), mmr.get(JAVA_INT, Unicorn.MMR_LIMIT) & 0xFFFF);
    }

    private void setTable(int id, DTable t) {
        notEmulating();
        mmr.fill((byte) 0);
        mmr.set(JAVA_LONG, Unicorn.MMR_BASE, t.base());
        mmr.set(JAVA_INT, Unicorn.MMR_LIMIT, t.limit());
        Unicorn.check("uc_reg_write", Unicorn.regWrite(uc, id, mmr));
    }

    /**
     * A segment register's selector. Unicorn 2.0.1 exposes no hidden part (base, limit, CS.L/D) for
     * CS, DS, ES, SS: decode the descriptor from the guest's GDT if you need it.
     */
    public int selector(SegmentRegister r) {
        int id = switch (r) {
            case CS -> Unicorn.UC_X86_REG_CS;
            case DS -> Unicorn.UC_X86_REG_DS;
            case ES -> Unicorn.UC_X86_REG_ES;
            case FS -> Unicorn.UC_X86_REG_FS;
            case GS -> Unicorn.UC_X86_REG_GS;
            case SS -> Unicorn.UC_X86_REG_SS;
            case TR -> Unicorn.UC_X86_REG_TR;
            case LDT -> Unicorn.UC_X86_REG_LDTR;
        };
        if (r == SegmentRegister.TR || r == SegmentRegister.LDT) {
            mmr.fill((byte) 0);
            Unicorn.check("uc_reg_read", Unicorn.regRead(uc, id, mmr));
            return Short.toUnsignedInt(mmr.get(JAVA_SHORT, Unicorn.MMR_SELECTOR));
        }
        value.set(JAVA_LONG, 0, 0);
        Unicorn.check("uc_reg_read", Unicorn.regRead(uc, id, value));
        return Short.toUnsignedInt(value.get(JAVA_SHORT, 0));
    }

    /** TR's hidden part, as {@code ltr} would load it ({@code flags}: QEMU's descriptor flags). */
    void setTr(int selector, long base, int limit, int flags) {
        notEmulating();
        mmr.fill((byte) 0);
        mmr.set(JAVA_SHORT, Unicorn.MMR_SELECTOR, (short) selector);
        mmr.set(JAVA_LONG, Unicorn.MMR_BASE, base);
        mmr.set(JAVA_INT, Unicorn.MMR_LIMIT, limit);
        mmr.set(JAVA_INT, Unicorn.MMR_FLAGS, flags);
        Unicorn.check("uc_reg_write", Unicorn.regWrite(uc, Unicorn.UC_X86_REG_TR, mmr));
    }

    /** TR's hidden flags (QEMU's descriptor flags: type at bit 8, P at bit 15). */
    int trFlags() {
        mmr.fill((byte) 0);
        Unicorn.check("uc_reg_read", Unicorn.regRead(uc, Unicorn.UC_X86_REG_TR, mmr));
        return mmr.get(JAVA_INT, Unicorn.MMR_FLAGS);
    }

    // ---- the PVH entry ----

    /**
     * Takes a freshly {@link #open() opened} engine to Xen's PVH entry state: 32-bit flat protected
     * mode, paging off, CR4 and EFER zero, CS 0x08 (32-bit code), DS/ES/FS/GS/SS 0x10 (flat data),
     * TR a busy 32-bit TSS (base 0, limit 0x67), GDTR (0, 0), RIP = {@code entry}, RBX =
     * {@code startInfo}, every other register zero, RFLAGS 2. Unicorn cannot start there (a
     * {@code UC_MODE_32} engine can never enter long mode); {@link PvhEntryStub} gets there by running
     * a few instructions from a scratch mapping at 0xffffc000 (16 KiB), which is removed
     * afterwards: guest RAM is untouched. The scratch range must not be mapped yet.
     */
    public void enterPvh(long entry, long startInfo) {
        PvhEntryStub.enter(this, entry, startInfo);
    }

    // ---- hooks (FFM upcalls: never throw) ----

    private void onOut(MemorySegment engine, int port, int size, int data, MemorySegment userData) {
        try {
            long v = Integer.toUnsignedLong(data) & mask(size);
            if (!ports.out(port, size, v)) {
                queueIo(port, size, v);
            }
        } catch (Throwable t) {
            hookFailed("the port handler (out to port 0x" + Integer.toHexString(port) + ")", t, true);
        }
    }

    private void queueIo(int port, int size, long v) {
        if (ioCount == IO_QUEUE) {
            hookFailed("the out hook", new IllegalStateException("more than " + IO_QUEUE
                    + " port exits in one translated block"), true);
            return;
        }
        int i = (ioFirst + ioCount) % IO_QUEUE;
        ioPort[i] = port;
        ioSize[i] = size;
        ioValue[i] = v;
        ioCount++;
        stopAtNextBlock();
    }

    /**
     * From an instruction hook (in the middle of a block): end the run when the block has run to
     * its end. Never {@code uc_emu_stop} there (see {@link BlockStartStop}).
     */
    private void stopAtNextBlock() {
        STOP_BYTE.setVolatile(stopWord, EXIT, (byte) 1);
    }

    private int onIn(MemorySegment engine, int port, int size, MemorySegment userData) {
        try {
            return (int) (ports.in(port, size) & mask(size));
        } catch (Throwable t) {
            hookFailed("the port handler (in from port 0x" + Integer.toHexString(port) + ")", t, true);
            return (int) mask(size);
        }
    }

    private int onCpuid(MemorySegment engine, MemorySegment userData) {
        try {
            int leaf = (int) hookReg(Unicorn.UC_X86_REG_RAX);
            int subleaf = (int) hookReg(Unicorn.UC_X86_REG_RCX);
            CpuidEntry answer = cpuid.cpuid(leaf, subleaf);
            if (answer == null) {
                return 0;
            }
            // cpuid writes 32-bit results, zero-extended in 64-bit mode
            hookSetReg(Unicorn.UC_X86_REG_RAX, Integer.toUnsignedLong(answer.eax()));
            hookSetReg(Unicorn.UC_X86_REG_RBX, Integer.toUnsignedLong(answer.ebx()));
            hookSetReg(Unicorn.UC_X86_REG_RCX, Integer.toUnsignedLong(answer.ecx()));
            hookSetReg(Unicorn.UC_X86_REG_RDX, Integer.toUnsignedLong(answer.edx()));
            return 1; // handled: Unicorn skips its own cpuid
        } catch (Throwable t) {
            hookFailed("the cpuid handler", t, true);
            return 0;
        }
    }

    private void onInterrupt(MemorySegment engine, int vector, MemorySegment userData) {
        try {
            record(new UnicornExit.Exception(vector, hookReg(Unicorn.UC_X86_REG_RIP)));
        } catch (Throwable t) {
            hookFailed("the interrupt hook", t, false);
        }
    }

    private boolean onInvalidInstruction(MemorySegment engine, MemorySegment userData) {
        try {
            record(new UnicornExit.Exception(UnicornExit.Exception.UD, hookReg(Unicorn.UC_X86_REG_RIP)));
        } catch (Throwable t) {
            hookFailed("the invalid-instruction hook", t, false);
        }
        return true; // handled: uc_emu_start returns UC_ERR_OK, RIP at the instruction
    }

    private boolean onUnmapped(MemorySegment engine, int type, long address, int size, long data,
                               MemorySegment userData) {
        unmappedType = type;
        unmappedAddress = address;
        unmappedSize = size;
        return false; // not handled: Unicorn stops with UC_ERR_*_UNMAPPED
    }

    private void onBlock(MemorySegment engine, long address, int size, MemorySegment userData) {
        try {
            long now = readMsr(hookMsr, watchedMsr);
            if (now != watchedValue) {
                watchedValue = now;
                record(new UnicornExit.MsrWrite(watchedMsr, now));
            }
        } catch (Throwable t) {
            hookFailed("the MSR watch", t, false);
        }
    }

    private long onUnbackedRead(MemorySegment engine, long offset, int size, MemorySegment userData) {
        return -1L;
    }

    private void onUnbackedWrite(MemorySegment engine, long offset, int size, long data, MemorySegment userData) {
        // dropped
    }

    /**
     * Records the run's exit (the first one wins) and stops the engine. Only from an exception hook
     * (the block was left, its state restored) or a block hook (before the block runs): there
     * {@code uc_emu_stop} is exact.
     */
    private void record(UnicornExit exit) {
        if (pending == null) {
            pending = exit;
        }
        Unicorn.emuStop(uc);
    }

    /**
     * A handler or hook threw: report it and stop ({@code midBlock}: from an instruction hook, so at
     * the next block start). Must not throw itself.
     */
    private void hookFailed(String what, Throwable t, boolean midBlock) {
        try {
            if (pending == null) {
                pending = new UnicornExit.Error(UC_ERR_OK, what + " threw " + t, t);
            }
        } catch (Throwable ignored) {
            // out of memory: the stop below still ends the run (reported as Hlt at worst)
        }
        try {
            if (midBlock) {
                stopAtNextBlock();
            } else {
                Unicorn.emuStop(uc);
            }
        } catch (Throwable ignored) {
            // cannot happen (both only set flags); never let it cross the native frame
        }
    }

    private long hookReg(int id) {
        Unicorn.check("uc_reg_read", Unicorn.regRead(uc, id, hookValue));
        return hookValue.get(JAVA_LONG, 0);
    }

    private void hookSetReg(int id, long v) {
        hookValue.set(JAVA_LONG, 0, v);
        Unicorn.check("uc_reg_write", Unicorn.regWrite(uc, id, hookValue));
    }

    private static long mask(int size) {
        return size >= 8 ? -1L : (1L << (8 * size)) - 1;
    }

    private void notEmulating() {
        if (emulating) {
            throw new IllegalStateException("not allowed inside a handler, while the guest runs");
        }
        if (closed) {
            throw new IllegalStateException("UnicornCpu is closed");
        }
    }

    /** {@code uc_close}. Not while {@link #run()} runs; guest RAM mapped with {@link #mapRam} stays the caller's. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            if (emulating) {
                throw new IllegalStateException("close() inside a handler");
            }
            closed = true;
        }
        Unicorn.close(uc);
        arena.close();
    }
}
