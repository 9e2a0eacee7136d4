package xenshim.example.entropy;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.example.entropy.EntropyHandler.XENSHIM_ENTROPY_MAX;
import static xenshim.example.entropy.EntropyHandler.XENSHIM_ENTROPY_get;

import java.lang.module.ModuleDescriptor;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.Hypercall;
import xenshim.api.xen.Hypercalls;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

/**
 * The handler as a guest sees it, with the testkit alone: real randomness,
 * fake guest memory with holes, the harness calling it as the dispatcher does.
 * Every refused call is checked to write nothing: the memory is poisoned
 * first and compared after.
 */
class EntropyHandlerTest {

    private static final byte POISON = (byte) 0xA5;

    private final FakeGuestMemory memory = FakeGuestMemory.standard();
    private long buffer;

    @BeforeEach
    void poison() {
        memory.fill(memory.base(), memory.end() - memory.base(), POISON);
        buffer = memory.page(2) + 0x40;
    }

    private HandlerHarness harness(Abi abi) {
        return HandlerHarness.of(new EntropyHandler()).domain(FakeDomains.guest(1)).abi(abi).memory(memory);
    }

    private byte[] all() {
        return memory.readBytes(memory.base(), (int) (memory.end() - memory.base()));
    }

    /** How many bytes of the whole memory are no longer the poison. */
    private long written(byte[] before, byte[] after) {
        long changed = 0;
        for (int i = 0; i < after.length; i++) {
            if (after[i] != before[i]) {
                changed++;
            }
        }
        return changed;
    }

    @Test
    void itServesArch7AsAPluginMust() {
        assertThat(EntropyHandler.class.getAnnotation(Hypercall.class).value())
                .isEqualTo(Hypercalls.__HYPERVISOR_arch_7).isEqualTo(55);
        // Guice and ServiceLoader make it with this constructor
        assertThat(Modifier.isPublic(EntropyHandler.class.getModifiers())).isTrue();
        assertThat(EntropyHandler.class).satisfies(type -> type.getConstructor());
        ModuleDescriptor module = EntropyHandler.class.getModule().getDescriptor();
        assertThat(module).as("tests run on the module path").isNotNull();
        assertThat(module.name()).isEqualTo("xenshim.example.entropy");
        assertThat(module.provides()).singleElement().satisfies(p -> {
            assertThat(p.service()).isEqualTo("xenshim.api.HypercallHandler");
            assertThat(p.providers()).containsExactly(EntropyHandler.class.getName());
        });
        assertThat(module.opens()).extracting(ModuleDescriptor.Opens::source)
                .containsExactly(EntropyHandler.class.getPackageName());
        assertThat(module.requires()).extracting(ModuleDescriptor.Requires::name)
                .containsExactlyInAnyOrder("java.base", "xenshim.api");
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void getFillsExactlyLengthBytesAtBufferAndReturnsLength(Abi abi) {
        byte[] before = all();
        assertThat(harness(abi).call(XENSHIM_ENTROPY_get, buffer, 16)).isEqualTo(16);
        byte[] after = all();
        int at = (int) (buffer - memory.base());
        // outside [buffer, buffer+16) nothing changed
        assertThat(Arrays.copyOfRange(after, 0, at)).isEqualTo(Arrays.copyOfRange(before, 0, at));
        assertThat(Arrays.copyOfRange(after, at + 16, after.length))
                .isEqualTo(Arrays.copyOfRange(before, at + 16, before.length));
        // and inside, 16 random bytes: all 16 left as the poison is a 2^-128 chance
        assertThat(written(before, after)).isPositive();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void twoCallsGiveDifferentBytes(Abi abi) {
        var harness = harness(abi);
        assertThat(harness.call(XENSHIM_ENTROPY_get, buffer, 32)).isEqualTo(32);
        byte[] first = memory.readBytes(buffer, 32);
        assertThat(harness.call(XENSHIM_ENTROPY_get, buffer, 32)).isEqualTo(32);
        assertThat(memory.readBytes(buffer, 32)).isNotEqualTo(first);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void oneByteAndAFullPageAcrossTwoPagesAreTheBounds(Abi abi) {
        var harness = harness(abi);
        long across = memory.page(3) - 100;
        assertThat(harness.call(XENSHIM_ENTROPY_get, buffer, 1)).isEqualTo(1);
        assertThat(harness.call(XENSHIM_ENTROPY_get, across, XENSHIM_ENTROPY_MAX)).isEqualTo(4096);
        assertThat(memory.readBytes(across + XENSHIM_ENTROPY_MAX, 16)).containsOnly(POISON);
        assertThat(harness.failures()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aLengthOfZeroOrAbove4096IsInvalidAndWritesNothing(Abi abi) {
        var harness = harness(abi);
        byte[] before = all();
        for (long length : new long[] {0, 4097, 8192, 0x7FFF_FFFFL, 0xFFFF_FFFFL, -1L}) {
            assertThat(harness.call(XENSHIM_ENTROPY_get, buffer, length)).as("length %d", length)
                    .isEqualTo(-XEN_EINVAL);
        }
        assertThat(all()).isEqualTo(before);
    }

    /**
     * A 64-bit caller's length is the whole register; a 32-bit caller's is
     * edx, so 0x1_0000_0010 reaches the handler as 16 there (the harness cuts
     * it as the runtime reads the registers).
     */
    @Test
    void lengthIsTheWholeRegisterOfA64BitCaller() {
        assertThat(harness(Abi.X86_64).call(XENSHIM_ENTROPY_get, buffer, 0x1_0000_0010L)).isEqualTo(-XEN_EINVAL);
        assertThat(harness(Abi.X86_32).call(XENSHIM_ENTROPY_get, buffer, 0x1_0000_0010L)).isEqualTo(16);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anUnknownCmdIsNoSysAsXenAnswersAnUnknownSubOp(Abi abi) {
        var harness = harness(abi);
        byte[] before = all();
        for (long cmd : new long[] {1, 2, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, -1L}) {
            assertThat(harness.call(cmd, buffer, 16)).as("cmd 0x%x", cmd).isEqualTo(-XEN_ENOSYS);
            assertThat(harness.call(cmd, 0, 0)).as("cmd 0x%x, no buffer", cmd).isEqualTo(-XEN_ENOSYS);
        }
        assertThat(all()).isEqualTo(before);
        assertThat(harness.failures()).isEmpty();
    }

    /** {@code cmd} is an {@code unsigned int}: the upper half of a 64-bit register is not looked at. */
    @Test
    void cmdIsThirtyTwoBits() {
        assertThat(harness(Abi.X86_64).call(0x1_0000_0000L | XENSHIM_ENTROPY_get, buffer, 8)).isEqualTo(8);
        assertThat(harness(Abi.X86_64).call(0x1_0000_0001L, buffer, 8)).isEqualTo(-XEN_ENOSYS);
    }

    /** How a guest buffer can be bad. */
    enum BadBuffer {
        UNMAPPED_PAGE,
        READ_ONLY_PAGE,
        LAST_BYTES_IN_AN_UNMAPPED_PAGE,
        LAST_BYTES_IN_A_READ_ONLY_PAGE,
        BELOW_GUEST_MEMORY,
        RUNS_PAST_THE_END_OF_GUEST_MEMORY
    }

    @ParameterizedTest
    @EnumSource(BadBuffer.class)
    void aBufferTheCallerCannotWriteIsFaultAndNothingIsWritten(BadBuffer bad) {
        long page5 = memory.page(5);
        long address = switch (bad) {
            case UNMAPPED_PAGE -> {
                memory.unmap(page5);
                yield page5 + 0x10;
            }
            case READ_ONLY_PAGE -> {
                memory.readOnly(page5);
                yield page5 + 0x10;
            }
            case LAST_BYTES_IN_AN_UNMAPPED_PAGE -> {
                memory.unmap(page5);
                yield page5 - 8; // 8 of the 16 bytes fit before the hole
            }
            case LAST_BYTES_IN_A_READ_ONLY_PAGE -> {
                memory.readOnly(page5);
                yield page5 - 1;
            }
            case BELOW_GUEST_MEMORY -> memory.base() - 0x1000;
            case RUNS_PAST_THE_END_OF_GUEST_MEMORY -> memory.end() - 8;
        };
        byte[] before = memory.raw().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        for (Abi abi : Abi.values()) {
            var harness = harness(abi);
            assertThat(harness.call(XENSHIM_ENTROPY_get, address, 16)).as("%s", abi).isEqualTo(-XEN_EFAULT);
            assertThat(harness.failures()).as("exceptions other than guest faults").isEmpty();
        }
        assertThat(memory.raw().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).isEqualTo(before);
    }

    @Test
    void anAddressBeyondThirtyTwoBitsIsFaultForA64BitCaller() {
        var harness = harness(Abi.X86_64);
        for (long address : new long[] {0x1_0000_0000L + buffer, 0xFFFF_8000_0000_0000L, -8L}) {
            assertThat(harness.call(XENSHIM_ENTROPY_get, address, 16)).as("0x%x", address).isEqualTo(-XEN_EFAULT);
        }
        assertThat(harness.failures()).isEmpty();
    }
}
