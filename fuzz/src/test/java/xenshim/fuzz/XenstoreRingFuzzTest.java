package xenshim.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import xenshim.xenstore.RingMapper;
import xenshim.xenstore.XsClient;
import xenshim.xenstore.XsError;
import xenshim.xenstore.XsPerm;
import xenshim.xenstore.XsPerms;
import xenshim.xenstore.XsQuotas;
import xenshim.xenstore.XsWire;
import xenshim.xenstore.Xenstored;

/**
 * The xenstore ring protocol fed arbitrary bytes by a guest (domain 5, owner of its home): requests built
 * from fuzzer choices (any type, ids, payload strings among the paths that matter and fuzzer text), raw
 * garbage, headers that lie about their length, all in pieces across the ring's wrap. The store runs with
 * small quotas so that they are reached. Checked on every input:
 *
 * <ul>
 * <li>nothing escapes (the store serves on its own thread; a failure there shows as a missing reply);</li>
 * <li>every whole request is answered, in order, within {@link StoreRingGuest#REPLY_NANOS}, with its
 *     request and transaction ids and its type or {@code XS_ERROR} naming an error of {@code xs_wire.h};
 *     a guest that sends a header over the payload limit has its ring's error field set instead;</li>
 * <li>no reply or event carries what the guest may not read (dom0's node, another guest's), unless the
 *     guest wrote it into its own requests (a watch echoes its path and token);</li>
 * <li>nothing outside the guest's home changed; it owns no more nodes than its quota, none over the
 *     entry size.</li>
 * </ul>
 */
class XenstoreRingFuzzTest {

    static final int GUEST = 5;
    static final int OTHER = 6;
    static final XsQuotas QUOTAS = new XsQuotas(12, 3, 2, 256, 3, 16, 6, 4096);
    private static final String HOME = "/local/domain/" + GUEST;
    private static final String DOM0_SECRET = "dom0-only-7f3a";
    private static final String OTHER_SECRET = "d6-only-91c2";
    private static final String[] WORDS = {HOME, "data", "data/a", HOME + "/data/b", "/local/domain/0/secret",
        "/local/domain/6/data", "/local/domain/6/shared", "@introduceDomain", "@releaseDomain", "/", "/local",
        "/local/domain", "a/b/c", "tok", "T", "F", "n5", "r5", "w6", "b0", "n6", "5", "6", "0", "x"};

    @FuzzTest(maxDuration = "2h") // the cap of a long run; a run is sized by -Dfuzz.runs (see the pom)
    void ring(FuzzedDataProvider data) {
        Xenstored xs = new Xenstored(QUOTAS, RingMapper.NONE);
        try (XsClient dom0 = xs.client()) {
            seed(dom0);
            StoreView before = StoreView.of(xs);
            StoreRingGuest guest = new StoreRingGuest(xs, GUEST, data.consumeInt());
            try {
                play(xs, guest, before, data);
            } finally {
                xs.release(GUEST);
                guest.close();
            }
        }
    }

    /** dom0's nodes, another guest's (one of them readable by the fuzzed guest) and the guest's home. */
    private static void seed(XsClient dom0) {
        dom0.write("/local/domain/0/secret", DOM0_SECRET);
        dom0.write("/local/domain/6/data", OTHER_SECRET);
        dom0.setPerms("/local/domain/6/data", XsPerms.of(XsPerm.none(OTHER)));
        dom0.write("/local/domain/6/shared", "readable by 5");
        dom0.setPerms("/local/domain/6/shared", XsPerms.of(XsPerm.none(OTHER), XsPerm.read(GUEST)));
        dom0.mkdir(HOME);
        dom0.setPerms(HOME, XsPerms.of(XsPerm.none(GUEST)));
    }

    private static void play(Xenstored xs, StoreRingGuest guest, StoreView before, FuzzedDataProvider data) {
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        int pieces = data.consumeInt(1, 24);
        for (int i = 0; i < pieces && data.remainingBytes() > 0; i++) {
            byte[] bytes = data.consumeInt(0, 7) == 0 ? data.consumeBytes(data.consumeInt(1, 64)) : request(data);
            stream.writeBytes(bytes);
            if (!guest.send(bytes)) {
                break; // the store stopped taking requests: checked below
            }
        }
        Requests sent = Requests.parse(stream.toByteArray());
        if (!guest.awaitReplies(sent.whole().size())) {
            throw new AssertionError("the store answered " + guest.replies().size() + " of " + sent.whole().size()
                    + " requests within " + StoreRingGuest.REPLY_NANOS / 1_000_000 + " ms: " + sent.whole());
        }
        List<String> wrong = new ArrayList<>();
        if (sent.overLimit() && !awaitError(guest)) {
            wrong.add("a header over the payload limit did not set the ring's error field");
        }
        String said = new String(stream.toByteArray(), StandardCharsets.ISO_8859_1);
        replies(guest, sent, said, wrong);
        StoreView after = StoreView.of(xs);
        if (!after.outside(HOME).equals(before.outside(HOME))) {
            wrong.add("the guest changed nodes outside its home:\n    before " + before.outside(HOME)
                    + "\n    after  " + after.outside(HOME));
        }
        List<String> owned = after.ownedBy(GUEST);
        if (owned.size() > QUOTAS.nodes()) {
            wrong.add("the guest owns " + owned.size() + " nodes, over its quota of " + QUOTAS.nodes());
        }
        for (String line : owned) {
            if (StoreView.valueBytes(line) >= QUOTAS.entrySize()) {
                wrong.add("the guest wrote a node over the entry size: " + line);
            }
        }
        if (!wrong.isEmpty()) {
            throw new AssertionError(String.join("\n", wrong) + "\nrequests: " + sent.whole());
        }
    }

    private static boolean awaitError(StoreRingGuest guest) {
        long deadline = System.nanoTime() + StoreRingGuest.REPLY_NANOS;
        while (guest.error() == 0 && System.nanoTime() - deadline < 0) {
            Thread.onSpinWait();
        }
        return guest.error() != 0;
    }

    /** Each reply answers its request, in order; events are two strings; nothing secret comes back. */
    private static void replies(StoreRingGuest guest, Requests sent, String said, List<String> wrong) {
        List<StoreRingGuest.Message> replies = guest.replies();
        if (guest.error() == 0 && replies.size() != sent.whole().size()) {
            wrong.add(replies.size() + " replies to " + sent.whole().size() + " requests");
        }
        for (int i = 0; i < Math.min(replies.size(), sent.whole().size()); i++) {
            StoreRingGuest.Message reply = replies.get(i);
            Requests.Header request = sent.whole().get(i);
            if (reply.reqId() != request.reqId() || reply.txId() != request.txId()
                    || reply.type() != request.type() && reply.type() != XsWire.XS_ERROR) {
                wrong.add("reply " + i + " " + describe(reply) + " does not answer " + request);
            }
            if (reply.type() == XsWire.XS_ERROR && !isErrorName(reply.payload())) {
                wrong.add("reply " + i + " is an error with payload \"" + reply.text() + "\"");
            }
        }
        for (StoreRingGuest.Message message : guest.messages()) {
            if (message.isEvent() && (message.reqId() != 0 || count(message.payload(), (byte) 0) != 2
                    || message.payload()[message.payload().length - 1] != 0)) {
                wrong.add("a malformed watch event " + describe(message));
            }
            String text = message.text();
            if (text.contains(DOM0_SECRET) && !said.contains(DOM0_SECRET)
                    || text.contains(OTHER_SECRET) && !said.contains(OTHER_SECRET)) {
                wrong.add("the guest was sent what it may not read: " + describe(message));
            }
        }
    }

    private static boolean isErrorName(byte[] payload) {
        if (payload.length < 2 || payload[payload.length - 1] != 0) {
            return false;
        }
        return XsError.byName(new String(payload, 0, payload.length - 1, StandardCharsets.ISO_8859_1)) != null;
    }

    private static int count(byte[] bytes, byte value) {
        int n = 0;
        for (byte b : bytes) {
            n += b == value ? 1 : 0;
        }
        return n;
    }

    private static String describe(StoreRingGuest.Message message) {
        return "[type " + message.type() + ", req " + message.reqId() + ", tx " + message.txId() + ", \""
                + message.text().replace('\0', '|') + "\"]";
    }

    /** A request from fuzzer choices: type, ids, and a payload of strings. */
    private static byte[] request(FuzzedDataProvider data) {
        int type = data.consumeInt(0, 7) == 0 ? data.consumeInt() : data.consumeInt(0, XsWire.XS_TYPE_COUNT);
        int reqId = data.consumeInt();
        int txId = data.consumeBoolean() ? data.consumeInt(0, 3) : data.consumeInt();
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        int parts = data.consumeInt(0, 4);
        for (int i = 0; i < parts; i++) {
            String part = data.consumeBoolean() ? WORDS[data.consumeInt(0, WORDS.length - 1)] : data.consumeString(48);
            payload.writeBytes(part.getBytes(StandardCharsets.ISO_8859_1));
            if (data.consumeInt(0, 5) != 0) {
                payload.write(0);
            }
        }
        byte[] body = payload.toByteArray();
        byte[] bytes = StoreRingGuest.request(type, reqId, txId, body);
        if (data.consumeInt(0, 15) == 0) { // a header that lies about its length
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(12, data.consumeInt());
        }
        return bytes;
    }

    /** The requests a byte stream holds: the whole ones, up to a header over the payload limit if any. */
    record Requests(List<Header> whole, boolean overLimit) {

        record Header(int type, int reqId, int txId, long len) {
        }

        static Requests parse(byte[] stream) {
            List<Header> whole = new ArrayList<>();
            ByteBuffer buffer = ByteBuffer.wrap(stream).order(ByteOrder.LITTLE_ENDIAN);
            while (buffer.remaining() >= XsWire.HEADER_SIZE) {
                Header header = new Header(buffer.getInt(), buffer.getInt(), buffer.getInt(),
                        Integer.toUnsignedLong(buffer.getInt()));
                if (header.len() > XsWire.XENSTORE_PAYLOAD_MAX) {
                    return new Requests(whole, true);
                }
                if (buffer.remaining() < header.len()) {
                    break;
                }
                buffer.position(buffer.position() + (int) header.len());
                whole.add(header);
            }
            return new Requests(whole, false);
        }
    }
}
