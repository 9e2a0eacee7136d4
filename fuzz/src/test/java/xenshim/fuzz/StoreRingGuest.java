package xenshim.fuzz;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.XenIoRings;
import xenshim.xenstore.RingConnection;
import xenshim.xenstore.XsWire;
import xenshim.xenstore.Xenstored;

/**
 * A guest's side of its xenstore ring page, played by a test: it puts any bytes on the request ring (a
 * request in pieces, garbage, a header promising more than it sends), kicks the store as the guest's
 * event would, and takes what the store writes on the response ring, split into messages by their
 * headers. The store serves the ring on its own thread, so every wait here is bounded: a request that is
 * not answered within {@link #REPLY_NANOS} is the store's failure, not a reason to hang.
 */
final class StoreRingGuest implements AutoCloseable {

    /** How long the store may take to answer a request. */
    static final long REPLY_NANOS = 5_000_000_000L;

    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    private static final long REQ = offset("req");
    private static final long RSP = offset("rsp");
    private static final long REQ_CONS = offset("req_cons");
    private static final long REQ_PROD = offset("req_prod");
    private static final long RSP_CONS = offset("rsp_cons");
    private static final long RSP_PROD = offset("rsp_prod");
    private static final int RING = XenIoRings.XENSTORE_RING_SIZE;

    /** One message from the store: its header's fields and payload. */
    record Message(int type, int reqId, int txId, byte[] payload) {
        boolean isEvent() {
            return type == XsWire.XS_WATCH_EVENT;
        }

        String text() {
            return new String(payload, StandardCharsets.ISO_8859_1);
        }
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment page = arena.allocate(4096, 4096);
    private final RingConnection connection;
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();
    private final List<Message> messages = new ArrayList<>();
    private int replies;

    /** A ring of {@code domid}, its four indexes at {@code start}, introduced to {@code xs}. */
    StoreRingGuest(Xenstored xs, int domid, int start) {
        for (long index : new long[] {REQ_CONS, REQ_PROD, RSP_CONS, RSP_PROD}) {
            U32.setRelease(page, index, start);
        }
        connection = xs.introduce(domid, page, () -> { });
    }

    private static long offset(String member) {
        return AbiLayouts.offset(AbiLayouts.X86_64.xenstore_domain_interface, member);
    }

    private int get(long index) {
        return (int) U32.getAcquire(page, index);
    }

    /** The ring's {@code error} field: non-zero once the store stopped serving a guest that broke the protocol. */
    int error() {
        return connection.error();
    }

    /**
     * Puts {@code bytes} on the request ring, waiting for room while taking responses.
     *
     * @return false if the store stopped taking requests (its error set) or took none for {@link #REPLY_NANOS}
     */
    boolean send(byte[] bytes) {
        int at = 0;
        long deadline = System.nanoTime() + REPLY_NANOS;
        while (at < bytes.length) {
            if (error() != 0) {
                return false;
            }
            int prod = get(REQ_PROD);
            int room = RING - (prod - get(REQ_CONS));
            int n = Math.min(room, bytes.length - at);
            for (int i = 0; i < n; i++) {
                page.set(ValueLayout.JAVA_BYTE, REQ + ((prod + i) & (RING - 1)), bytes[at + i]);
            }
            if (n > 0) {
                U32.setRelease(page, REQ_PROD, prod + n);
                at += n;
                deadline = System.nanoTime() + REPLY_NANOS;
            } else if (System.nanoTime() - deadline > 0) {
                return false;
            }
            connection.kick();
            take();
            if (n == 0) {
                Thread.onSpinWait();
            }
        }
        return true;
    }

    /**
     * Waits until {@code count} replies (not events) have come in all, or the store set its error.
     *
     * @return false if they did not come within {@link #REPLY_NANOS} of the last byte received
     */
    boolean awaitReplies(int count) {
        long deadline = System.nanoTime() + REPLY_NANOS;
        while (replies < count && error() == 0) {
            if (take()) {
                deadline = System.nanoTime() + REPLY_NANOS;
            } else if (System.nanoTime() - deadline > 0) {
                return false;
            } else {
                Thread.onSpinWait();
            }
        }
        return true;
    }

    /** Takes what the response ring holds; whether there was anything. Kicks the store after consuming. */
    private boolean take() {
        int cons = get(RSP_CONS);
        int n = get(RSP_PROD) - cons;
        if (n == 0) {
            return false;
        }
        if (Integer.compareUnsigned(n, RING) > 0) {
            throw new AssertionError("the store's response indexes are " + n + " bytes apart, more than the ring");
        }
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++) {
            bytes[i] = page.get(ValueLayout.JAVA_BYTE, RSP + ((cons + i) & (RING - 1)));
        }
        U32.setRelease(page, RSP_CONS, cons + n);
        connection.kick();
        received.writeBytes(bytes);
        split();
        return true;
    }

    /** Cuts the bytes received into whole messages; a header whose length is over the payload limit is a malformed reply. */
    private void split() {
        byte[] all = received.toByteArray();
        int at = 0;
        while (all.length - at >= XsWire.HEADER_SIZE) {
            ByteBuffer header = ByteBuffer.wrap(all, at, XsWire.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            int type = header.getInt();
            int reqId = header.getInt();
            int txId = header.getInt();
            long len = Integer.toUnsignedLong(header.getInt());
            if (len > XsWire.XENSTORE_PAYLOAD_MAX) {
                throw new AssertionError("the store sent a message of type " + type + " with " + len
                        + " bytes of payload, over " + XsWire.XENSTORE_PAYLOAD_MAX);
            }
            if (all.length - at - XsWire.HEADER_SIZE < len) {
                break;
            }
            byte[] payload = Arrays.copyOfRange(all, at + XsWire.HEADER_SIZE, at + XsWire.HEADER_SIZE + (int) len);
            Message message = new Message(type, reqId, txId, payload);
            messages.add(message);
            if (!message.isEvent()) {
                replies++;
            }
            at += XsWire.HEADER_SIZE + (int) len;
        }
        received.reset();
        received.write(all, at, all.length - at);
    }

    /** Every message received, in order. */
    List<Message> messages() {
        return List.copyOf(messages);
    }

    /** The replies received, in order, without the events. */
    List<Message> replies() {
        return messages.stream().filter(m -> !m.isEvent()).toList();
    }

    /** A request as it travels: header, then payload. */
    static byte[] request(int type, int reqId, int txId, byte[] payload) {
        return ByteBuffer.allocate(XsWire.HEADER_SIZE + payload.length).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(type).putInt(reqId).putInt(txId).putInt(payload.length).put(payload).array();
    }

    /** Strings each followed by a NUL, as xenstore payloads are. */
    static byte[] strings(String... strings) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String s : strings) {
            out.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
            out.write(0);
        }
        return out.toByteArray();
    }

    /** The memory of the page goes; release the domain from the store first. */
    @Override
    public void close() {
        arena.close();
    }
}
