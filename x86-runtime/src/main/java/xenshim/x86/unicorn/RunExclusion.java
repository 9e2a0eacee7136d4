package xenshim.x86.unicorn;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import xenshim.api.GuestAtomics;

/**
 * The software CPU's {@link GuestAtomics}: a host thread's read-modify-write of guest memory never falls
 * inside a guest instruction, because the engine runs the guest only while holding a lock that the
 * operation takes too.
 *
 * <p>Why a lock: Unicorn 2.0.1 runs QEMU's TCG without {@code CF_PARALLEL} (no API turns it on), so a
 * guest's {@code lock btr/bts/cmpxchg/xadd} is emulated as a load and then a store. A host thread's
 * atomic between the two is lost when the guest stores what it loaded. {@link UnicornCpu#run()} holds the
 * lock for exactly the time it is inside {@code uc_emu_start} ({@link #beginRun}, {@link #endRun}), and
 * not between runs, in handlers or while the vCPU thread sleeps, so waiting for it is waiting for the
 * guest to reach the end of a translated block.
 *
 * <p>An operation from another thread tries the lock; if the guest runs, it kicks the engine (the block
 * start stop: within microseconds) and waits. The vCPU thread does not retake the lock while a host thread
 * is on its way to it, and the lock is fair for the threads that sleep on it. Both sides spin up to
 * {@link #SPIN_NANOS} before they sleep: the handoff is then microseconds where a sleep on each side put
 * two scheduler wake-ups (milliseconds on a loaded host) on the path of every event a backend or timer
 * sends, enough for a guest waiting 10 ms for a timer to miss it. A kick is sticky but taken by the first
 * run that returns after it, which may be a run that ended for another reason (an {@code out}) before the host
 * thread queued for the lock: so while a host thread waits, every run that begins kicks itself again and
 * stops at its first block. (Without that, a guest spinning without exits held a shared timer thread for
 * a second, and another guest's timer events with it.) A kick that arrives after a run ended only makes
 * the next run return at once. Inside a run, a hook (between two instructions) operates directly;
 * between runs the vCPU thread takes the lock like any other, uncontended but for another host
 * operation (it never waits for a guest: it is the one that would run it).
 *
 * <p>The lock is held for one memory operation and nothing else, so it cannot be part of a deadlock: a
 * host thread may hold its own locks around an operation, and the engine's hooks, which run under the
 * lock, must never take a lock such a thread holds (the runtime's hooks only queue exits).
 */
final class RunExclusion implements GuestAtomics {

    /** How long either side spins for the other before it sleeps on the lock. */
    private static final long SPIN_NANOS = 50_000;

    private final ReentrantLock lock = new ReentrantLock(true);
    private final UnicornCpu cpu;
    /** Host threads between their kick and taking the lock. */
    private final AtomicInteger waiting = new AtomicInteger();

    RunExclusion(UnicornCpu cpu) {
        this.cpu = cpu;
    }

    /**
     * Before {@code uc_emu_start}: waits for a host operation in progress or on its way, spinning a little
     * first (a host operation is nanoseconds once the guest stopped; sleeping would add a scheduler
     * wake-up, milliseconds on a loaded host, to every event a host thread sends). If a host thread is
     * still on its way to the lock after that, kicks this run so that it stops at its first block: that
     * thread's own kick may have been taken by the run before, ended for another reason.
     */
    void beginRun() {
        long until = 0;
        while (waiting.get() > 0 || !lock.tryLock()) {
            long now = System.nanoTime();
            if (until == 0) {
                until = now + SPIN_NANOS;
            } else if (now - until > 0) {
                lock.lock();
                break;
            }
            Thread.onSpinWait();
        }
        if (waiting.get() > 0) {
            cpu.kick();
        }
    }

    /** After {@code uc_emu_start} returned. */
    void endRun() {
        lock.unlock();
    }

    /** Whether the calling thread runs the guest: a hook, between two instructions, so no lock is needed. */
    private boolean onRunner() {
        return lock.isHeldByCurrentThread();
    }

    /**
     * Takes the lock, stopping the guest if it runs. A free lock is taken at once, even if the vCPU
     * thread is queued to run again: a sender's next bit (an event is up to three) then costs no second
     * handoff to the vCPU thread and back, which on a loaded host is a scheduler wake-up each way.
     */
    private void stopGuest() {
        if (lock.tryLock()) {
            return;
        }
        waiting.incrementAndGet(); // before the kick: a run that begins after it sees this and stops at once
        try {
            cpu.kick();
            long until = System.nanoTime() + SPIN_NANOS; // the guest stops within microseconds: spin, then sleep
            while (!lock.tryLock()) {
                if (System.nanoTime() - until > 0) {
                    lock.lock();
                    break;
                }
                Thread.onSpinWait();
            }
        } finally {
            waiting.decrementAndGet();
        }
    }

    @Override
    public int getAndBitwiseOr(MemorySegment memory, long offset, int bits) {
        if (onRunner()) {
            return HARDWARE.getAndBitwiseOr(memory, offset, bits);
        }
        stopGuest();
        try {
            return HARDWARE.getAndBitwiseOr(memory, offset, bits);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int getAndBitwiseAnd(MemorySegment memory, long offset, int bits) {
        if (onRunner()) {
            return HARDWARE.getAndBitwiseAnd(memory, offset, bits);
        }
        stopGuest();
        try {
            return HARDWARE.getAndBitwiseAnd(memory, offset, bits);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int compareAndExchange(MemorySegment memory, long offset, int expected, int update) {
        if (onRunner()) {
            return HARDWARE.compareAndExchange(memory, offset, expected, update);
        }
        stopGuest();
        try {
            return HARDWARE.compareAndExchange(memory, offset, expected, update);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "software CPU atomics (the guest stopped between instructions)";
    }
}
