package xenshim.xenstore;

import static xenshim.xenstore.XsWire.XENSTORE_RING_SIZE;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A guest's connection: its {@code xenstore_domain_interface} page, read and
 * written while the guest runs. {@link #kick()} (the guest notified its
 * store channel) wakes the ring's own thread, which reads the requests the
 * guest produced (in pieces, across the wrap), serves each under the
 * store's lock, writes the replies and events that fit, and notifies the
 * guest once per round if it consumed or produced anything.
 * {@link #serveHere()} does one such round on the notifying thread itself
 * when the store is free, and leaves the rest to the ring's thread.
 *
 * <p>As C xenstored does, a guest that breaks the protocol (indexes more
 * than a ring apart, a payload over {@code XENSTORE_PAYLOAD_MAX}) gets the
 * {@code error} field set ({@code XENSTORE_ERROR_RINGIDX},
 * {@code XENSTORE_ERROR_PROTO}) and is ignored from then on: its watches,
 * transactions and queued replies are dropped and its ring is not touched
 * again. An unprivileged guest with {@code outstanding} unread replies is
 * not read further until it reads them; its queued events past
 * {@code eventBytes} are dropped, and an event already queued is not queued
 * twice.
 */
public final class RingConnection extends XsConnection {

    private static final Logger LOG = LoggerFactory.getLogger(RingConnection.class);

    /** How many requests one round serves before the lock is let go for others. */
    static final int REQUESTS_PER_ROUND = 16;

    private final Xenstored xs;
    private final Ring ring;
    private final Runnable notify;
    private final AtomicBoolean kicked = new AtomicBoolean();
    private final Thread worker;
    private volatile boolean closed;
    private boolean broken;

    /** The request being read: its header, then its payload. */
    private final byte[] header = new byte[XsWire.HEADER_SIZE];
    private XsMessage.Header pending;
    private byte[] body;
    /** How much of the header (while {@link #pending} is null) or of the body has been read. */
    private int inUsed;

    /** What waits to be written: whole messages, the first maybe partly written. */
    private final ArrayDeque<byte[]> out = new ArrayDeque<>();
    private final Set<String> queuedEvents = new HashSet<>();
    private int outUsed;
    private int queuedReplies;
    private int queuedEventBytes;

    RingConnection(Xenstored xs, int domid, MemorySegment page, Runnable notify) {
        super(domid, domid == 0);
        this.xs = xs;
        this.ring = new Ring(page);
        this.notify = notify;
        this.worker = Thread.ofVirtual().name("xenstore-ring-" + domid).unstarted(this::run);
        ring.advertiseErrorField();
    }

    /** The guest notified: serve its ring (on the ring's own thread; this returns at once). */
    public void kick() {
        kicked.set(true);
        LockSupport.unpark(worker);
    }

    /**
     * How many rounds {@link #serveHere} does at most: enough for a full ring of the smallest requests
     * (a header alone), so that a guest that filled its ring and notified once is served on its own
     * thread to the end.
     */
    static final int ROUNDS_HERE = XENSTORE_RING_SIZE / XsWire.HEADER_SIZE / REQUESTS_PER_ROUND;

    /**
     * The guest notified: serve its ring here, on the caller's thread (the guest's own vCPU, inside its
     * {@code evtchn_send}), a round at a time while the store is free at that moment, for at most
     * {@link #ROUNDS_HERE} rounds; whatever is left then, or the whole ring if the store is busy, goes to
     * the ring's own thread ({@link #kick}). Never waits for the store's lock, and lets it go between
     * rounds, so another ring waits for one round of this one at most.
     *
     * <p>So a guest pays for its requests with its own vCPU's time: one that floods the store takes no
     * dom0 thread's time from the others, and one that asks waits for no thread to wake, its reply
     * written before its notification returns.
     */
    public void serveHere() {
        for (int rounds = 0; rounds < ROUNDS_HERE; rounds++) {
            if (closed || !xs.lock.tryLock()) {
                break;
            }
            Round round;
            try {
                round = round();
            } finally {
                xs.lock.unlock();
            }
            if (round.moved() && !broken) {
                notify.run();
            }
            if (!round.more()) {
                return;
            }
        }
        kick();
    }

    /** The domain this ring belongs to. */
    public int domid() {
        return domid;
    }

    /** The {@code error} field's value: {@code XENSTORE_ERROR_NONE} while the ring is served. */
    public int error() {
        return ring.error();
    }

    void start() {
        worker.start();
    }

    /** Stops serving: the thread ends; the page is not touched again. */
    void close() {
        closed = true;
        kick();
    }

    /** {@code domain_conn_reset}: a fresh introduction of a known domain starts its ring over. */
    void reset() {
        out.clear();
        queuedEvents.clear();
        outUsed = 0;
        queuedReplies = 0;
        queuedEventBytes = 0;
        inUsed = 0;
        pending = null;
        ring.resetIndexes();
        kick();
    }

    @Override
    boolean ignored() {
        return broken;
    }

    @Override
    void send(XsMessage message) {
        if (broken) {
            return;
        }
        byte[] bytes = message.encode();
        if (message.type() == XsWire.XS_WATCH_EVENT) {
            String key = new String(message.payload(), XsMessage.BYTES);
            if (!privileged && queuedEventBytes + bytes.length > xs.quotas.eventBytes() || !queuedEvents.add(key)) {
                return;
            }
            queuedEventBytes += bytes.length;
        } else {
            queuedReplies++;
        }
        out.add(bytes);
        kick();
    }

    private void run() {
        while (!closed) {
            if (!kicked.getAndSet(false)) {
                LockSupport.park(this);
                continue;
            }
            while (!closed && serveRound()) {
                Thread.yield();
            }
        }
    }

    /**
     * One round on the ring's thread, under the lock; the guest is notified after it if it consumed or
     * produced anything.
     *
     * @return whether requests are left that the round did not get to
     */
    private boolean serveRound() {
        Round round;
        xs.lock.lock();
        try {
            round = round();
        } finally {
            xs.lock.unlock();
        }
        if (round.moved() && !broken) {
            notify.run();
        }
        return round.more();
    }

    /** What a round did: consumed or produced bytes; stopped with requests left. */
    private record Round(boolean moved, boolean more) {
        static final Round NOTHING = new Round(false, false);
    }

    /**
     * One round, with the lock held: read and serve up to {@link #REQUESTS_PER_ROUND} requests, write
     * what fits.
     */
    private Round round() {
        if (broken || closed) {
            return Round.NOTHING;
        }
        boolean more = false;
        boolean moved = write();
        for (int served = 0; served < REQUESTS_PER_ROUND && !broken; served++) {
            if (!privileged && queuedReplies >= xs.quotas.outstanding()) {
                break;
            }
            Progress read = readRequest();
            moved |= read != Progress.NONE;
            if (read != Progress.MESSAGE) {
                break;
            }
            more = served == REQUESTS_PER_ROUND - 1;
        }
        moved |= !broken && write();
        return new Round(moved, more);
    }


    private enum Progress { NONE, BYTES, MESSAGE }

    /** Reads what the ring holds of the current request; serves it once whole. */
    private Progress readRequest() {
        boolean moved = false;
        if (pending == null) {
            int n = fill(header);
            moved = n > 0;
            if (n < 0 || inUsed < header.length) {
                return moved ? Progress.BYTES : Progress.NONE;
            }
            pending = XsMessage.Header.decode(header);
            if (pending.tooLong()) {
                fail(XsWire.XENSTORE_ERROR_PROTO, "request of " + pending.length() + " bytes");
                return Progress.BYTES;
            }
            body = new byte[(int) pending.length()];
            inUsed = 0;
        }
        int n = fill(body);
        moved |= n > 0;
        if (n < 0 || inUsed < body.length) {
            return moved ? Progress.BYTES : Progress.NONE;
        }
        XsMessage request = pending.with(body);
        pending = null;
        inUsed = 0;
        xs.process(this, request);
        return Progress.MESSAGE;
    }

    /** Reads into {@code buffer} from {@link #inUsed} what the ring holds; -1 (and the ring failed) for bad indexes. */
    private int fill(byte[] buffer) {
        int n = ring.readRequest(buffer, inUsed, buffer.length - inUsed);
        if (n < 0) {
            fail(XsWire.XENSTORE_ERROR_RINGIDX, "request indexes out of range");
        } else {
            inUsed += n;
        }
        return n;
    }

    /** Writes queued messages while the response ring has room; whether any byte went out. */
    private boolean write() {
        boolean wrote = false;
        while (!out.isEmpty()) {
            byte[] head = out.peek();
            int n = ring.writeResponse(head, outUsed, head.length - outUsed);
            if (n < 0) {
                fail(XsWire.XENSTORE_ERROR_RINGIDX, "response indexes out of range");
                return wrote;
            }
            wrote |= n > 0;
            if (outUsed == 0 && n > 0 && isEvent(head)) {
                queuedEvents.remove(new String(head, XsWire.HEADER_SIZE, head.length - XsWire.HEADER_SIZE,
                        XsMessage.BYTES));
            }
            outUsed += n;
            if (outUsed < head.length) {
                return wrote;
            }
            out.poll();
            outUsed = 0;
            if (isEvent(head)) {
                queuedEventBytes -= head.length;
            } else {
                queuedReplies--;
            }
        }
        return wrote;
    }

    private static boolean isEvent(byte[] message) {
        return (message[0] & 0xff) == XsWire.XS_WATCH_EVENT && message[1] == 0 && message[2] == 0 && message[3] == 0;
    }

    /** {@code ignore_connection}: the error indicator set, everything of the connection dropped. */
    private void fail(int error, String why) {
        LOG.warn("xenstore: domain {} broke the ring protocol ({}); its connection is ignored", domid, why);
        broken = true;
        ring.setError(error);
        dropWatchesAndTransactions();
        out.clear();
        queuedEvents.clear();
        pending = null;
    }

    /** The interface page itself: index accesses with acquire/release order, data copied in and out across the wrap. */
    private static final class Ring {

        private static final long REQ = XsWire.interfaceOffset("req");
        private static final long RSP = XsWire.interfaceOffset("rsp");
        private static final long REQ_CONS = XsWire.interfaceOffset("req_cons");
        private static final long REQ_PROD = XsWire.interfaceOffset("req_prod");
        private static final long RSP_CONS = XsWire.interfaceOffset("rsp_cons");
        private static final long RSP_PROD = XsWire.interfaceOffset("rsp_prod");
        private static final long SERVER_FEATURES = XsWire.interfaceOffset("server_features");
        private static final long ERROR = XsWire.interfaceOffset("error");
        private static final java.lang.invoke.VarHandle U32 =
                java.lang.foreign.ValueLayout.JAVA_INT.varHandle();

        private final MemorySegment page;

        Ring(MemorySegment page) {
            if (page.byteSize() < XsWire.XENSTORE_DOMAIN_INTERFACE.byteSize()) {
                throw new IllegalArgumentException("a xenstore ring page is " + XsWire.XENSTORE_DOMAIN_INTERFACE
                        .byteSize() + " bytes at least, not " + page.byteSize());
            }
            if (!page.isNative() || page.address() % Integer.BYTES != 0) {
                throw new IllegalArgumentException("a xenstore ring page must be native memory aligned for its"
                        + " indexes: " + page);
            }
            this.page = page;
        }

        void advertiseErrorField() {
            U32.setRelease(page, SERVER_FEATURES, (int) U32.getAcquire(page, SERVER_FEATURES)
                    | XsWire.XENSTORE_SERVER_FEATURE_ERROR);
        }

        void setError(int error) {
            U32.setRelease(page, ERROR, error);
        }

        int error() {
            return (int) U32.getAcquire(page, ERROR);
        }

        void resetIndexes() {
            for (long index : new long[] {REQ_CONS, REQ_PROD, RSP_CONS, RSP_PROD}) {
                U32.setRelease(page, index, 0);
            }
        }

        /** Copies up to {@code length} request bytes; -1 if the guest's indexes are more than a ring apart. */
        int readRequest(byte[] into, int offset, int length) {
            int cons = (int) U32.getAcquire(page, REQ_CONS);
            int prod = (int) U32.getAcquire(page, REQ_PROD);
            int available = prod - cons;
            if (Integer.compareUnsigned(available, XENSTORE_RING_SIZE) > 0) {
                return -1;
            }
            int n = Math.min(length, available);
            copy(REQ, cons, into, offset, n, true);
            U32.setRelease(page, REQ_CONS, cons + n);
            return n;
        }

        /** Copies up to {@code length} response bytes into the free space; -1 for indexes more than a ring apart. */
        int writeResponse(byte[] from, int offset, int length) {
            int cons = (int) U32.getAcquire(page, RSP_CONS);
            int prod = (int) U32.getAcquire(page, RSP_PROD);
            int used = prod - cons;
            if (Integer.compareUnsigned(used, XENSTORE_RING_SIZE) > 0) {
                return -1;
            }
            int n = Math.min(length, XENSTORE_RING_SIZE - used);
            copy(RSP, prod, from, offset, n, false);
            U32.setRelease(page, RSP_PROD, prod + n);
            return n;
        }

        /** Copies {@code n} bytes between the ring at free-running index {@code index} and an array, in up to two pieces. */
        private void copy(long ring, int index, byte[] array, int offset, int n, boolean fromRing) {
            int done = 0;
            while (done < n) {
                int at = (index + done) & (XENSTORE_RING_SIZE - 1);
                int chunk = Math.min(n - done, XENSTORE_RING_SIZE - at);
                if (fromRing) {
                    MemorySegment.copy(page, java.lang.foreign.ValueLayout.JAVA_BYTE, ring + at, array, offset + done,
                            chunk);
                } else {
                    MemorySegment.copy(array, offset + done, page, java.lang.foreign.ValueLayout.JAVA_BYTE, ring + at,
                            chunk);
                }
                done += chunk;
            }
        }
    }
}
