package xenshim.x86.vm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Abi;
import xenshim.api.xen.XenErrno;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.cpu.CpuExit;
import xenshim.x86.cpu.HypercallTrap;
import xenshim.x86.cpu.Reg;
import xenshim.x86.cpu.VirtualCpu;
import xenshim.x86.memory.GuestPhysMemory;
import xenshim.x86.memory.VcpuMemory;

/**
 * One vCPU's loop: run, handle the exit, run again, until the machine stops.
 * A hypercall is the {@code out} of a hypercall-page stub: its number comes
 * from the port data, its ABI from the live CPU mode (64-bit only if EFER.LMA
 * and CS.L), its arguments from the registers, and its result goes back to
 * rax, all through the CPU backend's {@link VirtualCpu} (on KVM, the
 * registers synced into {@code kvm_run}: no extra ioctl per call).
 */
final class Vcpu implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(Vcpu.class);

    private static final long CR0_PE = 1L;
    private static final long RFLAGS_IF = 1L << 9;

    private final Machine machine;
    private final VirtualCpu cpu;
    private final HypercallTrap trap;
    /** The hypercall page this backend's CPUs need, and how far RIP goes back to re-enter a stub. */
    private final byte[] hypercallPage;
    private final int rewind;
    private final int id;
    private final HypercallPage page;
    private final VcpuContext context;
    private final VcpuMemory memory;
    private final GuestPhysMemory phys;
    private final CallRecorder calls;
    /** The external interrupt waiting to go in, or -1: set from any thread by {@link #interrupt}. */
    private final AtomicInteger pendingVector = new AtomicInteger(-1);
    /** What a halted vCPU waits on: an interrupt or a stop. */
    private final Object wake = new Object();
    private final DebugPort debugPort;
    private final HypercallRegisters.RegisterFile registers;

    Vcpu(Machine machine, VirtualCpu cpu, HypercallTrap trap, HypercallPage page, GuestPhysMemory phys,
         DebugPort debugPort, HypercallTracer tracer) {
        this.machine = machine;
        this.cpu = cpu;
        this.trap = trap;
        this.hypercallPage = HypercallPageCode.page(trap.endBlockAfterOut());
        this.rewind = HypercallPageCode.rewind(trap.endBlockAfterOut());
        this.id = cpu.id();
        this.page = page;
        this.phys = phys;
        this.memory = new VcpuMemory(phys);
        this.context = new VcpuContext(machine.domain(), id, memory,
                () -> machine.isStopping() || page.drainPending());
        this.debugPort = debugPort;
        this.calls = new CallRecorder(id, tracer);
        this.registers = cpu::reg;
    }

    int id() {
        return id;
    }

    VirtualCpu cpu() {
        return cpu;
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

    /**
     * One run of the CPU and its exit, after delivering a pending interrupt if the guest can take
     * it (if not, the backend returns from the run as soon as it can, and the next step tries
     * again); a method of its own so the JIT compiles it early, not only on-stack.
     */
    private void step() {
        int vector = pendingVector.get();
        if (vector >= 0 && cpu.injectInterrupt(vector)) {
            pendingVector.compareAndSet(vector, -1);
        }
        handle(cpu.run());
    }

    /**
     * Raises external interrupt {@code vector} on this vCPU; any thread. One may be pending at a
     * time, as on one interrupt line: a second before the first went in replaces it.
     */
    void interrupt(int vector) {
        pendingVector.set(vector);
        wake();
        cpu.kick();
    }

    /** Wakes this vCPU if it is halted: an interrupt came, or the machine stops. */
    void wake() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private void handle(CpuExit exit) {
        switch (exit) {
            case CpuExit.Io io -> io(io);
            case CpuExit.MsrWrite write -> msrWrite(write);
            case CpuExit.MsrRead read -> {
                if (read.index() == trap.msr()) {
                    read.complete(0); // Xen reads the hypercall MSR as 0
                } else {
                    read.fail();
                }
            }
            case CpuExit.Mmio mmio -> mmio(mmio);
            case CpuExit.Kicked kicked -> {
                // the loop condition decides
            }
            case CpuExit.Halted halted -> halt();
            case CpuExit.TripleFault fault -> machine.stop(new Outcome.TripleFault(id, registers()));
            case CpuExit.Failure failure -> machine.stop(new Outcome.Failure(id, failure.what(), registers()));
        }
    }

    private void io(CpuExit.Io io) {
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
     * guest re-executes the stub's {@code out} (RIP back to it, by as much as
     * this backend's stub puts after it; eax = nr), as Xen rewinds RIP over
     * {@code vmcall}: the next entry is a
     * fresh exit, so a stop is seen between any two entries. A handler's JVM
     * {@link Error} stops this domain (see {@link Outcome.HandlerCrash}).
     */
    private void hypercall(long nr) {
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
                cpu.setReg(HypercallRegisters.argumentRegister(abi, i),
                        HypercallRegisters.rax(abi, context.continuation().arg(i)));
            }
            cpu.setReg(Reg.RAX, nr);
            cpu.setReg(Reg.RIP, cpu.reg(Reg.RIP) - rewind);
            calls.continued(nr, abi, a0, a1, a2, a3, a4, elapsed);
            return;
        }
        cpu.setReg(Reg.RAX, HypercallRegisters.rax(abi, result));
        calls.completed(nr, abi, a0, a1, a2, a3, a4, result, elapsed);
    }

    /** The hypercall-page MSR: low 12 bits are the page index (only 0 exists), the rest the page's address. */
    private void msrWrite(CpuExit.MsrWrite write) {
        if (write.index() != trap.msr()) {
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
        MemorySegment.copy(hypercallPage, 0, phys.host(), ValueLayout.JAVA_BYTE, host,
                HypercallPageCode.PAGE_SIZE);
        cpu.guestCodeWritten();
        write.complete();
    }

    /**
     * An access with no memory slot behind it. Usually an unbacked address
     * (LAPIC, IOAPIC, HPET windows): reads are all-ones, writes are dropped.
     * If the frame is mapped by now (its slot was being replaced), the access
     * is served from the frame.
     */
    private void mmio(CpuExit.Mmio mmio) {
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

    /**
     * {@code hlt}: with IF=0 nothing can wake it; with IF=1 the vCPU thread sleeps, using no CPU,
     * until an interrupt is raised or the machine stops.
     */
    private void halt() {
        if ((cpu.reg(Reg.RFLAGS) & RFLAGS_IF) == 0) {
            machine.stop(new Outcome.Halted(id, registers()));
            return;
        }
        synchronized (wake) {
            while (pendingVector.get() < 0 && !machine.isStopping()) {
                try {
                    wake.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** The registers, for a message (not on any hot path). */
    String registers() {
        return cpu.describeRegisters();
    }

}
