package xenshim.x86.vm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import xenshim.api.Abi;
import xenshim.api.xen.XenErrno;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.kvm.Reg;
import xenshim.x86.kvm.Regs;
import xenshim.x86.kvm.Sregs;
import xenshim.x86.kvm.VcpuExit;
import xenshim.x86.kvm.VcpuFd;
import xenshim.x86.memory.GuestPhysMemory;
import xenshim.x86.memory.VcpuMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One vCPU's loop: run, handle the exit, run again, until the machine stops.
 * A hypercall is the {@code out} of a hypercall-page stub: its number comes
 * from the port data, its ABI from the live CPU mode (64-bit only if EFER.LMA
 * and CS.L), its arguments from the registers KVM synced into
 * {@code kvm_run}, and its result goes back to rax the same way: no extra
 * ioctl per call.
 */
final class Vcpu implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(Vcpu.class);

    private static final long EFER_LMA = 1L << 10;
    private static final long CR0_PE = 1L;
    private static final long RFLAGS_IF = 1L << 9;

    private final Machine machine;
    private final VcpuFd fd;
    private final int id;
    private final HypercallPage page;
    private final VcpuContext context;
    private final VcpuMemory memory;
    private final GuestPhysMemory phys;
    private final CallRecorder calls;
    private final DebugPort debugPort;
    private final HypercallRegisters.RegisterFile registers;

    Vcpu(Machine machine, VcpuFd fd, int id, HypercallPage page, GuestPhysMemory phys, DebugPort debugPort,
         HypercallTracer tracer) {
        this.machine = machine;
        this.fd = fd;
        this.id = id;
        this.page = page;
        this.phys = phys;
        this.memory = new VcpuMemory(phys);
        this.context = new VcpuContext(machine.domain(), id, memory,
                () -> machine.isStopping() || page.drainPending());
        this.debugPort = debugPort;
        this.calls = new CallRecorder(id, tracer);
        this.registers = fd::syncedReg;
    }

    int id() {
        return id;
    }

    VcpuFd fd() {
        return fd;
    }

    HypercallStats stats() {
        return calls.stats();
    }

    @Override
    public void run() {
        try {
            while (!machine.isStopping()) {
                step();
            }
        } catch (RuntimeException | Error e) {
            machine.stop(new Outcome.Failure(id, "internal error in xenshim: " + e, registers()));
            throw e;
        }
    }

    /** One KVM_RUN and its exit; a method of its own so the JIT compiles it early, not only on-stack. */
    private void step() {
        handle(fd.run());
    }

    private void handle(VcpuExit exit) {
        switch (exit) {
            case VcpuExit.Io io -> io(io);
            case VcpuExit.MsrWrite write -> msrWrite(write);
            case VcpuExit.MsrRead read -> {
                if (read.index() == HypercallPageCode.MSR) {
                    read.complete(0); // Xen reads the hypercall MSR as 0
                } else {
                    read.fail();
                }
            }
            case VcpuExit.Mmio mmio -> mmio(mmio);
            case VcpuExit.Intr intr -> {
                // a kick: the loop condition decides
            }
            case VcpuExit.Hlt hlt -> halt();
            case VcpuExit.Shutdown shutdown -> machine.stop(new Outcome.TripleFault(id, registers()));
            case VcpuExit.InternalError error -> machine.stop(new Outcome.Failure(id,
                    "KVM internal error (suberror " + error.suberror() + (error.suberror() == 1 ? ", emulation failure" : "")
                            + ")", registers()));
            case VcpuExit.FailEntry fail -> machine.stop(new Outcome.Failure(id,
                    "VM entry failed (hardware reason 0x" + Long.toHexString(fail.hardwareEntryFailureReason()) + ")",
                    registers()));
            default -> machine.stop(new Outcome.Failure(id, "unexpected exit " + exit, registers()));
        }
    }

    private void io(VcpuExit.Io io) {
        if (io.isIn()) {
            io.setData(0xFFFF_FFFFL); // nothing behind any port: reads float high
            return;
        }
        int port = io.port();
        if (port == HypercallPageCode.PORT && io.size() == 4 && io.count() == 1) {
            hypercall(io.data());
        } else if (port == DebugPort.PORT) {
            for (int i = 0, n = io.count(); i < n; i++) {
                debugPort.write(id, (byte) io.data(i));
            }
        }
    }

    /**
     * One entry of hypercall {@code nr}. If the handler preempted itself, the
     * continuation's arguments go back into the argument registers and the
     * guest re-executes the stub's {@code out} (RIP back over its two bytes,
     * eax = nr), as Xen rewinds RIP over {@code vmcall}: the next entry is a
     * fresh exit, so a stop is seen between any two entries. A handler's JVM
     * {@link Error} stops this domain (see {@link Outcome.HandlerCrash}).
     */
    private void hypercall(long nr) {
        long efer = fd.syncedEfer();
        Abi abi = HypercallRegisters.abi(efer, fd.syncedCsL());
        long a0 = HypercallRegisters.argument(abi, 0, registers);
        long a1 = HypercallRegisters.argument(abi, 1, registers);
        long a2 = HypercallRegisters.argument(abi, 2, registers);
        long a3 = HypercallRegisters.argument(abi, 3, registers);
        long a4 = HypercallRegisters.argument(abi, 4, registers);
        long cr0 = fd.syncedCr0();
        long result;
        long start = System.nanoTime();
        if ((cr0 & CR0_PE) != 0 && fd.syncedCpl() != 0) {
            result = -XenErrno.XEN_EPERM; // Xen refuses hypercalls from outside ring 0
        } else {
            memory.refresh(cr0, fd.syncedCr3(), fd.syncedCr4(), efer);
            context.enter(abi, start);
            try {
                result = page.invoke(context, nr, a0, a1, a2, a3, a4);
            } catch (Error e) {
                LOG.error("vCPU {}: the handler of hypercall {} failed with a JVM error; stopping {}", id,
                        nr, machine.domain(), e);
                machine.stop(new Outcome.HandlerCrash(id, nr, e));
                return;
            }
        }
        long elapsed = System.nanoTime() - start;
        if (context.continuation().take(result)) {
            for (int i = 0; i < 5; i++) {
                fd.setSyncedReg(HypercallRegisters.argumentRegister(abi, i),
                        HypercallRegisters.rax(abi, context.continuation().arg(i)));
            }
            fd.setSyncedReg(Reg.RAX, nr);
            fd.setSyncedReg(Reg.RIP, fd.syncedReg(Reg.RIP) - HypercallPageCode.OUT_LENGTH);
            calls.continued(nr, abi, a0, a1, a2, a3, a4, elapsed);
            return;
        }
        fd.setSyncedReg(Reg.RAX, HypercallRegisters.rax(abi, result));
        calls.completed(nr, abi, a0, a1, a2, a3, a4, result, elapsed);
    }

    /** The hypercall-page MSR: low 12 bits are the page index (only 0 exists), the rest the page's address. */
    private void msrWrite(VcpuExit.MsrWrite write) {
        if (write.index() != HypercallPageCode.MSR) {
            write.fail();
            return;
        }
        long value = write.data();
        long gpa = value & ~0xFFFL;
        long host = (value & 0xFFF) == 0 ? phys.translate(gpa) : -1;
        if (host < 0) {
            write.fail(); // #GP, as Xen for a page index other than 0 or a frame that is not RAM
            return;
        }
        MemorySegment.copy(HypercallPageCode.page(), 0, phys.host(), ValueLayout.JAVA_BYTE, host,
                HypercallPageCode.PAGE_SIZE);
        write.complete();
    }

    /**
     * An access with no memory slot behind it. Usually an unbacked address
     * (LAPIC, IOAPIC, HPET windows): reads are all-ones, writes are dropped.
     * If the frame is mapped by now (its slot was being replaced), the access
     * is served from the frame.
     */
    private void mmio(VcpuExit.Mmio mmio) {
        long host = phys.translate(mmio.physAddr());
        int len = mmio.len();
        boolean inPage = host >= 0 && (host & 0xFFF) + len <= 0x1000 && len <= 8;
        if (mmio.isWrite()) {
            if (inPage) {
                long data = mmio.data();
                for (int i = 0; i < len; i++) {
                    phys.host().set(ValueLayout.JAVA_BYTE, host + i, (byte) (data >>> (8 * i)));
                }
            }
            return;
        }
        long value = -1L;
        if (inPage) {
            value = 0;
            for (int i = len - 1; i >= 0; i--) {
                value = (value << 8) | (phys.host().get(ValueLayout.JAVA_BYTE, host + i) & 0xFF);
            }
        }
        mmio.setData(value);
    }

    /** No interrupt source exists yet: hlt with IF=0 can never wake; with IF=1 the vCPU idles until stopped. */
    private void halt() {
        if ((fd.syncedReg(Reg.RFLAGS) & RFLAGS_IF) == 0) {
            machine.stop(new Outcome.Halted(id, registers()));
        } else {
            machine.awaitStop();
        }
    }

    /** The registers, for a message; read with ioctls (not on any hot path). */
    String registers() {
        try {
            Regs r = fd.getRegs();
            Sregs s = fd.getSregs();
            String mode = (s.efer() & EFER_LMA) != 0 ? (s.cs().l() ? "64-bit" : "compat")
                    : (s.cr0() & CR0_PE) != 0 ? (s.cs().db() ? "32-bit protected" : "16-bit protected") : "real";
            return String.format("""
                      rip=%016x rsp=%016x rflags=%08x mode=%s cpl=%d
                      rax=%016x rbx=%016x rcx=%016x rdx=%016x
                      rsi=%016x rdi=%016x rbp=%016x r8 =%016x
                      r9 =%016x r10=%016x r11=%016x r12=%016x
                      r13=%016x r14=%016x r15=%016x
                      cr0=%016x cr2=%016x cr3=%016x cr4=%016x efer=%016x
                      cs=%04x base=%x limit=%x  ss=%04x  idt=%x/%x  gdt=%x/%x""",
                    r.rip(), r.rsp(), r.rflags(), mode, s.ss().dpl(), // the CPL is SS.DPL
                    r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rbp(), r.r8(),
                    r.r9(), r.r10(), r.r11(), r.r12(), r.r13(), r.r14(), r.r15(),
                    s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.efer(),
                    s.cs().selector(), s.cs().base(), s.cs().limit(), s.ss().selector(),
                    s.idt().base(), s.idt().limit(), s.gdt().base(), s.gdt().limit());
        } catch (RuntimeException e) {
            return "  (registers unavailable: " + e.getMessage() + ")";
        }
    }
}
