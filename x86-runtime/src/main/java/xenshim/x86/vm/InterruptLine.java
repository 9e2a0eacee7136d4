package xenshim.x86.vm;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
    private volatile Thread owner;
    private final AtomicBoolean retryArmed = new AtomicBoolean();

    /** How soon a vCPU whose interrupts were off is kicked to try its pending interrupt again. */
    static final long RETRY_NANOS = 20_000;
    /** The retry kicks of every vCPU: short, never blocking. */
    private static final ScheduledExecutorService RETRY = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "interrupt-retry");
        thread.setDaemon(true);
        return thread;
    });

    InterruptLine(VirtualCpu cpu) {
        this.cpu = cpu;
    }

    /**
     * Raises {@code vector}; any thread. The caller wakes a parked vCPU. The vCPU's own thread (an
     * event its own hypercall sent, or an inline backend's answer) need not kick itself: its loop
     * delivers before the next run.
     */
    void raise(int vector) {
        pending.set(vector);
        if (Thread.currentThread() != owner) {
            cpu.kick();
        }
    }

    /** The vCPU's thread; set by it before its first run. */
    void ownedBy(Thread thread) {
        owner = thread;
    }

    boolean isPending() {
        return pending.get() >= 0;
    }

    /**
     * On the vCPU thread before each run: injects the pending vector if the guest can take it now. If it
     * cannot (interrupts off), the backend's interrupt window (KVM's) ends a run once they are on; as
     * not every backend has one that comes at once (Unicorn has none; under kvm_pvm it can wait for the
     * host's next tick), the vCPU is also kicked again {@link #RETRY_NANOS} later to try again.
     */
    void deliver() {
        int vector = pending.get();
        if (vector < 0) {
            return;
        }
        if (cpu.injectInterrupt(vector)) {
            pending.compareAndSet(vector, -1);
        } else if (!retryArmed.getAndSet(true)) {
            RETRY.schedule(() -> {
                retryArmed.set(false);
                cpu.kick();
            }, RETRY_NANOS, TimeUnit.NANOSECONDS);
        }
    }
}
