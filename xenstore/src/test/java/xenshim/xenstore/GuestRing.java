package xenshim.xenstore;

import static xenshim.xenstore.XsWire.XENSTORE_RING_SIZE;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The guest's side of a {@code xenstore_domain_interface} page, as a test
 * plays it: writes requests (in pieces, across the wrap), reads replies and
 * events, counts the store's notifications.
 */
final class GuestRing {

    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    static final long REQ_CONS = XsWire.interfaceOffset("req_cons");
    static final long REQ_PROD = XsWire.interfaceOffset("req_prod");
    static final long RSP_CONS = XsWire.interfaceOffset("rsp_cons");
    static final long RSP_PROD = XsWire.interfaceOffset("rsp_prod");
    private static final long REQ = XsWire.interfaceOffset("req");
    private static final long RSP = XsWire.interfaceOffset("rsp");

    final MemorySegment page = Arena.ofAuto().allocate(4096, 4096);
    final Semaphore notifications = new Semaphore(0);
    RingConnection connection;

    /** A page whose four indexes all start at {@code start} (near 2^32 to test the index wrap too). */
    GuestRing(int start) {
        for (long index : new long[] {REQ_CONS, REQ_PROD, RSP_CONS, RSP_PROD}) {
            U32.setRelease(page, index, start);
        }
    }

    /** Introduces the ring to {@code xs} as domain {@code domid}. */
    GuestRing introduce(Xenstored xs, int domid) {
        return introduce(xs, domid, () -> { });
    }

    /** Introduces the ring, {@code alsoOnNotify} run on each notification of the guest (on the notifying thread). */
    GuestRing introduce(Xenstored xs, int domid, Runnable alsoOnNotify) {
        connection = xs.introduce(domid, page, () -> {
            alsoOnNotify.run();
            notifications.release();
        });
        return this;
    }

    int get(long index) {
        return (int) U32.getAcquire(page, index);
    }

    void set(long index, int value) {
        U32.setRelease(page, index, value);
    }

    /** Puts bytes on the request ring (there must be room) and publishes them; no kick. */
    void put(byte[] bytes, int from, int length) {
        int prod = get(REQ_PROD);
        if (XENSTORE_RING_SIZE - (prod - get(REQ_CONS)) < length) {
            throw new IllegalStateException("no room on the request ring");
        }
        for (int i = 0; i < length; i++) {
            page.set(ValueLayout.JAVA_BYTE, REQ + ((prod + i) & (XENSTORE_RING_SIZE - 1)), bytes[from + i]);
        }
        set(REQ_PROD, prod + length);
    }

    /** Sends a whole request in pieces of the given sizes, kicking after each. */
    void send(XsMessage request, int... pieces) {
        byte[] bytes = request.encode();
        int at = 0;
        for (int piece : pieces) {
            put(bytes, at, Math.min(piece, bytes.length - at));
            at += Math.min(piece, bytes.length - at);
            connection.kick();
        }
        waitForRoomThenPut(bytes, at);
    }

    private void waitForRoomThenPut(byte[] bytes, int at) {
        while (at < bytes.length) {
            int room = XENSTORE_RING_SIZE - (get(REQ_PROD) - get(REQ_CONS));
            int n = Math.min(room, bytes.length - at);
            if (n > 0) {
                put(bytes, at, n);
                at += n;
            }
            connection.kick();
            Thread.onSpinWait();
        }
    }

    void send(int type, int txId, String... strings) {
        send(new XsMessage(type, 0, txId, XsMessage.strings(strings)));
    }

    /** Reads one whole message off the response ring, kicking after consuming; fails after 10 s. */
    XsMessage receive() {
        byte[] header = read(XsWire.HEADER_SIZE);
        XsMessage.Header head = XsMessage.Header.decode(header);
        return head.with(read((int) head.length()));
    }

    /** The next reply's text, skipping nothing: fails if it is an event. */
    String reply() {
        XsMessage message = receive();
        if (message.type() == XsWire.XS_WATCH_EVENT) {
            throw new AssertionError("an event where a reply was expected: " + message.strings());
        }
        return (message.type() == XsWire.XS_ERROR ? "error " : "") + message.text();
    }

    /** Bytes waiting on the response ring. */
    int pending() {
        return get(RSP_PROD) - get(RSP_CONS);
    }

    private byte[] read(int length) {
        byte[] into = new byte[length];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int done = 0;
        while (done < length) {
            int cons = get(RSP_CONS);
            int n = Math.min(get(RSP_PROD) - cons, length - done);
            for (int i = 0; i < n; i++) {
                into[done + i] = page.get(ValueLayout.JAVA_BYTE, RSP + ((cons + i) & (XENSTORE_RING_SIZE - 1)));
            }
            set(RSP_CONS, cons + n);
            done += n;
            if (n > 0) {
                connection.kick();
            } else if (System.nanoTime() > deadline) {
                throw new AssertionError("no reply on the ring after 10 s (" + done + " of " + length + " bytes) req "
                        + get(REQ_CONS) + "/" + get(REQ_PROD) + " rsp " + get(RSP_CONS) + "/" + get(RSP_PROD));
            } else {
                Thread.onSpinWait();
            }
        }
        return into;
    }
}
