package xenshim.x86.dom0;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.XenIoRings;

/**
 * dom0's backend of a guest's PV console, as xenconsoled serves it: the {@code struct xencons_interface}
 * page ({@code io/console.h}), whose {@code out} ring the guest fills and whose {@code in} ring carries
 * what is typed to it. Output goes to the runtime's console, where it reads exactly like the guest's
 * {@code console_io} output; each side notifies the other through the console event channel.
 *
 * <p>The indexes are the guest's to write, so they are read once per pass and checked: a ring whose
 * producer is more than a ring ahead of its consumer is left alone (nothing read, nothing written), as
 * xenconsoled leaves it.
 */
public final class ConsoleBackend {

    private static final Logger LOG = LoggerFactory.getLogger(ConsoleBackend.class);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** Input typed but not yet taken by the guest is kept up to this much; the rest is dropped. */
    static final int INPUT_BACKLOG = 64 * 1024;

    private final Domain guest;
    private final ConsoleRing ring;
    private final Runnable notify;
    private final GuestConsole console;
    private final byte[] input = new byte[INPUT_BACKLOG];
    private int inputStart;
    private int inputLength;
    private boolean brokenReported;

    /**
     * @param page    the guest's console page (4 KiB), mapped by dom0
     * @param notify  sends on dom0's end of the console channel
     * @param console where the guest's output goes
     */
    public ConsoleBackend(Domain guest, MemorySegment page, Runnable notify, GuestConsole console) {
        this.guest = Objects.requireNonNull(guest);
        this.ring = new ConsoleRing(page);
        this.notify = Objects.requireNonNull(notify);
        this.console = Objects.requireNonNull(console);
    }

    /** The guest notified (or input is waiting): drains its output and feeds it input. Any thread. */
    public synchronized void kick() {
        boolean moved = drainOutput() | feedInput();
        if (moved) {
            notify.run();
        }
    }

    /** Queues bytes typed for the guest and passes what fits to its {@code in} ring. */
    public synchronized void type(byte[] bytes, int offset, int length) {
        int room = INPUT_BACKLOG - inputLength;
        if (length > room) {
            LOG.warn("console of {}: {} typed bytes dropped (the guest is not reading)", guest, length - room);
            length = room;
        }
        for (int i = 0; i < length; i++) {
            input[(inputStart + inputLength + i) % INPUT_BACKLOG] = bytes[offset + i];
        }
        inputLength += length;
        kick();
    }

    /** Bytes typed that the guest has not been given yet. */
    public synchronized int backlog() {
        return inputLength;
    }

    private boolean drainOutput() {
        int cons = ring.outCons();
        int prod = ring.outProd(); // acquire: the bytes before it are the guest's
        int size = prod - cons;
        if (size == 0) {
            return false;
        }
        if (Integer.compareUnsigned(size, ConsoleRing.OUT_SIZE) > 0) {
            broken("out", cons, prod);
            return false;
        }
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = ring.out(cons + i);
        }
        ring.setOutCons(prod); // release: the guest may reuse the space
        console.write(guest, bytes, 0, size);
        return true;
    }

    private boolean feedInput() {
        if (inputLength == 0) {
            return false;
        }
        int cons = ring.inCons();
        int prod = ring.inProd();
        int used = prod - cons;
        if (Integer.compareUnsigned(used, ConsoleRing.IN_SIZE) > 0) {
            broken("in", cons, prod);
            return false;
        }
        int n = Math.min(ConsoleRing.IN_SIZE - used, inputLength);
        for (int i = 0; i < n; i++) {
            ring.setIn(prod + i, input[(inputStart + i) % INPUT_BACKLOG]);
        }
        inputStart = (inputStart + n) % INPUT_BACKLOG;
        inputLength -= n;
        ring.setInProd(prod + n); // release: the bytes are there before the index says so
        return n > 0;
    }

    private void broken(String which, int cons, int prod) {
        if (!brokenReported) {
            brokenReported = true;
            LOG.warn("console of {}: {} ring indexes cons={} prod={} are more than a ring apart; left alone",
                    guest, which, Integer.toUnsignedString(cons), Integer.toUnsignedString(prod));
        }
    }

    /** {@code struct xencons_interface} ({@code io/console.h}), its layout as the probe checked it. */
    static final class ConsoleRing {
        static final int IN_SIZE = XenIoRings.XENCONS_IN_SIZE;
        static final int OUT_SIZE = XenIoRings.XENCONS_OUT_SIZE;
        private static final StructLayout LAYOUT = AbiLayouts.X86_64.xencons_interface;
        static final long IN = AbiLayouts.offset(LAYOUT, "in");
        static final long OUT = AbiLayouts.offset(LAYOUT, "out");
        static final long IN_CONS = AbiLayouts.offset(LAYOUT, "in_cons");
        static final long IN_PROD = AbiLayouts.offset(LAYOUT, "in_prod");
        static final long OUT_CONS = AbiLayouts.offset(LAYOUT, "out_cons");
        static final long OUT_PROD = AbiLayouts.offset(LAYOUT, "out_prod");
        static final long SIZE = LAYOUT.byteSize();

        private final MemorySegment page;

        ConsoleRing(MemorySegment page) {
            if (page.byteSize() < SIZE) {
                throw new IllegalArgumentException("a console page holds " + SIZE + " bytes, not " + page.byteSize());
            }
            this.page = page;
        }

        int inCons() {
            int v = page.get(LE_INT, IN_CONS);
            VarHandle.acquireFence();
            return v;
        }

        int inProd() {
            return page.get(LE_INT, IN_PROD);
        }

        int outCons() {
            return page.get(LE_INT, OUT_CONS);
        }

        int outProd() {
            int v = page.get(LE_INT, OUT_PROD);
            VarHandle.acquireFence();
            return v;
        }

        byte out(int index) {
            return page.get(ValueLayout.JAVA_BYTE, OUT + (index & (OUT_SIZE - 1)));
        }

        void setIn(int index, byte value) {
            page.set(ValueLayout.JAVA_BYTE, IN + (index & (IN_SIZE - 1)), value);
        }

        void setOutCons(int value) {
            VarHandle.releaseFence();
            page.set(LE_INT, OUT_CONS, value);
        }

        void setInProd(int value) {
            VarHandle.releaseFence();
            page.set(LE_INT, IN_PROD, value);
        }
    }
}
