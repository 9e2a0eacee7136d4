package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenErrno;

/** Errors, percentiles, merging, the empty case, the table, and reading while a vCPU writes. */
class HypercallStatsTest {

    private static final int XEN_VERSION = Hypercalls.__HYPERVISOR_xen_version;
    private static final int MEMORY_OP = Hypercalls.__HYPERVISOR_memory_op;
    private static final int HVM_OP = Hypercalls.__HYPERVISOR_hvm_op;

    private static String table(HypercallStats stats) {
        StringWriter text = new StringWriter();
        stats.print(new PrintWriter(text));
        return text.toString();
    }

    private static void call(HypercallStats stats, int nr, long result, long nanos) {
        stats.record(nr, result, nanos, 1, nanos);
    }

    @Test
    void aNegativeResultIsAnErrorCountedUnderItsErrno() {
        HypercallStats stats = new HypercallStats();
        call(stats, XEN_VERSION, 0x40011, 1_000);
        call(stats, XEN_VERSION, -XenErrno.XEN_EINVAL, 1_000);
        call(stats, XEN_VERSION, -XenErrno.XEN_EFAULT, 1_000);
        call(stats, XEN_VERSION, -XenErrno.XEN_EFAULT, 1_000);
        call(stats, XEN_VERSION, Long.MAX_VALUE, 1_000); // large, but not negative: no error
        call(stats, MEMORY_OP, 0, 1_000);

        assertThat(stats.count(XEN_VERSION)).isEqualTo(5);
        assertThat(stats.errors(XEN_VERSION)).isEqualTo(3);
        assertThat(stats.errnoCount(XEN_VERSION, XenErrno.XEN_EFAULT)).isEqualTo(2);
        assertThat(stats.errnoCount(XEN_VERSION, XenErrno.XEN_EINVAL)).isEqualTo(1);
        assertThat(stats.mostCommonErrno(XEN_VERSION)).hasValue(XenErrno.XEN_EFAULT);
        assertThat(stats.errors(MEMORY_OP)).isZero();
        assertThat(stats.mostCommonErrno(MEMORY_OP)).isEmpty();
    }

    @Test
    void aTieNamesTheLowestErrnoAndAResultBelowMinus127IsNoErrno() {
        HypercallStats stats = new HypercallStats();
        call(stats, HVM_OP, -XenErrno.XEN_ENOSYS, 1_000);
        call(stats, HVM_OP, -XenErrno.XEN_ESRCH, 1_000);
        call(stats, HVM_OP, -XenErrno.XEN_EPERM, 1_000);
        assertThat(stats.mostCommonErrno(HVM_OP)).hasValue(XenErrno.XEN_EPERM);

        call(stats, MEMORY_OP, -4096, 1_000);
        call(stats, MEMORY_OP, Long.MIN_VALUE, 1_000);
        call(stats, MEMORY_OP, -XenErrno.XEN_ENOMEM, 1_000);
        assertThat(stats.errors(MEMORY_OP)).isEqualTo(3);
        assertThat(stats.errnoCount(MEMORY_OP, 0)).isEqualTo(2);
        assertThat(stats.mostCommonErrno(MEMORY_OP)).hasValue(0);
        assertThat(table(stats)).containsPattern("(?m)^12 memory_op +3 +3 +3 < -127 ");
    }

    @Test
    void aNumberOutsideTheTableHasItsOwnRow() {
        HypercallStats stats = new HypercallStats();
        call(stats, 128, -XenErrno.XEN_ENOSYS, 500);
        call(stats, -1, -XenErrno.XEN_ENOSYS, 500);
        assertThat(stats.count(HypercallStats.OUTSIDE)).isEqualTo(2);
        assertThat(stats.errnoCount(HypercallStats.OUTSIDE, XenErrno.XEN_ENOSYS)).isEqualTo(2);
        assertThat(table(stats)).containsPattern("(?m)^\\(number >= 128\\) +2 +2 +2 -ENOSYS +500ns +500ns ");
    }

    @Test
    void aContinuedCallsTimeIsTheSumOfItsEntries() {
        HypercallStats stats = new HypercallStats();
        stats.record(MEMORY_OP, 1 << 20, 3_000_000, 3, 1_500_000);
        assertThat(stats.entries(MEMORY_OP)).isEqualTo(3);
        assertThat(stats.longestEntryNanos(MEMORY_OP)).isEqualTo(1_500_000);
        assertThat(stats.maxNanos(MEMORY_OP)).isEqualTo(3_000_000);
        assertThat(stats.percentileNanos(MEMORY_OP, 50)).isBetween(3_000_000 - 3_000_000 / 32L, 3_000_000L);
    }

    @Test
    void percentilesOfPlacedTimes() {
        HypercallStats stats = new HypercallStats();
        for (int i = 1; i <= 1000; i++) {
            call(stats, XEN_VERSION, 0, i * 100L); // 100 ns .. 100 us
        }
        assertThat(stats.meanNanos(XEN_VERSION)).isEqualTo(50_050);
        assertThat(stats.percentileNanos(XEN_VERSION, 50)).isBetween(50_000 - 50_000 / 32L, 50_000 + 50_000 / 32L);
        assertThat(stats.percentileNanos(XEN_VERSION, 90)).isBetween(90_000 - 90_000 / 32L, 90_000 + 90_000 / 32L);
        assertThat(stats.percentileNanos(XEN_VERSION, 99)).isBetween(99_000 - 99_000 / 32L, 99_000 + 99_000 / 32L);
        assertThat(stats.percentileNanos(XEN_VERSION, 99.9)).isBetween(99_900 - 99_900 / 32L, 99_900L + 99_900 / 32L);
        assertThat(stats.maxNanos(XEN_VERSION)).isEqualTo(100_000);
        assertThatThrownBy(() -> stats.percentileNanos(MEMORY_OP, 101)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theVcpusStatsMergeIntoTheirSum() {
        HypercallStats[] vcpus = {new HypercallStats(), new HypercallStats(), new HypercallStats()};
        HypercallStats all = new HypercallStats();
        for (int v = 0; v < vcpus.length; v++) {
            for (int i = 0; i < 100; i++) {
                long nanos = (v + 1) * 10_000L + i; // vCPU 2's calls are the slow ones
                long result = i % 10 == 0 ? -XenErrno.XEN_EINVAL - v : 0;
                vcpus[v].record(XEN_VERSION, result, nanos, 1, nanos);
                all.record(XEN_VERSION, result, nanos, 1, nanos);
            }
        }
        vcpus[1].record(MEMORY_OP, 0, 9_000_000, 5, 2_000_000);
        all.record(MEMORY_OP, 0, 9_000_000, 5, 2_000_000);
        HypercallStats merged = new HypercallStats();
        for (HypercallStats vcpu : vcpus) {
            vcpu.addTo(merged);
        }

        assertThat(merged.count(XEN_VERSION)).isEqualTo(300);
        assertThat(merged.errors(XEN_VERSION)).isEqualTo(30);
        for (int e : List.of(XenErrno.XEN_EINVAL, XenErrno.XEN_EINVAL + 1, XenErrno.XEN_EINVAL + 2)) {
            assertThat(merged.errnoCount(XEN_VERSION, e)).as("errno %d", e).isEqualTo(10);
        }
        assertThat(merged.mostCommonErrno(XEN_VERSION)).hasValue(XenErrno.XEN_EINVAL);
        assertThat(merged.entries(MEMORY_OP)).isEqualTo(5);
        assertThat(merged.longestEntryNanos(MEMORY_OP)).isEqualTo(2_000_000);
        assertThat(merged.longestEntryNanos(XEN_VERSION)).isEqualTo(30_099);
        assertThat(merged.meanNanos(XEN_VERSION)).isEqualTo(all.meanNanos(XEN_VERSION)).isEqualTo(20_049);
        for (double p : new double[] {50, 90, 99, 99.9}) {
            assertThat(merged.percentileNanos(XEN_VERSION, p)).as("p%s", p)
                    .isEqualTo(all.percentileNanos(XEN_VERSION, p));
        }
        assertThat(merged.percentileNanos(XEN_VERSION, 90)).as("p90 is among vCPU 2's").isGreaterThan(29_000);
        assertThat(table(merged)).isEqualTo(table(all));
    }

    @Test
    void theEmptyStatsPrintOnlyTheHeaderAndAnswerZero() {
        HypercallStats stats = new HypercallStats();
        HypercallStats merged = new HypercallStats();
        stats.addTo(merged);
        for (HypercallStats s : List.of(stats, merged)) {
            for (int nr = 0; nr <= HypercallStats.OUTSIDE; nr++) {
                assertThat(s.count(nr)).isZero();
                assertThat(s.errors(nr)).isZero();
                assertThat(s.meanNanos(nr)).isZero();
                assertThat(s.percentileNanos(nr, 99.9)).isZero();
                assertThat(s.maxNanos(nr)).isZero();
                assertThat(s.mostCommonErrno(nr)).isEqualTo(OptionalInt.empty());
            }
            assertThat(table(s).lines()).containsExactly(
                    "hypercall              calls  entries  errors top errno      mean     p50     p99   p99.9"
                            + " max entry");
        }
    }

    @Test
    void theTableHasOneLinePerNumberMadeWithinItsWidth() {
        HypercallStats stats = new HypercallStats();
        for (int i = 0; i < 99; i++) {
            call(stats, XEN_VERSION, 0x40011, 850);
        }
        call(stats, XEN_VERSION, -XenErrno.XEN_EFAULT, 12_340);
        stats.record(MEMORY_OP, 1 << 20, 2_500_000_000L, 2_400, 1_234_567);
        call(stats, Hypercalls.__HYPERVISOR_event_channel_op, -XenErrno.XEN_EOPNOTSUPP, 99_999_999);
        String table = table(stats);
        assertThat(table.lines()).hasSize(4).allSatisfy(line -> assertThat(line.length())
                .as(line).isLessThanOrEqualTo(HypercallStats.TABLE_WIDTH));
        assertThat(table.lines().toList().get(1)).as("numbers in order")
                .matches("12 memory_op +1 +2400 +0 +2\\.50s +2\\.50s +2\\.50s +2\\.50s +1\\.23ms");
        assertThat(table).containsPattern("(?m)^17 xen_version +100 +100 +1 -EFAULT +964ns +8\\d\\dns +8\\d\\dns "
                + "+12\\.3us +12\\.3us$");
        assertThat(table).containsPattern("(?m)^32 event_channel_op +1 +1 +1 -EOPNOTSUPP +100ms +");
    }

    @Test
    void durationsKeepThreeSignificantDigitsInTheirUnit() {
        assertThat(HypercallStats.duration(0)).isEqualTo("0ns");
        assertThat(HypercallStats.duration(999)).isEqualTo("999ns");
        assertThat(HypercallStats.duration(1_000)).isEqualTo("1.00us");
        assertThat(HypercallStats.duration(12_345)).isEqualTo("12.3us");
        assertThat(HypercallStats.duration(999_499)).isEqualTo("999us");
        assertThat(HypercallStats.duration(999_500)).isEqualTo("1.00ms");
        assertThat(HypercallStats.duration(9_996_000)).isEqualTo("10.0ms");
        assertThat(HypercallStats.duration(123_456_789_000L)).isEqualTo("123s");
    }

    @Test
    void aNumbersFiguresAreAllocatedOnItsFirstCallAndNeverAgain() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        threads.getCurrentThreadAllocatedBytes(); // its own first call may allocate
        long before = threads.getCurrentThreadAllocatedBytes();
        HypercallStats stats = new HypercallStats();
        long fresh = threads.getCurrentThreadAllocatedBytes() - before;
        call(stats, XEN_VERSION, 0, 1_000);
        long first = threads.getCurrentThreadAllocatedBytes() - before - fresh;
        for (int i = 0; i < 200_000; i++) { // warm: let the JIT compile record
            stats.record(XEN_VERSION, -(i & 63), i, 1, i);
        }
        long warm = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < 200_000; i++) {
            stats.record(XEN_VERSION, -(i & 63), i, 1, i);
        }
        long calls = threads.getCurrentThreadAllocatedBytes() - warm;
        System.out.printf("HypercallStats: %d bytes new, %d on a number's first call, %d over 200000 calls%n",
                fresh, first, calls);
        assertThat(fresh).as("no histogram before the first call").isLessThan(2_000);
        assertThat(first).as("one number's figures").isBetween((long) LatencyHistogram.BUCKETS * 8, 16_000L);
        assertThat(calls).as("bytes allocated by 200000 calls").isLessThan(2_000);
    }

    /**
     * A snapshot is taken while "a vCPU" records: it never throws, its counts never go back, and once
     * the writer stopped, it is exact.
     */
    @Test
    void aSnapshotWhileTheVcpuWritesIsApproximateThenExact() throws Exception {
        HypercallStats vcpu = new HypercallStats();
        AtomicBoolean done = new AtomicBoolean();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        long calls = 2_000_000;
        Thread writer = Thread.ofPlatform().start(() -> {
            for (long i = 0; i < calls; i++) {
                vcpu.record(i % 130 - 1, i % 7 == 0 ? -XenErrno.XEN_EINVAL : 0, i & 0xfffff, 1, i & 0xfffff);
            }
            done.set(true);
        });
        long last = 0;
        int snapshots = 0;
        int midway = 0;
        try {
            while (!done.get()) {
                HypercallStats snapshot = new HypercallStats();
                vcpu.addTo(snapshot);
                long count = 0;
                for (int nr = 0; nr <= HypercallStats.OUTSIDE; nr++) {
                    count += snapshot.count(nr);
                    snapshot.percentileNanos(nr, 99.9);
                    snapshot.mostCommonErrno(nr);
                }
                table(snapshot);
                assertThat(count).isGreaterThanOrEqualTo(last);
                last = count;
                snapshots++;
                if (count > 0 && count < calls) {
                    midway++;
                }
            }
        } catch (Throwable t) {
            failed.set(t);
        }
        writer.join();
        assertThat(failed.get()).isNull();
        HypercallStats exact = new HypercallStats();
        vcpu.addTo(exact);
        long total = 0;
        long errors = 0;
        for (int nr = 0; nr <= HypercallStats.OUTSIDE; nr++) {
            total += exact.count(nr);
            errors += exact.errnoCount(nr, XenErrno.XEN_EINVAL);
        }
        System.out.printf("%d snapshots while writing, %d of them midway%n", snapshots, midway);
        assertThat(total).isEqualTo(calls);
        assertThat(exact.count(HypercallStats.OUTSIDE)).isEqualTo(2 * calls / 130);
        assertThat(errors).isEqualTo((calls + 6) / 7);
    }
}
