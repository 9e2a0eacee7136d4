package xenshim.x86.unicorn;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import xenshim.x86.cpu.CpuExit;
import xenshim.x86.cpu.CpuidLeaf;
import xenshim.x86.cpu.Reg;
import xenshim.x86.cpu.RegisterDump;
import xenshim.x86.cpu.VirtualCpu;
import xenshim.x86.kvm.CpuidEntry;
import xenshim.x86.kvm.DTable;
import xenshim.x86.kvm.Regs;
import xenshim.x86.kvm.SegmentRegister;

/**
 * The software CPU's vCPU behind the backend seam. Port writes and the
 * hypercall-page MSR are exits as on KVM; a CPU exception is not: Unicorn
 * delivers none through the guest's IDT, so one ends the run with a
 * {@link CpuExit.Failure} naming the vector and RIP, never a guess at what
 * the guest would have done.
 */
final class UnicornVcpu implements VirtualCpu {


    private static final long EFER_LMA = 1L << 10;
    private static final long CR0_PE = 1L;
    private static final long DESCRIPTOR_L = 1L << 53;
    private static final long RFLAGS_TF = 1L << 8;
    private static final long RFLAGS_IF = 1L << 9;
    private static final long RFLAGS_NT = 1L << 14;
    private static final long RFLAGS_RF = 1L << 16;
    private static final String[] VECTORS = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "", "#TS",
        "#NP", "#SS", "#GP", "#PF", "", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};

    private final UnicornCpu cpu;
    /** Made on the first {@link #tsc()}, on the vCPU's thread. */
    private HostTsc hostTsc;
    private final int id;
    private final int hypercallMsr;
    /** Whether the MSR watch (a block hook: it slows the guest) is armed. */
    private boolean watching;
    /** The guest read CPUID 0x40000002 (set inside the CPUID hook): it may write the MSR again, so watch it. */
    private volatile boolean watchRequested = true;
    private final IoView io = new IoView();
    private final MsrWriteView msrWrite = new MsrWriteView();
    private final MemorySegment descriptor = Arena.ofAuto().allocate(8);
    private final MemorySegment gate = Arena.ofAuto().allocate(16);
    private final MemorySegment frame = Arena.ofAuto().allocate(40);
    /** A failure to report at the next run: an exception this CPU cannot inject (#GP for a refused MSR write). */
    private String failNext;

    /**
     * @param cpuid        what the guest's CPUID shows of xenshim's (Xen's leaves); the rest is
     *                     Unicorn's own CPU model, and any other hypervisor leaf reads as zeros
     * @param hypercallMsr the MSR CPUID 0x40000002 names: watched from power-on until the guest
     *                     writes it, and again whenever the guest reads that leaf
     */
    UnicornVcpu(UnicornCpu cpu, int id, List<CpuidLeaf> cpuid, int hypercallMsr) {
        this.cpu = cpu;
        this.id = id;
        this.hypercallMsr = hypercallMsr;
        cpu.setCpuidHandler((leaf, subleaf) -> answer(cpuid, leaf, subleaf));
    }

    private CpuidEntry answer(List<CpuidLeaf> cpuid, int leaf, int subleaf) {
        if (leaf == 0x4000_0002) {
            watchRequested = true;
        }
        for (CpuidLeaf l : cpuid) {
            if (l.function() == leaf && (!l.significantIndex() || l.index() == subleaf)) {
                return new CpuidEntry(leaf, subleaf, 0, l.eax(), l.ebx(), l.ecx(), l.edx());
            }
        }
        if ((leaf & 0xF000_0000) == 0x4000_0000) {
            return new CpuidEntry(leaf, subleaf, 0, 0, 0, 0, 0);
        }
        return null;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public CpuExit run() {
        if (failNext != null) {
            String what = failNext;
            failNext = null;
            return new CpuExit.Failure(what);
        }
        if (watchRequested && !watching) {
            cpu.watchMsr(hypercallMsr);
            watching = true;
        }
        watchRequested = false;
        UnicornExit exit = cpu.run();
        return switch (exit) {
            case UnicornExit.Io out -> io.of(out);
            case UnicornExit.MsrWrite write -> {
                cpu.unwatchMsr(); // seen: the guest runs at full speed until it reads the leaf again
                watching = false;
                yield msrWrite.of(write);
            }
            case UnicornExit.Hlt hlt -> CpuExit.Halted.INSTANCE;
            case UnicornExit.Stopped stopped -> CpuExit.Kicked.INSTANCE;
            case UnicornExit.Exception e -> new CpuExit.Failure("the guest took exception " + e.vector()
                    + (e.vector() < VECTORS.length && !VECTORS[e.vector()].isEmpty() ? " (" + VECTORS[e.vector()] + ")" : "")
                    + " at rip 0x" + Long.toHexString(e.rip())
                    + (e.vector() == UnicornExit.Exception.PF ? ", cr2 0x" + Long.toHexString(cpu.cr2()) : "")
                    + ", which the software CPU cannot deliver through the guest's IDT");
            case UnicornExit.Error error -> new CpuExit.Failure("the software CPU stopped: " + error.message());
        };
    }

    @Override
    public long reg(Reg register) {
        return cpu.reg(register);
    }

    @Override
    public void setReg(Reg register, long value) {
        cpu.setReg(register, value);
    }

    @Override
    public long cr0() {
        return cpu.cr0();
    }

    @Override
    public long cr3() {
        return cpu.cr3();
    }

    @Override
    public long cr4() {
        return cpu.cr4();
    }

    @Override
    public long efer() {
        return cpu.efer();
    }

    /**
     * CS.L, from the descriptor CS names in the GDT: Unicorn does not expose the hidden part of CS.
     * The GDT's base is linear; Unicorn 2.0.1 runs only guests whose page tables map linear to
     * the same physical address (see the package comment), so it is read as guest-physical.
     */
    @Override
    public boolean csLong() {
        if ((cpu.efer() & EFER_LMA) == 0) {
            return false;
        }
        DTable gdt = cpu.gdt();
        int index = cpu.selector(SegmentRegister.CS) & ~7;
        if (index == 0 || index + 7 > gdt.limit()) {
            return false;
        }
        try {
            cpu.readPhys(gdt.base() + index, descriptor);
        } catch (UnicornException e) {
            return false;
        }
        return (descriptor.get(JAVA_LONG, 0) & DESCRIPTOR_L) != 0;
    }

    /** The RPL of CS, which is the CPL outside the moment of a far transfer. */
    @Override
    public int cpl() {
        return cpu.selector(SegmentRegister.CS) & 3;
    }

    @Override
    public String describeRegisters() {
        try {
            Regs r = cpu.regs();
            long efer = cpu.efer();
            long cr0 = cpu.cr0();
            String mode = (efer & EFER_LMA) != 0 ? (csLong() ? "64-bit" : "compat")
                    : (cr0 & CR0_PE) != 0 ? "protected" : "real";
            DTable gdt = cpu.gdt();
            DTable idt = cpu.idt();
            return RegisterDump.format(r::get, mode, cpl(), cr0, cpu.cr2(), cpu.cr3(), cpu.cr4(), efer,
                    String.format("cs=%04x  ss=%04x  idt=%x/%x  gdt=%x/%x", cpu.selector(SegmentRegister.CS),
                            cpu.selector(SegmentRegister.SS), idt.base(), idt.limit(), gdt.base(), gdt.limit()));
        } catch (RuntimeException e) {
            return "  (registers unavailable: " + e.getMessage() + ")";
        }
    }

    /** Translations of code the VMM rewrote (the hypercall page) must go. */
    @Override
    public void guestCodeWritten() {
        cpu.flushTranslations();
    }

    /**
     * Delivers an external interrupt as the CPU does for a 64-bit guest at CPL 0 through an
     * interrupt or trap gate without IST: the frame (SS, RSP, RFLAGS, CS, RIP) pushed on the
     * 16-byte-aligned stack, IF (interrupt gate), TF, NT and RF cleared, RIP at the gate's
     * handler. Unicorn has no interrupt controller and cannot do it itself. Anything else (not
     * 64-bit, CPL 3, a gate that is absent, uses IST or names another code segment) is not
     * delivered exactly here, so the next {@link #run()} stops the guest saying so. With IF clear it
     * answers false: Unicorn has no interrupt-window exit, so the vCPU loop retries on a timer.
     */
    @Override
    public boolean injectInterrupt(int vector) {
        long rflags = cpu.reg(Reg.RFLAGS);
        if ((rflags & RFLAGS_IF) == 0) {
            return false;
        }
        String refused = deliver(vector, rflags);
        if (refused != null) {
            failNext = "interrupt vector " + vector + " cannot be delivered by the software CPU: " + refused;
        }
        return true;
    }

    private String deliver(int vector, long rflags) {
        if ((cpu.efer() & EFER_LMA) == 0 || !csLong()) {
            return "the guest is not in 64-bit mode";
        }
        int cs = cpu.selector(SegmentRegister.CS);
        if ((cs & 3) != 0) {
            return "the guest is at CPL " + (cs & 3);
        }
        DTable idt = cpu.idt();
        long at = (long) vector * 16;
        if (at + 15 > idt.limit()) {
            return "vector beyond the IDT limit 0x" + Integer.toHexString(idt.limit());
        }
        try {
            cpu.readPhys(idt.base() + at, gate);
        } catch (UnicornException e) {
            return "the IDT at 0x" + Long.toHexString(idt.base()) + " cannot be read";
        }
        long low = gate.get(JAVA_LONG, 0);
        long high = gate.get(JAVA_LONG, 8);
        int type = (int) (low >>> 40) & 0x1F;
        boolean present = ((low >>> 47) & 1) != 0;
        int ist = (int) (low >>> 32) & 7;
        int selector = (int) (low >>> 16) & 0xFFFF;
        if (!present || (type != 0x0E && type != 0x0F)) {
            return "IDT entry " + vector + " is not a present interrupt or trap gate";
        }
        if (ist != 0) {
            return "IDT entry " + vector + " uses IST " + ist;
        }
        if (selector != cs) {
            return "IDT entry " + vector + " names code segment 0x" + Integer.toHexString(selector)
                    + ", not the current 0x" + Integer.toHexString(cs);
        }
        long handler = (low & 0xFFFF) | ((low >>> 32) & 0xFFFF_0000L) | (high << 32);
        long rsp = cpu.reg(Reg.RSP);
        long top = (rsp & ~0xFL) - 40;
        frame.set(JAVA_LONG, 0, cpu.reg(Reg.RIP));
        frame.set(JAVA_LONG, 8, cs);
        frame.set(JAVA_LONG, 16, rflags);
        frame.set(JAVA_LONG, 24, rsp);
        frame.set(JAVA_LONG, 32, cpu.selector(SegmentRegister.SS));
        try {
            cpu.writePhys(top, frame); // the stack's linear address: identity-mapped, as Unicorn 2.0.1 needs
        } catch (UnicornException e) {
            return "the stack at 0x" + Long.toHexString(top) + " cannot be written";
        }
        cpu.setReg(Reg.RSP, top);
        cpu.setReg(Reg.RIP, handler);
        cpu.setReg(Reg.RFLAGS, rflags & ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | (type == 0x0E ? RFLAGS_IF : 0)));
        return null;
    }

    /** Unicorn's guest {@code rdtsc} reads the host's TSC; see {@link HostTsc}. */
    @Override
    public long tsc() {
        if (hostTsc == null) {
            hostTsc = new HostTsc();
        }
        return hostTsc.read();
    }

    @Override
    public void kick() {
        cpu.kick();
    }

    @Override
    public void close() {
        try {
            cpu.close();
        } finally {
            if (hostTsc != null) {
                hostTsc.close();
            }
        }
    }

    /** An {@code out} as the loop sees port I/O: reused, one item, never an {@code in} (those are answered in the hook). */
    private static final class IoView implements CpuExit.Io {
        private UnicornExit.Io out;

        IoView of(UnicornExit.Io exit) {
            this.out = exit;
            return this;
        }

        @Override
        public boolean isIn() {
            return false;
        }

        @Override
        public int port() {
            return out.port();
        }

        @Override
        public int size() {
            return out.size();
        }

        @Override
        public int count() {
            return 1;
        }

        @Override
        public long data(int i) {
            return out.value();
        }

        @Override
        public void setData(long value) {
            // an out has no data to return
        }
    }

    /**
     * The watched MSR's write: the CPU has already stored it; refusing it would take a #GP, which
     * this CPU cannot inject, so a refusal ends the run at the next {@link #run()}.
     */
    private final class MsrWriteView implements CpuExit.MsrWrite {
        private UnicornExit.MsrWrite write;

        MsrWriteView of(UnicornExit.MsrWrite exit) {
            this.write = exit;
            return this;
        }

        @Override
        public int index() {
            return write.index();
        }

        @Override
        public long data() {
            return write.value();
        }

        @Override
        public void complete() {
        }

        @Override
        public void fail() {
            failNext = "the guest's write of 0x" + Long.toHexString(write.value()) + " to MSR 0x"
                    + Integer.toHexString(write.index()) + " needs a #GP, which the software CPU cannot deliver";
        }
    }
}
