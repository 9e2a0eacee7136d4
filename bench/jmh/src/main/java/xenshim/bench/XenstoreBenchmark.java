package xenshim.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import xenshim.xenstore.DomainNodes;
import xenshim.xenstore.RingConnection;
import xenshim.xenstore.XsClient;
import xenshim.xenstore.XsPerm;
import xenshim.xenstore.XsPerms;
import xenshim.xenstore.XsWire;
import xenshim.xenstore.Xenstored;

/**
 * Xenstore requests per second:
 * <ul>
 * <li>{@link #clientRead}, {@link #clientWrite}: dom0 code through
 *     {@link XsClient}, in the caller's thread;</li>
 * <li>{@link #ringRead}, {@link #ringWrite}: a guest's request over its ring,
 *     the benchmark thread playing the guest (writes the request, kicks,
 *     spins until the whole reply is on the response ring, consumes it,
 *     kicks), the store's ring thread serving it.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class XenstoreBenchmark {

    private static final int DOMID = 5;
    private static final VarHandle U32 = ValueLayout.JAVA_INT.varHandle();
    private static final long REQ = offset("req");
    private static final long RSP = offset("rsp");
    private static final long REQ_CONS = offset("req_cons");
    private static final long REQ_PROD = offset("req_prod");
    private static final long RSP_CONS = offset("rsp_cons");
    private static final long RSP_PROD = offset("rsp_prod");
    private static final int MASK = XsWire.XENSTORE_RING_SIZE - 1;

    private Xenstored xs;
    private XsClient client;
    private MemorySegment page;
    private RingConnection ring;
    private byte[] readRequest;
    private byte[] writeRequest;
    private final byte[] reply = new byte[XsWire.HEADER_SIZE + XsWire.XENSTORE_PAYLOAD_MAX];

    @Setup
    public void setUp() {
        xs = new Xenstored();
        client = xs.client();
        client.write("/bench/key", "value");
        client.mkdir("/local/domain/" + DOMID);
        client.setPerms("/local/domain/" + DOMID, XsPerms.of(XsPerm.none(DOMID)));
        client.write("/local/domain/" + DOMID + "/key", "value");
        page = Arena.ofAuto().allocate(4096, 4096);
        ring = new DomainNodes(xs).introduce(DOMID, page, () -> { });
        readRequest = request(XsWire.XS_READ, "key\0");
        writeRequest = request(XsWire.XS_WRITE, "key\0value");
    }

    @TearDown
    public void tearDown() {
        client.close();
        xs.release(DOMID);
    }

    @Benchmark
    public String clientRead() {
        return client.read("/bench/key");
    }

    @Benchmark
    public void clientWrite() {
        client.write("/bench/key", "value");
    }

    @Benchmark
    public int ringRead() {
        return roundTrip(readRequest);
    }

    @Benchmark
    public int ringWrite() {
        return roundTrip(writeRequest);
    }

    /** One request over the ring; returns the reply's length. */
    private int roundTrip(byte[] request) {
        int prod = (int) U32.getAcquire(page, REQ_PROD);
        for (int i = 0; i < request.length; i++) {
            page.set(ValueLayout.JAVA_BYTE, REQ + ((prod + i) & MASK), request[i]);
        }
        U32.setRelease(page, REQ_PROD, prod + request.length);
        ring.kick();
        int length = -1;
        int got = 0;
        int cons = (int) U32.getAcquire(page, RSP_CONS);
        while (length < 0 || got < length) {
            int available = (int) U32.getAcquire(page, RSP_PROD) - cons;
            for (int i = 0; i < available; i++) {
                reply[got++] = page.get(ValueLayout.JAVA_BYTE, RSP + ((cons + i) & MASK));
            }
            cons += available;
            if (length < 0 && got >= XsWire.HEADER_SIZE) {
                length = XsWire.HEADER_SIZE + ByteBuffer.wrap(reply, 12, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
            }
            if (available == 0) {
                Thread.onSpinWait();
            }
        }
        U32.setRelease(page, RSP_CONS, cons);
        return length;
    }

    private static byte[] request(int type, String payload) {
        byte[] body = payload.getBytes(StandardCharsets.ISO_8859_1);
        return ByteBuffer.allocate(XsWire.HEADER_SIZE + body.length).order(ByteOrder.LITTLE_ENDIAN).putInt(type)
                .putInt(1).putInt(0).putInt(body.length).put(body).array();
    }

    private static long offset(String member) {
        return XsWire.XENSTORE_DOMAIN_INTERFACE.byteOffset(MemoryLayout.PathElement.groupElement(member));
    }
}
