package xenshim.x86.kvm;

import xenshim.x86.cpu.CpuExit;
import xenshim.x86.cpu.Reg;
import xenshim.x86.cpu.RegisterDump;
import xenshim.x86.cpu.VirtualCpu;

/**
 * A KVM vCPU behind the backend seam: its exits as {@link CpuExit}s (the hot
 * ones are the reused {@code kvm_run} views themselves), its registers from
 * the ones KVM syncs into {@code kvm_run}, so no ioctl per hypercall.
 */
final class KvmVcpu implements VirtualCpu {

    private static final int IA32_TSC = 0x10;

    private static final long EFER_LMA = 1L << 10;
    private static final long CR0_PE = 1L;

    private final VcpuFd fd;

    KvmVcpu(VcpuFd fd) {
        this.fd = fd;
    }

    @Override
    public int id() {
        return fd.id();
    }

    @Override
    public CpuExit run() {
        VcpuExit exit = fd.run();
        return switch (exit) {
            case VcpuExit.Io io -> io;
            case VcpuExit.MsrWrite write -> write;
            case VcpuExit.MsrRead read -> read;
            case VcpuExit.Mmio mmio -> mmio;
            case VcpuExit.Intr intr -> CpuExit.Kicked.INSTANCE;
            case VcpuExit.IrqWindowOpen open -> {
                fd.requestInterruptWindow(false);
                yield CpuExit.Kicked.INSTANCE; // the loop injects what is pending
            }
            case VcpuExit.Hlt hlt -> CpuExit.Halted.INSTANCE;
            case VcpuExit.Shutdown shutdown -> CpuExit.TripleFault.INSTANCE;
            case VcpuExit.InternalError error -> new CpuExit.Failure("KVM internal error (suberror "
                    + error.suberror() + (error.suberror() == VcpuExit.InternalError.EMULATION ? ", emulation failure" : "")
                    + ")");
            case VcpuExit.FailEntry fail -> new CpuExit.Failure(
                    "VM entry failed (hardware reason 0x" + Long.toHexString(fail.hardwareEntryFailureReason()) + ")");
            default -> new CpuExit.Failure("unexpected exit " + exit);
        };
    }

    @Override
    public long reg(Reg register) {
        return fd.syncedReg(register);
    }

    @Override
    public void setReg(Reg register, long value) {
        fd.setSyncedReg(register, value);
    }

    @Override
    public long cr0() {
        return fd.syncedCr0();
    }

    @Override
    public long cr3() {
        return fd.syncedCr3();
    }

    @Override
    public long cr4() {
        return fd.syncedCr4();
    }

    @Override
    public long efer() {
        return fd.syncedEfer();
    }

    @Override
    public boolean csLong() {
        return fd.syncedCsL();
    }

    @Override
    public int cpl() {
        return fd.syncedCpl();
    }

    /** Read with ioctls: not on any hot path. */
    @Override
    public String describeRegisters() {
        try {
            Regs r = fd.getRegs();
            Sregs s = fd.getSregs();
            String mode = (s.efer() & EFER_LMA) != 0 ? (s.cs().l() ? "64-bit" : "compat")
                    : (s.cr0() & CR0_PE) != 0 ? (s.cs().db() ? "32-bit protected" : "16-bit protected") : "real";
            return RegisterDump.format(r::get, mode, s.ss().dpl(), // the CPL is SS.DPL
                    s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.efer(),
                    String.format("cs=%04x base=%x limit=%x  ss=%04x  idt=%x/%x  gdt=%x/%x",
                            s.cs().selector(), s.cs().base(), s.cs().limit(), s.ss().selector(),
                            s.idt().base(), s.idt().limit(), s.gdt().base(), s.gdt().limit()));
        } catch (RuntimeException e) {
            return "  (registers unavailable: " + e.getMessage() + ")";
        }
    }

    /**
     * KVM_INTERRUPT when the last exit said the guest can take one; else asks KVM for an
     * interrupt window, whose exit comes back as {@link CpuExit.Kicked}.
     */
    @Override
    public boolean injectInterrupt(int vector) {
        if (fd.readyForInterruptInjection()) {
            fd.interrupt(vector);
            return true;
        }
        fd.requestInterruptWindow(true);
        return false;
    }

    @Override
    public long tsc() {
        return fd.getMsr(IA32_TSC);
    }

    /** KVM_GET_TSC_KHZ; 0 if KVM does not say. */
    @Override
    public long tscKhz() {
        try {
            return fd.tscKhz();
        } catch (KvmException e) {
            return 0;
        }
    }

    @Override
    public void kick() {
        fd.kick();
    }

    @Override
    public void close() {
        fd.close();
    }
}
