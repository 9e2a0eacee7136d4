package xenshim.x86.vm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.xen.XenErrno;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.cpu.Reg;
import xenshim.x86.cpu.VirtualCpu;
import xenshim.x86.memory.VcpuMemory;

/**
 * One vCPU's hypercall exits: the {@code out} of a hypercall-page stub. The number comes from the port
 * data, the ABI from the live CPU mode (64-bit only if EFER.LMA and CS.L), the arguments from the
 * registers, and the result goes back to rax, all through the backend's {@link VirtualCpu} (on KVM, the
 * registers synced into {@code kvm_run}: no extra ioctl per call).
 */
final class HypercallExit {

    private static final Logger LOG = LoggerFactory.getLogger(HypercallExit.class);
    private static final long CR0_PE = 1L;

    private final VirtualCpu cpu;
    private final int id;
    private final Domain domain;
    private final HypercallPage page;
    private final VcpuContext context;
    private final VcpuMemory memory;
    private final CallRecorder calls;
    /** How far RIP goes back to re-enter this backend's stub. */
    private final int rewind;
    private final HypercallRegisters.RegisterFile registers;
    /** When the entry now in its handler began (System.nanoTime), or 0; for {@link #runningSince}. */
    private long inHandlerSince;
    /** The hypercall now in its handler. */
    private long inHandlerNr;

    private static final VarHandle SINCE;
    private static final VarHandle NR;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            SINCE = lookup.findVarHandle(HypercallExit.class, "inHandlerSince", long.class);
            NR = lookup.findVarHandle(HypercallExit.class, "inHandlerNr", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    HypercallExit(VirtualCpu cpu, Domain domain, HypercallPage page, VcpuContext context, VcpuMemory memory,
                  CallRecorder calls, int rewind) {
        this.cpu = cpu;
        this.id = cpu.id();
        this.domain = domain;
        this.page = page;
        this.context = context;
        this.memory = memory;
        this.calls = calls;
        this.rewind = rewind;
        this.registers = cpu::reg;
    }

    /**
     * For a watchdog on another thread: when the entry now in its handler began ({@link System#nanoTime}),
     * or 0 if none is. Opaque reads and writes: no fence on the vCPU's path, and a watchdog that looks every
     * so often needs no ordering, only to see the value eventually.
     */
    long runningSince() {
        return (long) SINCE.getOpaque(this);
    }

    /** The hypercall number of the entry {@link #runningSince} is about. */
    long runningNr() {
        return (long) NR.getOpaque(this);
    }

    /** Who serves slot {@code nr} in the installed table, for a report. */
    String provider(long nr) {
        return nr < 0 || nr > Integer.MAX_VALUE ? "no handler"
                : page.current().provider((int) nr).map(Object::toString).orElse("no handler")
                        + " in table " + page.current().name();
    }

    /**
     * One entry of hypercall {@code nr}. If the handler preempted itself, the continuation's arguments go
     * back into the argument registers and the guest re-executes the stub's {@code out} (RIP back to it,
     * by as much as this backend's stub puts after it; eax = nr), as Xen rewinds RIP over {@code vmcall}:
     * the next entry is a fresh exit, so a stop is seen between any two entries.
     *
     * @return the JVM {@link Error} a handler threw (which stops the domain), else null
     */
    Error call(long nr) {
        long efer = cpu.efer();
        Abi abi = HypercallRegisters.abi(efer, cpu.csLong());
        long a0 = HypercallRegisters.argument(abi, 0, registers);
        long a1 = HypercallRegisters.argument(abi, 1, registers);
        long a2 = HypercallRegisters.argument(abi, 2, registers);
        long a3 = HypercallRegisters.argument(abi, 3, registers);
        long a4 = HypercallRegisters.argument(abi, 4, registers);
        long cr0 = cpu.cr0();
        long result;
        long start = System.nanoTime();
        if ((cr0 & CR0_PE) != 0 && cpu.cpl() != 0) {
            result = -XenErrno.XEN_EPERM; // Xen refuses hypercalls from outside ring 0
        } else {
            memory.refresh(cr0, cpu.cr3(), cpu.cr4(), efer);
            context.enter(abi, start);
            NR.setOpaque(this, nr);
            SINCE.setOpaque(this, start == 0 ? 1 : start);
            try {
                result = page.invoke(context, nr, a0, a1, a2, a3, a4);
            } catch (Error e) {
                LOG.error("vCPU {}: the handler of hypercall {} failed with a JVM error; stopping {}", id, nr,
                        domain, e);
                return e;
            } finally {
                SINCE.setOpaque(this, 0L);
            }
        }
        long elapsed = System.nanoTime() - start;
        if (context.continuation().take(result)) {
            for (int i = 0; i < 5; i++) {
                cpu.setReg(HypercallRegisters.argumentRegister(abi, i),
                        HypercallRegisters.rax(abi, context.continuation().arg(i)));
            }
            cpu.setReg(Reg.RAX, nr);
            cpu.setReg(Reg.RIP, cpu.reg(Reg.RIP) - rewind);
            calls.continued(nr, abi, a0, a1, a2, a3, a4, elapsed);
            return null;
        }
        cpu.setReg(Reg.RAX, HypercallRegisters.rax(abi, result));
        calls.completed(nr, abi, a0, a1, a2, a3, a4, result, elapsed);
        return null;
    }
}
