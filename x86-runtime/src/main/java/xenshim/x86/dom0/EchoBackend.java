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
import xenshim.xenstore.XsClient;
import xenshim.xenstore.XsException;
import xenshim.xenstore.Xenstored;

/**
 * A dom0 backend in the runtime that answers each event with one event: the other end of a guest's
 * ping. It is found through xenstore as a split driver's backend is: the guest writes a port it
 * allocated for dom0 to {@code data/echo/port}; the backend, watching that node, binds the port, writes
 * {@code data/echo/state = connected}, and echoes each event on it, using no CPU between events, in one
 * of two ways ({@link Mode}): a thread of its own per port that blocks until the port is pending
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
    private final XsClient store;
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

    /** @param xenstore the store the guest's {@code data/echo/port} is watched in */
    public EchoBackend(HypercallPage page, Domain dom0, LocalEvents events, Domain guest, Xenstored xenstore,
                       Mode mode) {
        this.mode = Objects.requireNonNull(mode);
        this.page = Objects.requireNonNull(page);
        this.dom0 = Objects.requireNonNull(dom0);
        this.events = Objects.requireNonNull(events);
        this.guest = Objects.requireNonNull(guest);
        this.store = xenstore.client();
    }

    /** Starts watching the guest's {@code data/echo/port}. */
    public EchoBackend start() {
        String home = store.domainPath(guest.domid()) + "/data/echo";
        store.watch(home + "/port", "echo", (path, token) -> portWritten(home));
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

    /**
     * The guest wrote {@code data/echo/port} (or the watch fired at once): binds that port if it is the
     * guest's, unbound and reserved for dom0, then says so in {@code data/echo/state}. Events the guest
     * sends after that are echoed; the one Xen's bind leaves pending on dom0's end is not.
     */
    private synchronized void portWritten(String home) {
        if (closed) {
            return;
        }
        int port;
        try {
            port = Integer.parseInt(store.read(home + "/port").strip());
        } catch (XsException | NumberFormatException e) {
            return; // not written yet (the watch's first event), or not a number: nothing to bind
        }
        try (Dom0Calls calls = new Dom0Calls(page, dom0)) {
            Dom0Calls.PortStatus status = calls.status(guest.domid(), port);
            if (status.status() != XenEvtchn.EVTCHNSTAT_unbound || status.remote() != dom0.domid()) {
                LOG.warn("echo backend: d{} port {} is not unbound for dom0 (status {})", guest.domid(), port,
                        status.status());
                return;
            }
            int local = calls.bindInterdomain(guest.domid(), port);
            if (local < 0) {
                LOG.warn("echo backend: binding d{} port {} failed with {}", guest.domid(), port, local);
                return;
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
        store.write(home + "/state", "connected");
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
    public void close() throws InterruptedException {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        store.close(); // outside the lock: a watch event may be waiting for it
        synchronized (this) {
            closePorts();
        }
    }

    private void closePorts() throws InterruptedException {
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
