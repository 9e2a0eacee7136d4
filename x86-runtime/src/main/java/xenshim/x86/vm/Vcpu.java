package xenshim.x86.vm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import xenshim.api.Vcpus;
import xenshim.api.XenClock;
import xenshim.api.xen.XenVcpu;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.cpu.CpuExit;
import xenshim.x86.cpu.HypercallTrap;
import xenshim.x86.cpu.Reg;
import xenshim.x86.cpu.VirtualCpu;
import xenshim.x86.memory.GuestPhysMemory;
import xenshim.x86.memory.VcpuMemory;
import xenshim.x86.time.TscClock;

/**
 * One vCPU's loop: deliver a pending interrupt, run, handle the exit, and sleep while the guest waits
 * (blocked in {@code SCHEDOP_block} or {@code SCHEDOP_poll}, or in {@code hlt} with interrupts on), until
 * the machine stops. Hypercalls are decoded by {@link HypercallExit}, interrupts go in through the
 * {@link InterruptLine}, sleeping is {@link Parking}.
 */
final class Vcpu implements Runnable {

    private static final long RFLAGS_IF = 1L << 9;
    /**
     * Xen's time in vcpu_time_info is refreshed at least this often while the vCPU exits (a measured
     * TSC rate gets better with each refresh).
     */
    private static final long TIME_REFRESH_NS = 100_000_000L;

    private final Machine machine;
    private final VirtualCpu cpu;
    private final HypercallTrap trap;
    /** The hypercall page this backend's CPUs need. */
    private final byte[] hypercallPage;
    private final int id;
    private final GuestPhysMemory phys;
    private final CallRecorder calls;
    private final HypercallExit hypercalls;
    private final InterruptLine interrupts;
    private final Parking parking = new Parking();
    private final Vcpus vcpus;
    private final XenClock clock;
    private final SharedInfoPage sharedInfo;
    private final RunstateArea runstate;
    private final DebugPort debugPort;
    private long timeUpdated;

    Vcpu(Machine machine, VirtualCpu cpu, HypercallTrap trap, HypercallPage page, GuestPhysMemory phys,
         SharedInfoPage sharedInfo, XenClock clock, DebugPort debugPort, HypercallTracer tracer) {
        this.machine = machine;
        this.cpu = cpu;
        this.trap = trap;
        this.hypercallPage = HypercallPageCode.page(trap.endBlockAfterOut());
        this.id = cpu.id();
        this.phys = phys;
        VcpuMemory memory = new VcpuMemory(phys);
        VcpuContext context = new VcpuContext(machine.domain(), id, memory,
                () -> machine.isStopping() || page.drainPending());
        this.calls = new CallRecorder(id, tracer);
        this.hypercalls = new HypercallExit(cpu, machine.domain(), page, context, memory, calls,
                HypercallPageCode.rewind(trap.endBlockAfterOut()));
        this.interrupts = new InterruptLine(cpu);
        this.vcpus = machine.domain().state(Vcpus.KEY);
        this.clock = clock;
        this.sharedInfo = sharedInfo;
        this.runstate = new RunstateArea(cpu, vcpus, new VcpuMemory(phys), clock);
        this.debugPort = debugPort;
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
            interrupts.ownedBy(Thread.currentThread());
            sharedInfo.bindTsc(id, new TscClock(clock, cpu::tsc, cpu.tscKhz() * 1000));
            refreshTime();
            while (!machine.isStopping()) {
                step();
            }
        } catch (RuntimeException | Error e) {
            machine.stop(new Outcome.Failure(id, "internal error in xenshim: " + e, registers()));
            throw e;
        }
    }

    /**
     * One run of the CPU and its exit, after delivering a pending interrupt if the guest can take it (if
     * not, the backend returns from the run as soon as it can, and the next step tries again); then the
     * wait the exit asked for, if any. A method of its own so the JIT compiles it early.
     */
    private void step() {
        interrupts.deliver();
        handle(cpu.run());
        if (vcpus.isBlocked(id)) {
            block();
        }
        if (System.nanoTime() - timeUpdated >= TIME_REFRESH_NS) {
            refreshTime();
        }
    }

    /**
     * Raises external interrupt {@code vector} on this vCPU; any thread. It wakes a vCPU in {@code hlt};
     * a blocked vCPU wakes only when it is unblocked (an event upcall does both).
     */
    void interrupt(int vector) {
        interrupts.raise(vector);
        parking.wake();
    }

    /** Wakes this vCPU if it sleeps, to look again at why: an unblock, an interrupt, a stop. */
    void wake() {
        parking.wake();
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
            Error crash = hypercalls.call(io.data());
            if (crash != null) {
                machine.stop(new Outcome.HandlerCrash(id, io.data(), crash));
            }
        } else if (port == DebugPort.PORT) {
            for (int i = 0, n = io.count(); i < n; i++) {
                debugPort.write(id, (byte) io.data(i));
            }
        }
    }

    /**
     * Blocked by the call just made ({@code SCHEDOP_block}, {@code SCHEDOP_poll}): the vCPU sleeps,
     * runstate blocked, until it is unblocked (an event for it, a polled port pending) or its poll times
     * out or the machine stops.
     */
    private void block() {
        runstate.enter(XenVcpu.RUNSTATE_blocked);
        long deadline = vcpus.isPolling(id) ? vcpus.pollDeadline(id) : 0;
        if (!parking.park(() -> !vcpus.isBlocked(id) || machine.isStopping(), deadline, clock)) {
            vcpus.pollTimedOut(id);
        }
        runstate.enter(XenVcpu.RUNSTATE_running);
        refreshTime();
    }

    /**
     * {@code hlt}: with IF=0 nothing can wake it; with IF=1 the vCPU thread sleeps until an interrupt
     * is raised or the machine stops.
     */
    private void halt() {
        if ((cpu.reg(Reg.RFLAGS) & RFLAGS_IF) == 0) {
            machine.stop(new Outcome.Halted(id, registers()));
            return;
        }
        runstate.enter(XenVcpu.RUNSTATE_blocked);
        parking.park(() -> interrupts.isPending() || machine.isStopping(), 0, clock);
        runstate.enter(XenVcpu.RUNSTATE_running);
        refreshTime();
    }

    private void refreshTime() {
        sharedInfo.updateTime(id);
        timeUpdated = System.nanoTime();
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

    /** The registers, for a message (not on any hot path). */
    String registers() {
        return cpu.describeRegisters();
    }

    /** This vCPU's hypercall exits, for the machine's watchdog on calls that do not return. */
    HypercallExit hypercalls() {
        return hypercalls;
    }
}
