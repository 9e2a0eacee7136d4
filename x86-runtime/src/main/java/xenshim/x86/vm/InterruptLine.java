package xenshim.x86.vm;

import java.util.concurrent.atomic.AtomicInteger;
import xenshim.x86.cpu.VirtualCpu;

/**
 * One vCPU's external interrupt line, as the VMM drives it without an emulated APIC: a vector is raised
 * from any thread and goes in at the vCPU's next entry the guest can take it (with the backend's interrupt
 * window: KVM_INTERRUPT when {@code ready_for_interrupt_injection}, else a window exit; on the software CPU,
 * an IDT-gate delivery when RFLAGS.IF is set). One vector is pending at a time, as on one edge-triggered
 * line: a second raised before the first went in replaces it (every source here, the event upcall
 * included, re-raises only on a new edge, so nothing is lost that the guest would not also lose).
 */
final class InterruptLine {

    private final VirtualCpu cpu;
    private final AtomicInteger pending = new AtomicInteger(-1);

    InterruptLine(VirtualCpu cpu) {
        this.cpu = cpu;
    }

    /** Raises {@code vector}; any thread. The caller wakes a parked vCPU. */
    void raise(int vector) {
        pending.set(vector);
        cpu.kick();
    }

    boolean isPending() {
        return pending.get() >= 0;
    }

    /** On the vCPU thread before each run: injects the pending vector if the guest can take it now. */
    void deliver() {
        int vector = pending.get();
        if (vector >= 0 && cpu.injectInterrupt(vector)) {
            pending.compareAndSet(vector, -1);
        }
    }
}
