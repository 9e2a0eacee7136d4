package xenshim.handlers.version;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOBUFS;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenVersion.XENVER_build_id;
import static xenshim.api.xen.XenVersion.XENVER_capabilities;
import static xenshim.api.xen.XenVersion.XENVER_changeset;
import static xenshim.api.xen.XenVersion.XENVER_commandline;
import static xenshim.api.xen.XenVersion.XENVER_compile_info;
import static xenshim.api.xen.XenVersion.XENVER_extraversion;
import static xenshim.api.xen.XenVersion.XENVER_get_features;
import static xenshim.api.xen.XenVersion.XENVER_guest_handle;
import static xenshim.api.xen.XenVersion.XENVER_pagesize;
import static xenshim.api.xen.XenVersion.XENVER_platform_parameters;
import static xenshim.api.xen.XenVersion.XENVER_version;

import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.Hypercall;
import xenshim.api.XenVersionInfo;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenFeatures;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

/**
 * {@code xen_version} as Xen 4.17's {@code do_xen_version} (and, for 32-bit
 * callers, {@code compat_xen_version}) answers it: every sub-op, in both
 * ABIs, with the exact result and the exact bytes written.
 */
class XenVersionHandlerTest {

    private static final byte POISON = (byte) 0xAA;

    /** A configuration with a distinct value in every field. */
    private static final XenVersionInfo INFO = new XenVersionInfo(4, 17, ".0-test", "gcc (Debian 12.2.0) 12.2.0",
            "builder", "example.org", "Tue Jan  2 03:04:05 UTC 2024", "abcdef012345 2024-01-02",
            "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64", "console=com1 dom0_mem=1G",
            HexFormat.of().parseHex("00112233445566778899aabbccddeeff01020304"));

    private final FakeGuestMemory memory = FakeGuestMemory.standard();
    /** Where the tests put the guest's buffer: inside page 2, with poisoned bytes around it. */
    private final long buffer = memory.page(2) + 0x100;

    private HandlerHarness harness(Abi abi, Domain domain) {
        return harness(abi, domain, INFO);
    }

    private HandlerHarness harness(Abi abi, Domain domain, XenVersionInfo info) {
        memory.fill(memory.page(2), 2L * FakeGuestMemory.PAGE_SIZE, POISON);
        return HandlerHarness.of(new XenVersionHandler(info)).abi(abi).domain(domain).memory(memory);
    }

    /** The guest bytes at {@code address}. */
    private byte[] bytes(long address, int length) {
        return memory.readBytes(address, length);
    }

    private static byte[] poison(int length) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, POISON);
        return bytes;
    }

    /** {@code text} as a NUL-padded {@code char[size]}. */
    private static byte[] cString(String text, int size) {
        byte[] expected = new byte[size];
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        System.arraycopy(utf8, 0, expected, 0, utf8.length);
        return expected;
    }

    /** Asserts {@code expected} at the buffer and poison in the 64 bytes either side. */
    private void assertWritten(byte[] expected) {
        assertThat(bytes(buffer, expected.length)).as("bytes written").containsExactly(expected);
        assertThat(bytes(buffer - 64, 64)).as("bytes before the buffer").containsExactly(poison(64));
        assertThat(bytes(buffer + expected.length, 64)).as("bytes after the buffer").containsExactly(poison(64));
    }

    private void assertUntouched() {
        assertThat(bytes(memory.page(2), 2 * FakeGuestMemory.PAGE_SIZE)).as("guest memory")
                .containsExactly(poison(2 * FakeGuestMemory.PAGE_SIZE));
    }

    @Test
    void servesXenVersionSlot() {
        assertThat(XenVersionHandler.class.getAnnotation(Hypercall.class).value())
                .isEqualTo(Hypercalls.__HYPERVISOR_xen_version).isEqualTo(17);
    }

    @Test
    void plainServiceLoaderProviderUsesTheDefaults() {
        var harness = HandlerHarness.of(XenVersionHandler.provider());
        assertThat(harness.call(XENVER_version)).isEqualTo(XenVersionInfo.defaults().packedVersion())
                .isEqualTo((4 << 16) | 17);
    }

    // ---- XENVER_version ------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void versionIsMajorShiftedSixteenOrMinor(Abi abi) {
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_version)).isEqualTo(0x0004_0011L);
        assertThat(harness(abi, FakeDomains.guest(1), INFO.withVersion(0xFFFF, 0xFFFE)).call(XENVER_version, 0))
                .isEqualTo(0xFFFF_FFFEL);
        assertThat(harness(abi, FakeDomains.guest(1), INFO.withVersion(0, 0)).call(XENVER_version)).isZero();
        assertUntouched();
    }

    @Test
    void upperHalfOfCmdIsIgnoredIn64Bit() {
        // do_xen_version(int cmd, ...): a 64-bit rdi is cut to 32 bits.
        var harness = harness(Abi.X86_64, FakeDomains.guest(1));
        assertThat(harness.call(0xFFFF_FFFF_0000_0000L | XENVER_version)).isEqualTo(0x0004_0011L);
        assertThat(harness.call(0x1_0000_0000L | XENVER_pagesize, 0)).isEqualTo(4096);
    }

    @Test
    void compatCmdAndArgAreThirtyTwoBits() {
        var harness = harness(Abi.X86_32, FakeDomains.guest(1));
        assertThat(harness.call(0xDEAD_BEEF_0000_0000L | XENVER_version)).isEqualTo(0x0004_0011L);
        // ecx is 32 bits: the high half of a 64-bit value never reaches the handler.
        assertThat(harness.call(XENVER_pagesize, 0x1_0000_0000L)).isEqualTo(4096);
        assertThat(harness.call(XENVER_changeset, 0xFFFF_FFFF_0000_0000L | buffer)).isZero();
        assertWritten(cString(INFO.changeset(), 64));
    }

    // ---- strings ---------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void extraversionIsSixteenNulPaddedBytes(Abi abi) {
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_extraversion, buffer)).isZero();
        assertWritten(cString(".0-test", 16));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void tooLongExtraversionIsCutToFifteenCharsAndNul(Abi abi) {
        var info = INFO.withExtraversion("0123456789abcdefXYZ");
        assertThat(harness(abi, FakeDomains.guest(1), info).call(XENVER_extraversion, buffer)).isZero();
        byte[] expected = cString("0123456789abcde", 16);
        assertThat(expected[15]).isZero();
        assertWritten(expected);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void extraversionOfExactlyFifteenCharsFits(Abi abi) {
        var info = INFO.withExtraversion("0123456789abcde");
        assertThat(harness(abi, FakeDomains.guest(1), info).call(XENVER_extraversion, buffer)).isZero();
        assertWritten(cString("0123456789abcde", 16));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void compileInfoHasEachFieldAtItsOffset(Abi abi) {
        StructLayout layout = abi.layouts().xen_compile_info;
        assertThat(layout.byteSize()).isEqualTo(144);
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_compile_info, buffer)).isZero();

        byte[] expected = new byte[144];
        put(expected, layout, "compiler", 0, 64, INFO.compiler());
        put(expected, layout, "compile_by", 64, 16, INFO.compileBy());
        put(expected, layout, "compile_domain", 80, 32, INFO.compileDomain());
        put(expected, layout, "compile_date", 112, 32, INFO.compileDate());
        assertWritten(expected);
    }

    /** Puts {@code text} at the member's offset, checking the layout against the header's numbers on the way. */
    private static void put(byte[] struct, StructLayout layout, String member, int offset, int size, String text) {
        assertThat(AbiLayouts.offset(layout, member)).as(member + " offset").isEqualTo(offset);
        assertThat(AbiLayouts.size(layout, member)).as(member + " size").isEqualTo(size);
        byte[] field = cString(text, size);
        System.arraycopy(field, 0, struct, offset, size);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void compileInfoFieldsAreCutToFitWithANul(Abi abi) {
        String longText = "x".repeat(100);
        var info = new XenVersionInfo(4, 17, "", longText, longText, longText, longText, "", "", "", new byte[] {1});
        assertThat(harness(abi, FakeDomains.guest(1), info).call(XENVER_compile_info, buffer)).isZero();
        byte[] written = bytes(buffer, 144);
        for (int[] field : new int[][] {{0, 64}, {64, 16}, {80, 32}, {112, 32}}) {
            byte[] expected = new byte[field[1]];
            Arrays.fill(expected, 0, field[1] - 1, (byte) 'x');
            assertThat(Arrays.copyOfRange(written, field[0], field[0] + field[1])).containsExactly(expected);
        }
        assertThat(bytes(buffer + 144, 16)).containsExactly(poison(16));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void capabilitiesAre1024Bytes(Abi abi) {
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_capabilities, buffer)).isZero();
        assertWritten(cString("xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64", 1024));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void changesetIs64Bytes(Abi abi) {
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_changeset, buffer)).isZero();
        assertWritten(cString("abcdef012345 2024-01-02", 64));
    }

    // ---- XENVER_platform_parameters -------------------------------------------

    /**
     * Xen 4.17.0 gives every 64-bit caller {@code HYPERVISOR_VIRT_START}
     * (0xffff800000000000) and a compat HVM caller {@code hv_compat_vstart},
     * 0: one ABI long, 8 or 4 bytes, and nothing around it. (Upstream since
     * 2023, "xen/version: Drop bogus return values for
     * XENVER_platform_parameters", returns 0 to HVM callers in both ABIs.)
     */
    @Test
    void platformParametersIn64BitIsHypervisorVirtStartInEightBytes() {
        assertThat(Abi.X86_64.layouts().xen_platform_parameters.byteSize()).isEqualTo(8);
        assertThat(harness(Abi.X86_64, FakeDomains.guest(1)).call(XENVER_platform_parameters, buffer)).isZero();
        assertWritten(HexFormat.of().parseHex("000000000080ffff"));
    }

    @Test
    void platformParametersInCompatIsZeroInFourBytes() {
        assertThat(Abi.X86_32.layouts().xen_platform_parameters.byteSize()).isEqualTo(4);
        assertThat(harness(Abi.X86_32, FakeDomains.guest(1)).call(XENVER_platform_parameters, buffer)).isZero();
        assertWritten(new byte[4]);
    }

    // ---- XENVER_get_features ---------------------------------------------------

    private static int bits(int... features) {
        int submap = 0;
        for (int feature : features) {
            submap |= 1 << feature;
        }
        return submap;
    }

    /**
     * What Xen 4.17 sets for a translated HVM/PVH domU without PIRQs.
     * {@code XENFEAT_linux_rsdp_unrestricted} is not among them: it is a
     * guest-kernel feature that Linux advertises in its ELF notes
     * ({@code XEN_ELFNOTE_SUPPORTED_FEATURES}), never one Xen reports.
     */
    private static final int HVM_DOMU = bits(XenFeatures.XENFEAT_memory_op_vnode_supported,
            XenFeatures.XENFEAT_writable_page_tables, XenFeatures.XENFEAT_auto_translated_physmap,
            XenFeatures.XENFEAT_hvm_safe_pvclock, XenFeatures.XENFEAT_hvm_callback_vector,
            XenFeatures.XENFEAT_not_direct_mapped);

    static Stream<Arguments> featureSubmaps() {
        List<Arguments> cases = new ArrayList<>();
        for (Abi abi : Abi.values()) {
            cases.add(Arguments.of(abi, FakeDomains.guest(3), HVM_DOMU));
            cases.add(Arguments.of(abi, FakeDomains.privilegedGuest(4), HVM_DOMU | bits(XenFeatures.XENFEAT_dom0)));
            cases.add(Arguments.of(abi, FakeDomains.localDom0(), bits(XenFeatures.XENFEAT_auto_translated_physmap)));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("featureSubmaps")
    void featureSubmapZero(Abi abi, Domain domain, int expected) {
        var harness = harness(abi, domain);
        StructLayout layout = abi.layouts().xen_feature_info;
        assertThat(layout.byteSize()).isEqualTo(8);
        memory.write32(buffer + AbiLayouts.offset(layout, "submap_idx"), 0);

        assertThat(harness.call(XENVER_get_features, buffer)).isZero();

        byte[] struct = new byte[8];
        ValueLayout.OfInt le = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        java.lang.foreign.MemorySegment.ofArray(struct).set(le, AbiLayouts.offset(layout, "submap"), expected);
        assertWritten(struct);
    }

    @Test
    void hvmDomUFeaturesAreXensForATranslatedHvmGuestWithoutPirqs() {
        assertThat(HVM_DOMU).isEqualTo(0x1_2305);
        assertThat(HVM_DOMU & bits(XenFeatures.XENFEAT_dom0, XenFeatures.XENFEAT_direct_mapped,
                XenFeatures.XENFEAT_hvm_pirqs, XenFeatures.XENFEAT_linux_rsdp_unrestricted)).isZero();
    }

    /**
     * {@code XENFEAT_hvm_callback_vector} tells a guest it may take its event upcalls as a plain vector
     * ({@code HVM_PARAM_CALLBACK_IRQ} of type {@code HVM_PARAM_CALLBACK_TYPE_VECTOR}, or per vCPU with
     * {@code HVMOP_set_evtchn_upcall_vector}) rather than on an emulated interrupt line. It stays advertised
     * because Xen 4.17 advertises it: {@code do_xen_version} sets it, with {@code hvm_safe_pvclock}, for every
     * domain that is not PV, whatever the domain was created with (common/kernel.c, {@code XENVER_get_features},
     * the {@code is_pv_domain(d)} else-branch). And it is the delivery xenshim offers: the vector type asserts
     * the upcalls (hvm_op) that the runtime injects, while the GSI and PCI INTx types need an emulated
     * interrupt controller it does not have. A Linux guest that saw it cleared would fall back to those and
     * get no events. The in-process dom0 takes no upcalls and is not told.
     */
    @ParameterizedTest
    @EnumSource(Abi.class)
    void hvmCallbackVectorIsAdvertisedToEveryHvmDomainAsXen417Does(Abi abi) {
        int bit = bits(XenFeatures.XENFEAT_hvm_callback_vector);
        for (Domain domain : new Domain[] {FakeDomains.guest(3), FakeDomains.privilegedGuest(4),
                FakeDomains.localDom0()}) {
            HandlerHarness harness = harness(abi, domain); // poisons the buffer
            memory.write32(buffer, 0);
            assertThat(harness.call(XENVER_get_features, buffer)).isZero();
            int submap = memory.read32(buffer + AbiLayouts.offset(abi.layouts().xen_feature_info, "submap"));
            assertThat(submap & bit).as("%s", domain)
                    .isEqualTo(domain.type() == xenshim.api.DomainType.HVM ? bit : 0);
        }
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void featureSubmapOtherThanZeroIsInvalidAndNothingIsWritten(Abi abi) {
        var harness = harness(abi, FakeDomains.guest(1));
        for (int index : new int[] {1, XenFeatures.XENFEAT_NR_SUBMAPS, 2, -1, Integer.MAX_VALUE}) {
            memory.write32(buffer, index);
            assertThat(harness.call(XENVER_get_features, buffer)).as("submap_idx %d", index).isEqualTo(-XEN_EINVAL);
            byte[] expected = poison(8);
            java.lang.foreign.MemorySegment.ofArray(expected)
                    .set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, index);
            assertWritten(expected);
        }
    }

    // ---- XENVER_pagesize, XENVER_guest_handle -------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void pagesizeWithNullIs4096(Abi abi) {
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_pagesize, 0)).isEqualTo(4096);
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_pagesize)).isEqualTo(4096);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void pagesizeWithABufferIsInvalid(Abi abi) {
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_pagesize, buffer)).isEqualTo(-XEN_EINVAL);
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_pagesize, 1)).isEqualTo(-XEN_EINVAL);
        assertUntouched();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void guestHandleIsTheDomainsSixteenHandleBytes(Abi abi) {
        assertThat(harness(abi, FakeDomains.guest(7)).call(XENVER_guest_handle, buffer)).isZero();
        // FakeDomains.guest(7): UUID 11112222-3333-4444-0000-000000000007
        assertWritten(HexFormat.of().parseHex("11112222333344440000000000000007"));

        assertThat(harness(abi, FakeDomains.localDom0()).call(XENVER_guest_handle, buffer)).isZero();
        assertWritten(new byte[16]);
    }

    // ---- XENVER_commandline (XSM_PRIV) ---------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void commandlineIs1024BytesForAPrivilegedDomain(Abi abi) {
        for (Domain domain : List.of(FakeDomains.privilegedGuest(0), FakeDomains.localDom0())) {
            assertThat(harness(abi, domain).call(XENVER_commandline, buffer)).isZero();
            assertWritten(cString("console=com1 dom0_mem=1G", 1024));
        }
    }

    /**
     * XSM_PRIV denies it, and Xen then copies {@code xen_deny()}: the 9 bytes
     * {@code "<denied>\0"}, returning 0 (not -EPERM; that is build_id).
     */
    @ParameterizedTest
    @EnumSource(Abi.class)
    void commandlineOfAnUnprivilegedDomainIsDenied(Abi abi) {
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_commandline, buffer)).isZero();
        assertWritten("<denied>\0".getBytes(StandardCharsets.US_ASCII));
        assertThat(harness(abi, FakeDomains.guest(1)).call(XENVER_commandline, 0)).isEqualTo(-XEN_EFAULT);
    }

    // ---- XENVER_build_id (XSM_PRIV) -------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void buildIdWithNullReturnsItsSize(Abi abi) {
        assertThat(harness(abi, FakeDomains.privilegedGuest(0)).call(XENVER_build_id, 0)).isEqualTo(20);
        assertThat(harness(abi, FakeDomains.localDom0(), XenVersionInfo.defaults()).call(XENVER_build_id))
                .isEqualTo(16);
        assertUntouched();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void buildIdWithLenZeroIsInvalid(Abi abi) {
        var harness = harness(abi, FakeDomains.privilegedGuest(0));
        memory.write32(buffer, 0);
        assertThat(harness.call(XENVER_build_id, buffer)).isEqualTo(-XEN_EINVAL);
        assertWritten(new byte[4]);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void buildIdLongerThanLenIsNoBufs(Abi abi) {
        var harness = harness(abi, FakeDomains.privilegedGuest(0));
        for (int len : new int[] {1, 19}) {
            memory.write32(buffer, len);
            assertThat(harness.call(XENVER_build_id, buffer)).as("len %d", len).isEqualTo(-XEN_ENOBUFS);
            assertWritten(new byte[] {(byte) len, 0, 0, 0});
        }
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void buildIdFitsAndIsWrittenAfterLen(Abi abi) {
        StructLayout layout = abi.layouts().xen_build_id;
        assertThat(AbiLayouts.offset(layout, "buf")).isEqualTo(4);
        var harness = harness(abi, FakeDomains.privilegedGuest(0));
        for (int len : new int[] {20, 4096, -1}) { // -1: len is a uint32_t, 0xFFFFFFFF
            memory.fill(buffer, 64, POISON);
            memory.write32(buffer, len);
            assertThat(harness.call(XENVER_build_id, buffer)).as("len %d", len).isEqualTo(20);
            byte[] expected = new byte[24];
            java.lang.foreign.MemorySegment.ofArray(expected)
                    .set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0, len);
            System.arraycopy(INFO.buildId(), 0, expected, 4, 20);
            assertWritten(expected);
        }
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void buildIdIsDeniedToAnUnprivilegedDomain(Abi abi) {
        var harness = harness(abi, FakeDomains.guest(1));
        assertThat(harness.call(XENVER_build_id, 0)).isEqualTo(-XEN_EPERM);
        memory.write32(buffer, 4096);
        assertThat(harness.call(XENVER_build_id, buffer)).isEqualTo(-XEN_EPERM);
        assertWritten(new byte[] {0, 0x10, 0, 0});
    }

    // ---- unknown sub-ops ------------------------------------------------------------------

    static Stream<Arguments> unknownSubOps() {
        List<Arguments> cases = new ArrayList<>();
        for (Abi abi : Abi.values()) {
            for (long cmd : new long[] {11, 12, 0x7FFF, 0x8000_0000L, -1}) {
                cases.add(Arguments.of(abi, cmd, false));
                cases.add(Arguments.of(abi, cmd, true));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} cmd={1} privileged={2}")
    @MethodSource("unknownSubOps")
    void unknownSubOpIsNoSys(Abi abi, long cmd, boolean privileged) {
        Domain domain = privileged ? FakeDomains.privilegedGuest(0) : FakeDomains.guest(1);
        var harness = harness(abi, domain);
        assertThat(harness.call(cmd, buffer)).isEqualTo(-XEN_ENOSYS);
        assertThat(harness.call(cmd, 0)).isEqualTo(-XEN_ENOSYS);
        assertUntouched();
        assertThat(harness.failures()).isEmpty();
    }

    // ---- bad buffers ------------------------------------------------------------------------

    /** How a guest buffer can be bad. */
    enum BadBuffer {
        UNMAPPED_PAGE,
        READ_ONLY_PAGE,
        STRADDLES_INTO_UNMAPPED_PAGE,
        BELOW_GUEST_MEMORY,
        ABOVE_GUEST_MEMORY
    }

    /** Every sub-op that writes to the guest, with the domain allowed to call it. */
    static Stream<Arguments> writingSubOps() {
        List<Arguments> cases = new ArrayList<>();
        for (Abi abi : Abi.values()) {
            for (int cmd : new int[] {XENVER_extraversion, XENVER_compile_info, XENVER_capabilities,
                    XENVER_changeset, XENVER_platform_parameters, XENVER_get_features, XENVER_guest_handle,
                    XENVER_commandline, XENVER_build_id}) {
                for (BadBuffer bad : BadBuffer.values()) {
                    cases.add(Arguments.of(abi, cmd, bad));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} cmd={1} {2}")
    @MethodSource("writingSubOps")
    void badBufferIsFault(Abi abi, int cmd, BadBuffer bad) {
        var harness = harness(abi, FakeDomains.privilegedGuest(0));
        long page3 = memory.page(3);
        long address = switch (bad) {
            case UNMAPPED_PAGE -> {
                memory.unmap(page3);
                yield page3 + 0x10;
            }
            case READ_ONLY_PAGE -> {
                memory.readOnly(page3);
                yield page3 + 0x10;
            }
            case STRADDLES_INTO_UNMAPPED_PAGE -> {
                memory.unmap(page3);
                // build_id: its 4-byte len fits before the hole, buf does not; anything else: 2 bytes fit
                yield cmd == XENVER_build_id ? page3 - 6 : page3 - 2;
            }
            case BELOW_GUEST_MEMORY -> memory.base() - 0x1000;
            case ABOVE_GUEST_MEMORY -> memory.end() + 0x10;
        };
        if (cmd == XENVER_build_id && bad != BadBuffer.UNMAPPED_PAGE && bad != BadBuffer.BELOW_GUEST_MEMORY
                && bad != BadBuffer.ABOVE_GUEST_MEMORY) {
            // A len that fits, written behind the read-only bit: only the copy-out faults.
            memory.raw().set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN),
                    address - memory.base(), 4096);
        }
        if (cmd == XENVER_get_features && bad == BadBuffer.READ_ONLY_PAGE) {
            // submap_idx 0, readable: only the copy-out of the answer faults.
            memory.raw().asSlice(address - memory.base(), 8).fill((byte) 0);
        }
        assertThat(harness.call(cmd, address)).isEqualTo(-XEN_EFAULT);
        assertThat(harness.failures()).as("exceptions other than guest faults").isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void deniedCommandlineToABadBufferIsFault(Abi abi) {
        var harness = harness(abi, FakeDomains.guest(1));
        memory.readOnly(memory.page(3));
        assertThat(harness.call(XENVER_commandline, memory.page(3) - 4)).isEqualTo(-XEN_EFAULT);
        assertThat(harness.call(XENVER_commandline, memory.end())).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void addressBeyondThirtyTwoBitsIsFaultIn64Bit() {
        var harness = harness(Abi.X86_64, FakeDomains.privilegedGuest(0));
        for (long address : new long[] {0xFFFF_8000_0000_0000L, -16L, Long.MAX_VALUE, 0x1_0000_0000L + buffer}) {
            assertThat(harness.call(XENVER_capabilities, address)).as("0x%x", address).isEqualTo(-XEN_EFAULT);
        }
        assertUntouched();
    }

    @Test
    void noCallThrowsAnythingButGuestFaults() {
        var harness = harness(Abi.X86_64, FakeDomains.privilegedGuest(0));
        for (int cmd = -2; cmd <= 12; cmd++) {
            harness.call(cmd, buffer);
            harness.call(cmd, 0);
            harness.call(cmd, 8);
        }
        assertThat(harness.failures()).isEmpty();
    }
}
