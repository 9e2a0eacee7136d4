package xenshim.x86.dom0;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Domain;
import xenshim.api.XenClock;
import xenshim.api.xen.XenEvtchn;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.LocalEvents;

/**
 * A dom0 backend in the runtime that answers each event with one event: the other end of a guest's
 * ping. Until xenshim has a xenstore (where a guest would write its port for a backend to read), a guest
 * announces its ports by kicking its store channel: the backend then binds every port of the guest that
 * is unbound and reserved for dom0, and echoes each event on it, using no CPU between events, in one of
 * two ways ({@link Mode}): a thread of its own per port that blocks until the port is pending
 * ({@link LocalEvents#await}), or an inline listener that answers on the sender's own thread
 * ({@link LocalEvents#listenInline}).
 */
public final class EchoBackend implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EchoBackend.class);
    /** How often a waiting thread looks whether the backend is closing. */
    private static final Duration CHECK = Duration.ofMillis(200);

    private final HypercallPage page;
    private final Domain dom0;
    private final LocalEvents events;
    private final Domain guest;
    private final int storePort;
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final List<Integer> bound = new CopyOnWriteArrayList<>();
    private final List<Dom0Calls> inlineCalls = new CopyOnWriteArrayList<>();
    private final AtomicLong echoed = new AtomicLong();
    private volatile boolean closed;
    private volatile Recording recording;
    private final Mode mode;

    /** How the backend takes the guest's events. */
    public enum Mode {
        /** A platform thread per port, blocked in {@link LocalEvents#await} between events. */
        THREAD,
        /** An inline listener: the echo is sent on the guest's vCPU thread, inside its send. */
        INLINE
    }

    /**
     * The system time of each event's wake and of its echo's send, for the first {@code capacity} events
     * of the first bound port: what {@code xenshim bench-events} pairs with the guest's own times.
     */
    public static final class Recording {
        private final XenClock clock;
        private final long[] woke;
        private final long[] sent;
        private int count;

        Recording(XenClock clock, int capacity) {
            this.clock = clock;
            this.woke = new long[capacity];
            this.sent = new long[capacity];
        }

        public synchronized int count() {
            return count;
        }

        public synchronized long woke(int i) {
            return woke[java.util.Objects.checkIndex(i, count)];
        }

        public synchronized long sent(int i) {
            return sent[java.util.Objects.checkIndex(i, count)];
        }

        private synchronized void add(long wokeAt, long sentAt) {
            if (count < woke.length) {
                woke[count] = wokeAt;
                sent[count] = sentAt;
                count++;
            }
        }
    }

    /** Records the times of the next {@code capacity} echoes on {@code clock}; call before {@link #start}. */
    public Recording record(XenClock clock, int capacity) {
        Recording r = new Recording(clock, capacity);
        recording = r;
        return r;
    }

    /**
     * @param storePort dom0's end of the guest's store channel, where the guest announces its ports
     */
    public EchoBackend(HypercallPage page, Domain dom0, LocalEvents events, Domain guest, int storePort, Mode mode) {
        this.mode = Objects.requireNonNull(mode);
        this.page = Objects.requireNonNull(page);
        this.dom0 = Objects.requireNonNull(dom0);
        this.events = Objects.requireNonNull(events);
        this.guest = Objects.requireNonNull(guest);
        this.storePort = storePort;
    }

    /** Starts waiting for the guest's announcements. */
    public EchoBackend start() {
        threads.add(Thread.ofVirtual().name("echo-d" + guest.domid() + "-store").start(this::announcements));
        return this;
    }

    /** Events echoed so far. */
    public long echoed() {
        return echoed.get();
    }

    /** dom0's ports bound to the guest's so far. */
    public List<Integer> boundPorts() {
        return List.copyOf(bound);
    }

    private void announcements() {
        try (Dom0Calls calls = new Dom0Calls(page, dom0)) {
            while (!closed) {
                if (events.await(storePort, CHECK)) {
                    bindAnnounced(calls);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Binds every port of the guest that is unbound and reserved for dom0, then tells the guest it is
     * ready with an event on the store channel (where a backend would switch its xenstore state to
     * Connected): events the guest sends after that are echoed, and the one Xen's bind leaves pending on
     * dom0's end is not.
     */
    private void bindAnnounced(Dom0Calls calls) {
        for (int port = 1; ; port++) {
            Dom0Calls.PortStatus status = calls.status(guest.domid(), port);
            if (status.status() < 0) {
                calls.send(storePort);
                return; // past the guest's last valid port
            }
            if (status.status() == XenEvtchn.EVTCHNSTAT_unbound && status.remote() == dom0.domid()) {
                int local = calls.bindInterdomain(guest.domid(), port);
                if (local < 0) {
                    LOG.warn("echo backend: binding d{} port {} failed with {}", guest.domid(), port, local);
                    continue;
                }
                events.poll(local); // the bind marks dom0's end pending, as Xen does: not a ping
                bound.add(local);
                if (mode == Mode.INLINE) {
                    Dom0Calls inline = new Dom0Calls(page, dom0);
                    inlineCalls.add(inline);
                    events.listenInline(local, p -> {
                        synchronized (inline) {
                            echoOnce(inline, p);
                        }
                    });
                } else {
                    threads.add(Thread.ofPlatform().daemon().name("echo-d" + guest.domid() + "-p" + port)
                            .start(() -> echo(local)));
                }
            }
        }
    }

    private void echo(int port) {
        try (Dom0Calls calls = new Dom0Calls(page, dom0)) {
            while (!closed) {
                if (events.await(port, CHECK) && !echoOnce(calls, port)) {
                    return; // closed under us
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends the echo of one event; false if the port is gone. */
    private boolean echoOnce(Dom0Calls calls, int port) {
        Recording r = recording;
        long woke = r == null ? 0 : r.clock.now();
        long sent = r == null ? 0 : r.clock.now();
        int rc = calls.send(port);
        if (rc < 0) {
            LOG.debug("echo backend: send on dom0 port {} failed with {}", port, rc);
            return false;
        }
        if (r != null) {
            r.add(woke, sent);
        }
        echoed.incrementAndGet();
        return true;
    }

    /** Stops the threads and closes the dom0 ports bound for the guest. Idempotent. */
    @Override
    public synchronized void close() throws InterruptedException {
        if (closed) {
            return;
        }
        closed = true;
        for (Thread thread : threads) {
            thread.interrupt();
            thread.join(1_000);
        }
        try (Dom0Calls calls = new Dom0Calls(page, dom0)) {
            for (int port : bound) {
                events.listenInline(port, null);
                calls.close(port);
            }
        }
        for (Dom0Calls inline : inlineCalls) {
            synchronized (inline) {
                inline.close();
            }
        }
    }
}
