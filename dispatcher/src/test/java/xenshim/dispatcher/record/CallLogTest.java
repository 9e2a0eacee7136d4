package xenshim.dispatcher.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xenshim.api.Abi;
import xenshim.api.Continuation;
import xenshim.api.DomainType;
import xenshim.api.PhysMap;
import xenshim.api.XenVersionInfo;

/** The recording format: a round trip of every kind of record, and the refusals of files that are not one. */
class CallLogTest {

    static final CallLog.Platform PLATFORM = new CallLog.Platform(XenVersionInfo.defaults().withVersion(4, 18),
            1_700_000_000_123_456_789L, "built-in", 1_700_000_000_000L);

    /** One of each kind of entry, with every optional part of a call used. */
    static List<CallLog.Entry> entries() {
        return List.of(
                new CallLog.DomainCreated(0, DomainType.LOCAL, true, new UUID(0, 0)),
                new CallLog.DomainCreated(1, DomainType.HVM, false, new UUID(0x1234_5678_9abc_def0L, -2)),
                new CallLog.DomainMemory(1, 128L << 20, 2, 509, List.of(
                        new PhysMap.MemoryMapEntry(0, 0x6000, PhysMap.MemoryMapEntry.E820_RAM),
                        new PhysMap.MemoryMapEntry(0x6000, 0x5000, PhysMap.MemoryMapEntry.E820_RESERVED))),
                new CallLog.PlatformPage(1, 1, 128, "grant entry".getBytes(StandardCharsets.US_ASCII)),
                new CallLog.Call(1, 0, Abi.X86_64, 0, 17, new long[] {1, 0x113550, 0, 0, -1}, 0, new long[0], null,
                        0, new int[0], new long[0],
                        List.of(new CallLog.Access(0x113550, 4, new byte[] {1, 2, 3, 4}),
                                new CallLog.Access(0xdead000, 8, null)),
                        List.of(new CallLog.Access(0x113550, 16, ".0-xenshim\0\0\0\0\0\0".getBytes(StandardCharsets.US_ASCII)))),
                new CallLog.Call(1, 1, Abi.X86_32, CallLog.CONTINUED, 12, new long[] {6, 0x1000, 0, 0, 0},
                        Continuation.PENDING, new long[] {6 | (3L << 6), 0x1000, 0, 0, 0}, null, 4, new int[] {3},
                        new long[] {123_456_789L, 123_456_999L}, List.of(), List.of()),
                new CallLog.Call(0, 0, Abi.X86_64, CallLog.FAULTED, 32, new long[] {4, 0x7f00_0000_1000L, 0, 0, 0},
                        -22, new long[0], null, 0, new int[0], new long[0], List.of(), List.of()),
                new CallLog.Call(1, 0, Abi.X86_64, CallLog.ERROR, 18, new long[5], 0, new long[0],
                        "java.lang.StackOverflowError", 0, new int[0], new long[0], List.of(), List.of()),
                new CallLog.DomainGone(1));
    }

    static byte[] recording(List<CallLog.Entry> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (CallLogWriter writer = CallLogWriter.to(bytes, PLATFORM)) {
            for (CallLog.Entry e : entries) {
                writer.write(e);
            }
        }
        return bytes.toByteArray();
    }

    static CallLog.Recording read(Path dir, byte[] bytes) throws IOException {
        Path file = dir.resolve("calls.xsrec");
        Files.write(file, bytes);
        return CallLogReader.read(file);
    }

    @Test
    void everyKindOfRecordComesBackAsItWasWritten(@TempDir Path dir) throws IOException {
        CallLog.Recording back = read(dir, recording(entries()));
        assertThat(back.platform()).usingRecursiveComparison().isEqualTo(PLATFORM);
        assertThat(back.entries()).usingRecursiveComparison().isEqualTo(entries());
        assertThat(back.calls()).hasSize(4);
        assertThat(back.calls().get(1).continued()).isTrue();
        assertThat(back.calls().get(1).continuation()[0]).isEqualTo(6 | (3L << 6));
        assertThat(back.calls().get(0).reads().get(1).faulted()).isTrue();
        assertThat(back.calls().get(2).faulted()).isTrue();
    }

    @Test
    void aCallRecordIs89BytesWithNoMemoryAndGrowsBy13PerAccessPlusItsBytes() throws IOException {
        byte[] empty = recording(List.of());
        CallLog.Call bare = new CallLog.Call(1, 0, Abi.X86_64, 0, 17, new long[5], 0, new long[0], null, 0,
                new int[0], new long[0], List.of(), List.of());
        assertThat(recording(List.of(bare)).length - empty.length).isEqualTo(89);
        CallLog.Call withRead = new CallLog.Call(1, 0, Abi.X86_64, 0, 17, new long[5], 0, new long[0], null, 0,
                new int[0], new long[] {5}, List.of(new CallLog.Access(0x1000, 60, new byte[60])), List.of());
        assertThat(recording(List.of(withRead)).length - empty.length).isEqualTo(89 + 8 + 13 + 60);
    }

    @Test
    void aFileCutAnywhereIsRefusedAsTruncatedNamingTheFile(@TempDir Path dir) throws IOException {
        byte[] whole = recording(entries());
        for (int cut = CallLog.MAGIC.length; cut < whole.length; cut++) {
            byte[] part = Arrays.copyOf(whole, cut);
            Path file = dir.resolve("cut.xsrec");
            Files.write(file, part);
            int at = cut;
            assertThatThrownBy(() -> CallLogReader.read(file)).as("cut at %d", at)
                    .isInstanceOf(CallLogException.class)
                    .hasMessageStartingWith(file + ": truncated");
        }
    }

    @Test
    void aFileThatIsNotARecordingSaysWhatItStartsWith(@TempDir Path dir) throws IOException {
        Path elf = dir.resolve("guest.elf");
        Files.write(elf, new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0});
        assertThatThrownBy(() -> CallLogReader.read(elf)).isInstanceOf(CallLogException.class)
                .hasMessage(elf + ": not a xenshim hypercall recording: it does not start with \"XSHIMREC\" "
                        + "(its first bytes are 7f 45 4c 46 02 01 01 00)");
        Path empty = dir.resolve("empty");
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> CallLogReader.read(empty)).hasMessageContaining("(the file is empty)");
        assertThatThrownBy(() -> CallLogReader.read(dir.resolve("none"))).isInstanceOf(CallLogException.class)
                .hasMessage(dir.resolve("none") + ": no such file");
    }

    @Test
    void anotherVersionAnUnknownRecordAndABadFieldAreRefusedSayingWhere(@TempDir Path dir) throws IOException {
        byte[] whole = recording(entries());
        byte[] version = whole.clone();
        version[9] = 9;
        assertThatThrownBy(() -> read(dir, version))
                .hasMessageEndingWith(": recording format version 9; this xenshim reads version 1");

        int second = secondRecord(whole);
        byte[] unknown = whole.clone();
        unknown[second] = 42;
        assertThatThrownBy(() -> read(dir, unknown)).isInstanceOf(CallLogException.class)
                .hasMessageEndingWith(": record 2 (kind 42) at byte " + second + ": unknown record kind 42");

        byte[] badType = whole.clone();
        badType[second + 5 + 2] = 7; // DOMAIN's type byte, after its u16 domid
        assertThatThrownBy(() -> read(dir, badType))
                .hasMessageEndingWith(": record 2 (DOMAIN) at byte " + second + ": domain type 7 is neither 0 (HVM) nor 1 (LOCAL)");

        byte[] trailing = Arrays.copyOf(whole, whole.length + 3);
        assertThatThrownBy(() -> read(dir, trailing)).hasMessageContaining("3 bytes after the END record");
    }

    /** The byte offset of the record after PLATFORM. */
    private static int secondRecord(byte[] file) {
        int platform = CallLog.MAGIC.length + 2;
        int length = ((file[platform + 1] & 0xFF) << 24) | ((file[platform + 2] & 0xFF) << 16)
                | ((file[platform + 3] & 0xFF) << 8) | (file[platform + 4] & 0xFF);
        return platform + 5 + length;
    }

    @Test
    void aWriterThatFailedLeavesNoEndRecordSoTheFileReadsAsTruncated(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("abandoned.xsrec");
        CallLogWriter writer = CallLogWriter.create(file, PLATFORM);
        writer.write(entries().getFirst());
        writer.abandon();
        assertThatThrownBy(() -> CallLogReader.read(file))
                .hasMessage(file + ": truncated: it ends after record 2 at byte " + Files.size(file)
                        + " with no END record (the recording run did not finish writing it)");
    }
}
