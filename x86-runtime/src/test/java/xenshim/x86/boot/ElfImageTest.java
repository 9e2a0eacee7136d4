package xenshim.x86.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static xenshim.x86.boot.ElfBuilder.*;

import java.io.InputStream;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ElfImageTest {

    private static final byte[] CODE = {(byte) 0xF4, (byte) 0xEB, (byte) 0xFD, 0x11, 0x22};

    private static ElfBuilder builder(boolean elf64) {
        return elf64 ? ElfBuilder.elf64() : ElfBuilder.elf32();
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void parsesLoadSegmentsAndUsesEEntryWithoutNote(boolean elf64) {
        ElfBuilder b = builder(elf64).entry(0x100040)
                .load(0x100000, CODE, 0x3000)
                .load(0x200000, new byte[] {1, 2, 3}, 3);
        ElfImage image = ElfImage.parse("k.elf", b.build());

        assertThat(image.name()).isEqualTo("k.elf");
        assertThat(image.entry()).isEqualTo(0x100040);
        assertThat(image.hasPvhEntry()).isFalse();
        assertThat(image.segments()).hasSize(2);
        ElfImage.Segment s0 = image.segments().get(0);
        assertThat(s0.physAddr()).isEqualTo(0x100000);
        assertThat(s0.fileSize()).isEqualTo(CODE.length);
        assertThat(s0.memSize()).isEqualTo(0x3000);
        assertThat(Arrays.copyOfRange(image.bytes(), (int) s0.offset(), (int) (s0.offset() + s0.fileSize()))).isEqualTo(CODE);
        assertThat(image.segments().get(1).physAddr()).isEqualTo(0x200000);
        assertThat(image.segments().get(1).memSize()).isEqualTo(3);
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void pvhNoteOverridesEEntry(boolean elf64) {
        byte[] notes = concat(noteEntry("GNU", 3, new byte[] {9, 9, 9, 9, 9, 9, 9, 9}),
                noteEntry("Xen", 6, "linux".getBytes()), pvhNote(0x100123));
        ElfImage image = ElfImage.parse("pvh.elf",
                builder(elf64).entry(0xFFFFFFFF81000000L & (elf64 ? -1L : 0xFFFFFFFFL)).note(notes).load(0x100000, CODE, CODE.length).build());

        assertThat(image.entry()).isEqualTo(0x100123);
        assertThat(image.hasPvhEntry()).isTrue();
        assertThat(image.segments()).hasSize(1);
    }

    @Test
    void noteOfAnotherOwnerWithType18IsIgnored() {
        ElfImage image = ElfImage.parse("k.elf", elf64().entry(0x100000)
                .note(noteEntry("GNU", 18, le32(0x555))).load(0x100000, CODE, CODE.length).build());
        assertThat(image.hasPvhEntry()).isFalse();
        assertThat(image.entry()).isEqualTo(0x100000);
    }

    @Test
    void zeroSizedLoadSegmentsAreSkipped() {
        ElfImage image = ElfImage.parse("k.elf", elf64().entry(0x100000)
                .load(0x300000, new byte[0], 0).load(0x100000, CODE, CODE.length).build());
        assertThat(image.segments()).extracting(ElfImage.Segment::physAddr).containsExactly(0x100000L);
    }

    @Test
    void refusesNotElf() {
        assertThatThrownBy(() -> ElfImage.parse("notes.txt", "hello, this is not an ELF file".getBytes()))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("notes.txt").hasMessageContaining("not an ELF file");
        assertThatThrownBy(() -> ElfImage.parse("empty", new byte[0]))
                .isInstanceOf(BadGuestImageException.class).hasMessageContaining("empty").hasMessageContaining("not an ELF");
    }

    @ParameterizedTest(name = "e_machine={0}")
    @ValueSource(ints = {40, 183, 0})
    void refusesAMachineThatIsNotX86(int machine) {
        byte[] arm = elf32().machine(machine).entry(0x100000).load(0x100000, CODE, CODE.length).build();
        assertThatThrownBy(() -> ElfImage.parse("arm.elf", arm))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("arm.elf").hasMessageContaining("e_machine is " + machine)
                .hasMessageContaining("x86-64");
    }

    /** Xen takes both x86 machines (libelf's elf_xen_note_check, the toolstack's xc_dom_guest_type), in either class. */
    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void acceptsEm386AsWellAsEmX86_64(boolean elf64) {
        for (int machine : new int[] {3, 62}) {
            ElfImage image = ElfImage.parse("x86.elf", builder(elf64).machine(machine).entry(0x100000)
                    .note(pvhNote(0x100004)).load(0x100000, CODE, CODE.length).build());
            assertThat(image.entry()).as("e_machine %d", machine).isEqualTo(0x100004);
            assertThat(image.segments()).as("e_machine %d", machine).hasSize(1);
        }
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void aPvhNoteInASectionAloneIsFound(boolean elf64) {
        ElfImage image = ElfImage.parse("sect.elf", builder(elf64).machine(3).entry(0x100000)
                .load(0x100000, CODE, CODE.length).noteSection(pvhNote(0x100002)).build());
        assertThat(image.hasPvhEntry()).isTrue();
        assertThat(image.entry()).isEqualTo(0x100002);
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void aNoteSegmentWithOnlyOtherOwnersNotesFallsBackToTheSections(boolean elf64) {
        ElfImage image = ElfImage.parse("gnu.elf", builder(elf64).entry(0x100000)
                .note(noteEntry("GNU", 18, le32(0x555))).load(0x100000, CODE, CODE.length)
                .noteSection(concat(noteEntry("GNU", 1, le32(1)), pvhNote(0x100002))).build());
        assertThat(image.entry()).isEqualTo(0x100002);
    }

    /** libelf's order: SHT_NOTE sections only when the PT_NOTE segments hold no Xen note at all, of any type. */
    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void anyXenNoteInASegmentKeepsTheSectionsUnread(boolean elf64) {
        ElfImage image = ElfImage.parse("os.elf", builder(elf64).entry(0x100000)
                .note(noteEntry("Xen", 6, "linux".getBytes())).load(0x100000, CODE, CODE.length)
                .noteSection(pvhNote(0x100002)).build());
        assertThat(image.hasPvhEntry()).isFalse();
        assertThat(image.entry()).isEqualTo(0x100000);
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void theSegmentsPvhNoteWinsOverTheSections(boolean elf64) {
        ElfImage image = ElfImage.parse("both.elf", builder(elf64).entry(0x100000)
                .note(pvhNote(0x100001)).load(0x100000, CODE, CODE.length)
                .noteSection(pvhNote(0x100002)).build());
        assertThat(image.entry()).isEqualTo(0x100001);
    }

    @Test
    void theLastPvhNoteReadWins() {
        ElfImage image = ElfImage.parse("two.elf", elf64().entry(0x100000)
                .note(concat(pvhNote(0x100001), pvhNote(0x100003))).load(0x100000, CODE, CODE.length).build());
        assertThat(image.entry()).isEqualTo(0x100003);
    }

    /** "Some versions of binutils do not correctly set p_offset for note segments": libelf skips those. */
    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void aNoteSegmentAtFileOffsetZeroIsSkipped(boolean elf64) {
        ElfBuilder b = builder(elf64).entry(0x100000).note(pvhNote(0x100001)).load(0x100000, CODE, CODE.length)
                .noteSection(pvhNote(0x100002));
        byte[] image = b.patchWord(b.build(), b.phdr(0) + b.offsetField(), 0);
        assertThat(ElfImage.parse("zero.elf", image).entry()).isEqualTo(0x100002);
    }

    @Test
    void refusesAMalformedNoteSection() {
        byte[] bad = patch(pvhNote(0x100000), 4, 0x1000, 4);
        byte[] image = elf32().machine(3).entry(0x100000).load(0x100000, CODE, CODE.length).noteSection(bad).build();
        assertThatThrownBy(() -> ElfImage.parse("note.elf", image))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("note.elf").hasMessageContaining("malformed ELF note");
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void refusesANoteSectionPastTheEnd(boolean elf64) {
        ElfBuilder b = builder(elf64).entry(0x100000).load(0x100000, CODE, CODE.length).noteSection(pvhNote(0x100000));
        byte[] far = b.patchWord(b.build(), b.shdr(1) + b.shOffsetField(), 0x7FFF_0000L);
        assertThatThrownBy(() -> ElfImage.parse("far.elf", far))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("far.elf").hasMessageContaining("note section 1").hasMessageContaining("past the end");
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void refusesASectionHeaderTablePastTheEnd(boolean elf64) {
        ElfBuilder b = builder(elf64).entry(0x100000).load(0x100000, CODE, CODE.length).noteSection(pvhNote(0x100000));
        byte[] full = b.build();
        byte[] cut = Arrays.copyOf(full, b.shdr(1) + 8);
        assertThatThrownBy(() -> ElfImage.parse("sh.elf", cut))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("sh.elf").hasMessageContaining("section header table").hasMessageContaining("past the end");
    }

    @Test
    void refusesUnknownClass() {
        byte[] image = elf64().entry(0x100000).load(0x100000, CODE, CODE.length).build();
        image[4] = 7;
        assertThatThrownBy(() -> ElfImage.parse("k.elf", image))
                .isInstanceOf(BadGuestImageException.class).hasMessageContaining("k.elf").hasMessageContaining("class 7");
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void refusesTruncatedHeader(boolean elf64) {
        byte[] full = builder(elf64).entry(0x100000).load(0x100000, CODE, CODE.length).build();
        byte[] cut = Arrays.copyOf(full, 40);
        assertThatThrownBy(() -> ElfImage.parse("cut.elf", cut))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("cut.elf").hasMessageContaining("truncated").hasMessageContaining("ELF header");
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void refusesProgramHeaderTablePastTheEnd(boolean elf64) {
        ElfBuilder b = builder(elf64).entry(0x100000).load(0x100000, CODE, CODE.length);
        byte[] full = b.build();
        // cut the file in the middle of the program header table
        byte[] cut = Arrays.copyOf(full, b.headerSize() + 10);
        assertThatThrownBy(() -> ElfImage.parse("ph.elf", cut))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("ph.elf").hasMessageContaining("program header table").hasMessageContaining("past the end");
        // or point e_phoff beyond the file
        byte[] far = elf64 ? patch(full, 32, 1L << 40, 8) : patch(full, 28, 0x7FFF_0000L, 4);
        assertThatThrownBy(() -> ElfImage.parse("ph.elf", far))
                .isInstanceOf(BadGuestImageException.class).hasMessageContaining("program header table");
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void refusesSegmentDataPastTheEnd(boolean elf64) {
        ElfBuilder b = builder(elf64).entry(0x100000).load(0x100000, CODE, 0x10000);
        byte[] big = b.patchWord(b.build(), b.phdr(0) + b.fileszField(), 0x1000);
        assertThatThrownBy(() -> ElfImage.parse("seg.elf", big))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("seg.elf").hasMessageContaining("segment 0").hasMessageContaining("past the end");
        byte[] far = b.patchWord(b.build(), b.phdr(0) + b.offsetField(), 0xFFFF_FF00L);
        assertThatThrownBy(() -> ElfImage.parse("seg.elf", far))
                .isInstanceOf(BadGuestImageException.class).hasMessageContaining("segment 0");
    }

    @Test
    void refusesHugeSegmentOffsetsWithoutOverflow() {
        ElfBuilder b = elf64().entry(0x100000).load(0x100000, CODE, CODE.length);
        byte[] image = b.patchWord(b.build(), b.phdr(0) + b.offsetField(), Long.MAX_VALUE);
        assertThatThrownBy(() -> ElfImage.parse("seg.elf", image))
                .isInstanceOf(BadGuestImageException.class).hasMessageContaining("segment 0");
        byte[] negative = b.patchWord(b.build(), b.phdr(0) + b.fileszField(), -1L);
        assertThatThrownBy(() -> ElfImage.parse("seg.elf", negative))
                .isInstanceOf(BadGuestImageException.class).hasMessageContaining("seg.elf");
    }

    @ParameterizedTest(name = "elf64={0}")
    @ValueSource(booleans = {true, false})
    void refusesFileszLargerThanMemsz(boolean elf64) {
        byte[] image = builder(elf64).entry(0x100000).load(0x100000, CODE, 2).build();
        assertThatThrownBy(() -> ElfImage.parse("sz.elf", image))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("sz.elf").hasMessageContaining("p_filesz 5 > p_memsz 2");
    }

    @Test
    void refusesImageWithoutLoadSegment() {
        byte[] image = elf64().entry(0x100000).note(pvhNote(0x100000)).build();
        assertThatThrownBy(() -> ElfImage.parse("noload.elf", image))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("noload.elf").hasMessageContaining("no PT_LOAD");
    }

    @Test
    void refusesImageWithoutProgramHeaders() {
        byte[] image = patch(elf64().entry(0x100000).load(0x100000, CODE, CODE.length).build(), 56, 0, 2);
        assertThatThrownBy(() -> ElfImage.parse("nophdr.elf", image))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("nophdr.elf").hasMessageContaining("no program headers");
    }

    @Test
    void refusesMalformedNote() {
        byte[] note = pvhNote(0x100000);
        byte[] bad = patch(note, 4, 0x1000, 4); // descsz runs past the segment
        byte[] image = elf64().entry(0x100000).note(bad).load(0x100000, CODE, CODE.length).build();
        assertThatThrownBy(() -> ElfImage.parse("note.elf", image))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("note.elf").hasMessageContaining("malformed ELF note");
        byte[] hugeName = patch(note, 0, 0xFFFF_FFF0L, 4);
        byte[] image2 = elf64().entry(0x100000).note(hugeName).load(0x100000, CODE, CODE.length).build();
        assertThatThrownBy(() -> ElfImage.parse("note.elf", image2))
                .isInstanceOf(BadGuestImageException.class).hasMessageContaining("malformed ELF note");
    }

    @Test
    void refusesPvhNoteWithWrongDescriptorSize() {
        byte[] image = elf64().entry(0x100000).note(noteEntry("Xen", 18, new byte[] {1, 2}))
                .load(0x100000, CODE, CODE.length).build();
        assertThatThrownBy(() -> ElfImage.parse("desc.elf", image))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("desc.elf").hasMessageContaining("PHYS32_ENTRY");
    }

    @Test
    void refusesBigEndian() {
        byte[] image = elf64().entry(0x100000).load(0x100000, CODE, CODE.length).build();
        image[5] = 2;
        assertThatThrownBy(() -> ElfImage.parse("be.elf", image))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("be.elf").hasMessageContaining("not little-endian");
    }

    static byte[] bundled(String name) throws Exception {
        try (InputStream in = ElfImage.class.getModule().getResourceAsStream("xenshim/guests/" + name + ".elf")) {
            assertThat(in).as("bundled %s.elf", name).isNotNull();
            return in.readAllBytes();
        }
    }

    @Test
    void parsesTheBundledDemo() throws Exception {
        byte[] bytes = bundled("demo");
        ElfImage demo = ElfImage.parse("demo.elf", bytes);
        assertThat(demo.entry()).isEqualTo(0x100000L);
        assertThat(demo.hasPvhEntry()).isTrue();
        assertThat(demo.segments()).isNotEmpty()
                .allSatisfy(s -> assertThat(s.physAddr()).isGreaterThanOrEqualTo(0x100000L));
    }

    /** The demo linked with --oformat=elf32-i386, its Xen note only in a SHT_NOTE section: the same segments, the same entry. */
    @Test
    void parsesTheBundledDemoLinkedAsElf32I386() throws Exception {
        byte[] bytes = bundled("demo-elf32");
        assertThat(bytes[4]).as("EI_CLASS: ELF32").isEqualTo((byte) 1);
        assertThat(bytes[18] | bytes[19] << 8).as("e_machine: EM_386").isEqualTo(3);
        ElfImage demo32 = ElfImage.parse("demo-elf32.elf", bytes);
        ElfImage demo = ElfImage.parse("demo.elf", bundled("demo"));
        assertThat(demo32.hasPvhEntry()).isTrue();
        assertThat(demo32.entry()).isEqualTo(demo.entry()).isEqualTo(0x100000L);
        assertThat(demo32.segments()).extracting(ElfImage.Segment::physAddr, ElfImage.Segment::fileSize,
                ElfImage.Segment::memSize).containsExactlyElementsOf(demo.segments().stream()
                .map(s -> org.assertj.core.groups.Tuple.tuple(s.physAddr(), s.fileSize(), s.memSize())).toList());
    }
}
