package xenshim.xenstore;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One message: the {@code xsd_sockmsg} header's type, request id and
 * transaction id, and the payload (its length is the header's {@code len}).
 * Strings travel as bytes; this class maps them one byte to one char
 * (ISO-8859-1), so any byte a guest sends survives the round trip.
 */
record XsMessage(int type, int reqId, int txId, byte[] payload) {

    static final java.nio.charset.Charset BYTES = StandardCharsets.ISO_8859_1;

    /** A reply to {@code request}: its ids, another type and payload. */
    static XsMessage reply(XsMessage request, int type, byte[] payload) {
        return new XsMessage(type, request.reqId, request.txId, payload);
    }

    /** A watch event: request and transaction id 0, as xenstored sends it. */
    static XsMessage watchEvent(String path, String token) {
        return new XsMessage(XsWire.XS_WATCH_EVENT, 0, 0, strings(path, token));
    }

    /** The payload of strings each followed by a NUL. */
    static byte[] strings(String... strings) {
        return strings(List.of(strings));
    }

    static byte[] strings(List<String> strings) {
        int length = 0;
        for (String s : strings) {
            length += s.length() + 1;
        }
        byte[] payload = new byte[length];
        int at = 0;
        for (String s : strings) {
            byte[] bytes = s.getBytes(BYTES);
            System.arraycopy(bytes, 0, payload, at, bytes.length);
            at += bytes.length + 1;
        }
        return payload;
    }

    /**
     * The NUL-terminated strings of the payload, as xenstored's
     * {@code get_strings} finds them: bytes after the last NUL are not a
     * string.
     */
    List<String> strings() {
        List<String> strings = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < payload.length; i++) {
            if (payload[i] == 0) {
                strings.add(new String(payload, start, i - start, BYTES));
                start = i + 1;
            }
        }
        return strings;
    }

    /** {@code onearg}: the one string of a payload holding exactly one NUL, at its end; else {@code null}. */
    String oneArg() {
        int n = payload.length;
        if (n == 0 || payload[n - 1] != 0) {
            return null;
        }
        for (int i = 0; i < n - 1; i++) {
            if (payload[i] == 0) {
                return null;
            }
        }
        return new String(payload, 0, n - 1, BYTES);
    }

    /** The number of NULs, as {@code xs_count_strings}. */
    int countStrings() {
        int count = 0;
        for (byte b : payload) {
            if (b == 0) {
                count++;
            }
        }
        return count;
    }

    /** The payload as one string, without a trailing NUL if it has one. */
    String text() {
        int n = payload.length;
        if (n > 0 && payload[n - 1] == 0) {
            n--;
        }
        return new String(payload, 0, n, BYTES);
    }

    /** Header and payload, as they travel. */
    byte[] encode() {
        ByteBuffer buffer = ByteBuffer.allocate(XsWire.HEADER_SIZE + payload.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putInt(type).putInt(reqId).putInt(txId).putInt(payload.length).put(payload);
        return buffer.array();
    }

    /** A header read from the wire, with room for its payload. */
    record Header(int type, int reqId, int txId, int len) {

        static Header decode(byte[] header) {
            ByteBuffer buffer = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN);
            return new Header(buffer.getInt(), buffer.getInt(), buffer.getInt(), buffer.getInt());
        }

        /** {@code len} as the unsigned number it is on the wire. */
        long length() {
            return Integer.toUnsignedLong(len);
        }

        boolean tooLong() {
            return length() > XsWire.XENSTORE_PAYLOAD_MAX;
        }

        XsMessage with(byte[] payload) {
            return new XsMessage(type, reqId, txId, payload);
        }
    }
}
