package xenshim.handlers.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;
import static xenshim.api.xen.XenConsole.CONSOLEIO_read;
import static xenshim.api.xen.XenConsole.CONSOLEIO_write;
import static xenshim.api.xen.XenErrno.XEN_E2BIG;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

class ConsoleIoHandlerTest {

    private final Domain domU = FakeDomains.guest(3);
    private final Domain dom0 = FakeDomains.privilegedGuest(0);
    private FakeGuestMemory memory;
    private GuestConsole console;
    /** What the console received; the handler reuses its buffer, so each chunk is copied as it comes. */
    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final List<Integer> chunks = new ArrayList<>();

    @BeforeEach
    void setUp() {
        memory = FakeGuestMemory.standard();
        console = mock(GuestConsole.class);
        doAnswer(call -> {
            byte[] bytes = call.getArgument(1);
            int offset = call.getArgument(2);
            int length = call.getArgument(3);
            printed.write(bytes, offset, length);
            chunks.add(length);
            return null;
        }).when(console).write(any(), any(), anyInt(), anyInt());
    }

    private HandlerHarness harness(Domain caller, Abi abi) {
        return HandlerHarness.of(new ConsoleIoHandler(console)).domain(caller).memory(memory).abi(abi);
    }

    private long put(long address, byte[] bytes) {
        memory.write(address, bytes, 0, bytes.length);
        return address;
    }

    private String printed() {
        return printed.toString(StandardCharsets.ISO_8859_1);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aDomUWritesALine(Abi abi) {
        long buffer = put(memory.base(), "hello, xen\n".getBytes(StandardCharsets.US_ASCII));

        assertThat(harness(domU, abi).call(CONSOLEIO_write, 11, buffer)).isZero();

        assertThat(printed()).isEqualTo("hello, xen\n");
        verify(console).write(eq(domU), any(), eq(0), eq(11));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aDomUsControlCharactersAndHighBytesAreStripped(Abi abi) {
        byte[] text = "a\u0001b\u001b[31mc\td\r\n".getBytes(StandardCharsets.ISO_8859_1);
        byte[] withHigh = new byte[text.length + 3];
        System.arraycopy(text, 0, withHigh, 0, text.length);
        withHigh[text.length] = (byte) 0x7f;
        withHigh[text.length + 1] = (byte) 0xc3;
        withHigh[text.length + 2] = (byte) 0xa9;
        long buffer = put(memory.base(), withHigh);

        assertThat(harness(domU, abi).call(CONSOLEIO_write, withHigh.length, buffer)).isZero();

        assertThat(printed()).isEqualTo("ab[31mc\td\n");
    }

    @Test
    void aPrivilegedDomainWritesRawBytes() {
        byte[] raw = {0x1b, '[', '2', 'J', 0, (byte) 0xff, '\r', '\n'};
        long buffer = put(memory.base(), raw);

        assertThat(harness(dom0, Abi.X86_64).call(CONSOLEIO_write, raw.length, buffer)).isZero();

        assertThat(printed.toByteArray()).containsExactly(raw);
    }

    @Test
    void aZeroCountTouchesNoMemory() {
        memory.unmap(memory.base());

        assertThat(harness(domU, Abi.X86_64).call(CONSOLEIO_write, 0, memory.base())).isZero();

        verify(console, never()).write(any(), any(), anyInt(), anyInt());
    }

    @Test
    void theCountIsAnUnsignedInt() {
        long buffer = put(memory.base(), "abcde".getBytes(StandardCharsets.US_ASCII));

        assertThat(harness(domU, Abi.X86_64).call(CONSOLEIO_write, 0x1_0000_0005L, buffer)).isZero();

        assertThat(printed()).isEqualTo("abcde");
    }

    @Test
    void theCmdIsAnUnsignedInt() {
        long buffer = put(memory.base(), "x".getBytes(StandardCharsets.US_ASCII));

        assertThat(harness(domU, Abi.X86_64).call(0x1_0000_0000L | CONSOLEIO_write, 1, buffer)).isZero();

        assertThat(printed()).isEqualTo("x");
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aLongWriteGoesOutInChunksOf127(Abi abi) {
        byte[] text = new byte[300];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ('a' + i % 26);
        }
        long buffer = put(memory.base(), text);

        assertThat(harness(domU, abi).call(CONSOLEIO_write, text.length, buffer)).isZero();

        assertThat(chunks).containsExactly(127, 127, 46);
        assertThat(printed.toByteArray()).containsExactly(text);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aFaultIsEfaultAfterTheEarlierChunks(Abi abi) {
        // 200 bytes ending in an unmapped page: the first chunk (127 bytes) is readable, the second is not.
        long buffer = memory.page(1) - 130;
        memory.unmap(memory.page(1));
        byte[] text = new byte[130];
        java.util.Arrays.fill(text, (byte) 'z');
        put(buffer, text);

        assertThat(harness(domU, abi).call(CONSOLEIO_write, 200, buffer)).isEqualTo(-XEN_EFAULT);

        assertThat(chunks).containsExactly(127);
    }

    /** {@code bytes} of 'a'..'z' from the first page of a memory big enough for them. */
    private long fillLetters(int bytes) {
        memory = FakeGuestMemory.of(0x10000, bytes / 4096 + 1);
        byte[] text = new byte[bytes];
        for (int i = 0; i < text.length; i++) {
            text[i] = (byte) ('a' + i % 26);
        }
        return put(memory.base(), text);
    }

    @Test
    void aDomUsWriteStopsAfterOneMebibyte() {
        int limit = (int) ConsoleIoHandler.DOMU_WRITE_LIMIT;
        assertThat(limit).isEqualTo(1 << 20);
        long buffer = fillLetters(limit + 3 * 4096);
        // the page after the limit faults: it is never read, so the call still succeeds
        memory.unmap(buffer + limit + 4096);

        assertThat(harness(domU, Abi.X86_64).call(CONSOLEIO_write, limit + 3 * 4096, buffer)).isZero();

        assertThat(printed.size()).isEqualTo(limit);
        assertThat(chunks.stream().mapToInt(Integer::intValue).sum()).isEqualTo(limit);
        assertThat(printed.toByteArray()).containsExactly(memory.readBytes(buffer, limit));
    }

    @Test
    void aPrivilegedDomainsWriteIsNotCapped() {
        int count = (int) ConsoleIoHandler.DOMU_WRITE_LIMIT + 3 * 4096;
        long buffer = fillLetters(count);

        assertThat(harness(dom0, Abi.X86_64).call(CONSOLEIO_write, count, buffer)).isZero();

        assertThat(printed.size()).isEqualTo(count);
    }

    @Test
    void aBufferOutsideGuestMemoryIsEfault() {
        assertThat(harness(domU, Abi.X86_64).call(CONSOLEIO_write, 5, 0xdead_0000_0000L)).isEqualTo(-XEN_EFAULT);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aDomUMayNotRead(Abi abi) {
        assertThat(harness(domU, abi).call(CONSOLEIO_read, 16, memory.base())).isEqualTo(-XEN_EPERM);
        verify(console, never()).read(any(), anyInt());
    }

    @Test
    void aDomUGetsEpermForAnUnknownCmdBecauseXsmComesFirst() {
        assertThat(harness(domU, Abi.X86_64).call(2, 16, memory.base())).isEqualTo(-XEN_EPERM);
    }

    @Test
    void aPrivilegedDomainGetsEnosysForAnUnknownCmd() {
        assertThat(harness(dom0, Abi.X86_64).call(2, 16, memory.base())).isEqualTo(-XEN_ENOSYS);
        assertThat(harness(FakeDomains.localDom0(), Abi.X86_64).call(99, 0, 0)).isEqualTo(-XEN_ENOSYS);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPrivilegedDomainReadsConsoleInput(Abi abi) {
        when(console.read(any(), eq(16))).thenAnswer(call -> {
            byte[] into = call.getArgument(0);
            into[0] = 'o';
            into[1] = 'k';
            return 2;
        });

        assertThat(harness(dom0, abi).call(CONSOLEIO_read, 16, memory.base())).isEqualTo(2);

        assertThat(memory.readBytes(memory.base(), 2)).containsExactly('o', 'k');
    }

    @Test
    void aReadAsksForAtMostTheSerialRingSize() {
        assertThat(harness(dom0, Abi.X86_64).call(CONSOLEIO_read, 100_000, memory.base())).isZero();
        verify(console).read(any(), eq(ConsoleIoHandler.SERIAL_RX_SIZE));
    }

    @Test
    void aReadOfZeroBytesReturnsZero() {
        assertThat(harness(dom0, Abi.X86_64).call(CONSOLEIO_read, 0, memory.base())).isZero();
        verify(console, never()).read(any(), anyInt());
    }

    @Test
    void aReadOfMoreThanIntMaxIsE2big() {
        assertThat(harness(dom0, Abi.X86_64).call(CONSOLEIO_read, 0x8000_0000L, memory.base())).isEqualTo(-XEN_E2BIG);
        assertThat(harness(dom0, Abi.X86_32).call(CONSOLEIO_read, 0xFFFF_FFFFL, memory.base())).isEqualTo(-XEN_E2BIG);
    }

    @Test
    void aReadIntoAReadOnlyBufferIsEfault() {
        when(console.read(any(), anyInt())).thenReturn(3);
        memory.readOnly(memory.base());

        assertThat(harness(dom0, Abi.X86_64).call(CONSOLEIO_read, 8, memory.base())).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void aConsoleThatClaimsTooMuchIsCappedAtTheCount() {
        when(console.read(any(), anyInt())).thenReturn(1000);

        assertThat(harness(dom0, Abi.X86_64).call(CONSOLEIO_read, 4, memory.base())).isEqualTo(4);
    }

    @Test
    void theProviderDiscardsOutput() {
        long buffer = put(memory.base(), "x".getBytes(StandardCharsets.US_ASCII));
        assertThat(HandlerHarness.of(ConsoleIoHandler.provider()).domain(domU).memory(memory)
                .call(CONSOLEIO_write, 1, buffer)).isZero();
    }

    @Test
    void ofEveryByteValueADomUKeepsExactlyTabNewlineAndPrintableAscii() {
        byte[] all = new byte[256];
        for (int c = 0; c < 256; c++) {
            all[c] = (byte) c;
        }
        long buffer = put(memory.base(), all);

        assertThat(harness(domU, Abi.X86_64).call(CONSOLEIO_write, all.length, buffer)).isZero();

        assertThat(printed()).isEqualTo("\t\n !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`"
                + "abcdefghijklmnopqrstuvwxyz{|}~");
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPreemptedWriteContinuesWithTheCountLeftAtTheBufferReached(Abi abi) {
        byte[] text = new byte[300];
        java.util.Arrays.fill(text, (byte) 'q');
        long buffer = put(memory.base(), text);
        HandlerHarness harness = harness(domU, abi).preemptEvery(1);

        assertThat(harness.call(CONSOLEIO_write, text.length, buffer)).isZero();

        // checked before every chunk but the first of an entry: one chunk per entry
        assertThat(harness.continuations()).containsExactly(
                new long[] {CONSOLEIO_write, 173, buffer + 127, 0, 0},
                new long[] {CONSOLEIO_write, 46, buffer + 254, 0, 0});
        assertThat(chunks).containsExactly(127, 127, 46);
        assertThat(printed.toByteArray()).containsExactly(text);
    }

    @Test
    void aContinuedDomUWriteStillStopsAfterOneMebibyte() {
        int limit = (int) ConsoleIoHandler.DOMU_WRITE_LIMIT;
        long buffer = fillLetters(limit + 2 * 4096);

        HandlerHarness harness = harness(domU, Abi.X86_64).preemptEvery(100);
        assertThat(harness.call(CONSOLEIO_write, 0xFFFF_FFFFL, buffer)).isZero();

        assertThat(printed.size()).isEqualTo(limit);
        assertThat(harness.continuations()).isNotEmpty().allSatisfy(a -> assertThat(a[1]).isLessThan(limit));
    }
}
