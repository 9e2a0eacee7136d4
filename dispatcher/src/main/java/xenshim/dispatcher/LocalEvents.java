package xenshim.dispatcher;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;
import xenshim.api.ArrayEventWords;
import xenshim.api.Domain;
import xenshim.api.DomainType;
import xenshim.api.EventChannels;
import xenshim.api.Upcall;
import xenshim.api.xen.XenEvtchn;

/**
 * The events of the in-process dom0, as its backends take them: dom0 has no vCPU to interrupt, so an
 * event on one of its ports wakes the backend threads waiting for that port ({@link #await}) and runs the
 * port's listener ({@link #listen}). Ports and their pending bits are dom0's {@link EventChannels} like
 * any domain's; backends bind and send with hypercalls through {@link Lcall}.
 *
 * <p>Three ways to take events: {@link #await} blocks a backend thread until its port is pending;
 * {@link #listen} runs a listener on a virtual thread per event; {@link #listenInline} runs it on the
 * sender's thread, with no thread to wake.
 *
 * <p>Waiting blocks the calling thread (a virtual thread parks without holding a carrier) and uses no CPU
 * until the event comes: the sender's {@code evtchn_send} marks the port pending, and the 2-level ABI's
 * {@link Upcall#checkPollers} hook, called for every port that becomes pending, signals here. Taking an
 * event clears the port's pending bit, as a guest's upcall handler does.
 */
public final class LocalEvents implements Upcall {

    private final ArrayEventWords words = new ArrayEventWords();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition pending = lock.newCondition();
    /** How many threads wait for each port: an event wakes waiters only if its port has some. */
    private final AtomicIntegerArray waiters = new AtomicIntegerArray(XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_64);
    private final Map<Integer, IntConsumer> listeners = new ConcurrentHashMap<>();
    private final Map<Integer, IntConsumer> inlineListeners = new ConcurrentHashMap<>();
    private final Executor listenerThreads = Executors.newVirtualThreadPerTaskExecutor();

    private LocalEvents() {
    }

    /**
     * Binds dom0's event channels to in-process delivery.
     *
     * @throws IllegalArgumentException if {@code dom0} is not the in-process dom0
     */
    public static LocalEvents bind(Domain dom0) {
        if (dom0.type() != DomainType.LOCAL || dom0.domid() != 0) {
            throw new IllegalArgumentException(dom0 + " is not the in-process dom0");
        }
        LocalEvents events = new LocalEvents();
        dom0.state(EventChannels.KEY).bind(events.words, events);
        return events;
    }

    /**
     * Waits until {@code port} is pending, then clears it.
     *
     * @return true for an event, false if {@code timeout} passed first
     * @throws InterruptedException if the waiting thread is interrupted
     */
    public boolean await(int port, Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        waiters.incrementAndGet(port);
        try {
            while (!words.testAndClearPending(port)) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = pending.awaitNanos(nanos);
            }
            return true;
        } finally {
            waiters.decrementAndGet(port);
            lock.unlock();
        }
    }

    /**
     * Takes a pending event on {@code port} without waiting; whether there was one. One atomic
     * test-and-clear, no lock: it runs inside senders' {@code evtchn_send} (inline listeners), where a
     * lock shared by every dom0 port would make one guest's events wait for another's.
     */
    public boolean poll(int port) {
        return words.testAndClearPending(port);
    }

    /**
     * Runs {@code listener} (on a virtual thread of its own each time) for each event on {@code port}; the
     * event is taken (cleared) before it runs. One listener per port; null removes it.
     */
    public void listen(int port, IntConsumer listener) {
        if (listener == null) {
            listeners.remove(port);
        } else {
            listeners.put(port, listener);
        }
    }

    /**
     * Runs {@code listener} for each event on {@code port} on the sender's own thread, inside its
     * {@code evtchn_send} (a guest's vCPU thread, say) once the send released every event-channel lock,
     * as an interrupt handler runs: no thread is woken, so this is the fastest way for a backend to
     * react. The listener must be short and bounded, and must not wait for long (it holds up the
     * sender's vCPU); it may make hypercalls (send on its own port, say). The event is taken before it
     * runs. One per port; null removes it.
     */
    public void listenInline(int port, IntConsumer listener) {
        if (listener == null) {
            inlineListeners.remove(port);
        } else {
            inlineListeners.put(port, listener);
        }
    }

    /** dom0 has no vCPU: nothing to interrupt. Waiters are woken per port, below. */
    @Override
    public void raise(int vcpu) {
    }

    /**
     * {@code port} became pending: wakes the threads waiting for it (called by the sender with dom0's
     * table lock held; never blocks long).
     */
    @Override
    public void checkPollers(int port) {
        if (waiters.get(port) > 0) {
            lock.lock();
            try {
                pending.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * {@code port} became pending: runs its listeners, the inline one here and the other on a virtual
     * thread of its own. Called by the sender once it holds no event-channel lock, as Xen notifies an
     * in-Xen consumer, so that a backend's work for one guest never holds dom0's table from another.
     */
    @Override
    public void consume(int port) {
        IntConsumer inline = inlineListeners.get(port);
        if (inline != null && poll(port)) {
            inline.accept(port);
        }
        IntConsumer listener = listeners.get(port);
        if (listener != null) {
            listenerThreads.execute(() -> {
                if (poll(port)) {
                    listener.accept(port);
                }
            });
        }
    }

    /** For tests: whether {@code port} is pending now. */
    boolean isPending(int port) {
        return words.testPending(port);
    }
}
