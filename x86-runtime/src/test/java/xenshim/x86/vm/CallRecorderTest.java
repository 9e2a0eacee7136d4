package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import xenshim.api.Abi;
import xenshim.api.xen.XenErrno;

/**
 * A continued hypercall is one call in the statistics and one line in the trace; its last entry's result
 * says whether it failed.
 */
class CallRecorderTest {

    private final StringWriter traced = new StringWriter();
    private final CallRecorder calls = new CallRecorder(0, new HypercallTracer(new PrintWriter(traced)));

    @Test
    void aCallContinuedTwiceCountsOnceWithItsThreeEntriesAndTheArgumentsItWasMadeWith() {
        calls.continued(12, Abi.X86_64, 6, 0x1000, 0, 0, 0, 1_000_000);
        calls.continued(12, Abi.X86_64, 6 | (100 << 6), 0x1000, 0, 0, 0, 3_000_000);
        calls.completed(12, Abi.X86_64, 6 | (200 << 6), 0x1000, 0, 0, 0, 300, 500_000);

        HypercallStats stats = calls.stats();
        assertThat(stats.count(12)).isEqualTo(1);
        assertThat(stats.entries(12)).isEqualTo(3);
        assertThat(stats.longestEntryNanos(12)).isEqualTo(3_000_000);
        assertThat(traced.toString().lines()).containsExactly(
                "[vcpu0] memory_op(XENMEM_populate_physmap, 0x1000, 0x0, 0x0, 0x0) = 300 (3 entries)");
    }

    @Test
    void aContinuedCallIsOneErrorIfItsLastEntryFailsWithTheTimeOfAllItsEntries() {
        calls.continued(12, Abi.X86_64, 6, 0x1000, 0, 0, 0, 1_000_000);
        calls.completed(12, Abi.X86_64, 6 | (100 << 6), 0x1000, 0, 0, 0, -XenErrno.XEN_EFAULT, 2_000_000);

        HypercallStats stats = calls.stats();
        assertThat(stats.errors(12)).isEqualTo(1);
        assertThat(stats.errnoCount(12, XenErrno.XEN_EFAULT)).isEqualTo(1);
        assertThat(stats.maxNanos(12)).isEqualTo(3_000_000);
        assertThat(stats.longestEntryNanos(12)).isEqualTo(2_000_000);
    }

    @Test
    void anotherCallCompletingBetweenTwoEntriesIsRecordedOnItsOwn() {
        calls.continued(12, Abi.X86_64, 6, 0x1000, 0, 0, 0, 1_000_000);
        calls.completed(17, Abi.X86_64, 0, 0, 0, 0, 0, 0x40011, 2_000); // an interrupt handler's call
        calls.completed(12, Abi.X86_64, 6 | (9 << 6), 0x1000, 0, 0, 0, 10, 1_000);

        HypercallStats stats = calls.stats();
        assertThat(stats.count(17)).isEqualTo(1);
        assertThat(stats.entries(17)).isEqualTo(1);
        assertThat(stats.count(12)).isEqualTo(1);
        assertThat(stats.entries(12)).isEqualTo(2);
        assertThat(traced.toString().lines()).hasSize(2)
                .last().asString().endsWith("= 10 (2 entries)");
    }
}
