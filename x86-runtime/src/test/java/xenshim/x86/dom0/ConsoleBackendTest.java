package xenshim.x86.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;
import xenshim.x86.dom0.ConsoleBackend.ConsoleRing;

class ConsoleBackendTest {

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment page = arena.allocate(4096, 4096);
    private final Domain guest = Domain.guest(3);
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final AtomicInteger notified = new AtomicInteger();
    private final GuestConsole console = (domain, bytes, offset, length) -> {
        assertThat(domain).isSameAs(guest);
        printed.write(bytes, offset, length);
    };
    private final ConsoleBackend backend = new ConsoleBackend(guest, page, notified::incrementAndGet, console);

    @AfterEach
    void close() {
        arena.close();
    }

    /** The guest's side: appends text to {@code out} as a frontend does (bytes, then out_prod). */
    private void guestWrites(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.ISO_8859_1);
        int prod = page.get(LE_INT, ConsoleRing.OUT_PROD);
        for (byte b : bytes) {
            page.set(ValueLayout.JAVA_BYTE, ConsoleRing.OUT + (prod++ & (ConsoleRing.OUT_SIZE - 1)), b);
        }
        page.set(LE_INT, ConsoleRing.OUT_PROD, prod);
    }

    /** The guest's side: takes everything in {@code in}. */
    private String guestReads() {
        int cons = page.get(LE_INT, ConsoleRing.IN_CONS);
        int prod = page.get(LE_INT, ConsoleRing.IN_PROD);
        StringBuilder s = new StringBuilder();
        for (; cons != prod; cons++) {
            s.append((char) page.get(ValueLayout.JAVA_BYTE, ConsoleRing.IN + (cons & (ConsoleRing.IN_SIZE - 1))));
        }
        page.set(LE_INT, ConsoleRing.IN_CONS, cons);
        return s.toString();
    }

    @Test
    void outputReachesTheConsoleAndTheGuestIsNotified() {
        guestWrites("hello ");
        guestWrites("ring\n");
        backend.kick();
        assertThat(printed.toString(StandardCharsets.ISO_8859_1)).isEqualTo("hello ring\n");
        assertThat(page.get(LE_INT, ConsoleRing.OUT_CONS)).isEqualTo(11);
        assertThat(notified).hasValue(1);
        backend.kick(); // nothing new: no output, no notification
        assertThat(notified).hasValue(1);
    }

    @Test
    void outputAcrossTheWrapAndTheIndexOverflowArrivesWhole() {
        page.set(LE_INT, ConsoleRing.OUT_CONS, -5); // 5 bytes below 2^32: the text wraps index and ring
        page.set(LE_INT, ConsoleRing.OUT_PROD, -5);
        StringBuilder all = new StringBuilder();
        for (int round = 0; round < 5; round++) {
            String chunk = ("round " + round + " ").repeat(300).substring(0, 2000);
            guestWrites(chunk);
            backend.kick();
            all.append(chunk);
        }
        assertThat(printed.toString(StandardCharsets.ISO_8859_1)).isEqualTo(all.toString());
    }

    @Test
    void aRingWhoseIndexesAreMoreThanARingApartIsLeftAlone() {
        page.set(LE_INT, ConsoleRing.OUT_CONS, 0);
        page.set(LE_INT, ConsoleRing.OUT_PROD, ConsoleRing.OUT_SIZE + 1);
        backend.kick();
        assertThat(printed.size()).isZero();
        assertThat(page.get(LE_INT, ConsoleRing.OUT_CONS)).as("not consumed").isZero();
        page.set(LE_INT, ConsoleRing.OUT_PROD, -1); // behind the consumer
        backend.kick();
        assertThat(printed.size()).isZero();
        assertThat(notified).hasValue(0);
    }

    @Test
    void typedInputFillsTheInRingAndTheRestWaitsForRoom() {
        byte[] typed = "x".repeat(1500).getBytes(StandardCharsets.ISO_8859_1);
        backend.type(typed, 0, typed.length);
        assertThat(guestReads()).hasSize(ConsoleRing.IN_SIZE);
        assertThat(backend.backlog()).isEqualTo(1500 - ConsoleRing.IN_SIZE);
        backend.kick(); // the guest took it and notified
        assertThat(guestReads()).hasSize(1500 - ConsoleRing.IN_SIZE);
        assertThat(backend.backlog()).isZero();
        assertThat(notified).hasValue(2);
    }

    @Test
    void inputBeyondTheBacklogIsDroppedNotBlocked() {
        byte[] typed = new byte[ConsoleBackend.INPUT_BACKLOG + ConsoleRing.IN_SIZE + 10];
        backend.type(typed, 0, typed.length);
        assertThat(backend.backlog()).isEqualTo(ConsoleBackend.INPUT_BACKLOG - ConsoleRing.IN_SIZE);
    }

    @Test
    void aCorruptInRingIsNotWrittenInto() {
        page.set(LE_INT, ConsoleRing.IN_CONS, 0);
        page.set(LE_INT, ConsoleRing.IN_PROD, 5000);
        backend.type(new byte[] {'a'}, 0, 1);
        assertThat(page.get(LE_INT, ConsoleRing.IN_PROD)).isEqualTo(5000);
        assertThat(backend.backlog()).isEqualTo(1);
    }
}
