package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOMEM;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenEvtchn;
import xenshim.api.xen.XenMemory;
import xenshim.dispatcher.FaultInjection.FaultRuleException;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;

class FaultInjectionTest {

    private static final int XEN_VERSION = Hypercalls.__HYPERVISOR_xen_version;
    private static final int MEMORY_OP = Hypercalls.__HYPERVISOR_memory_op;
    private static final int EVTCHN = Hypercalls.__HYPERVISOR_event_channel_op;

    /** Handlers for xen_version, memory_op and event_channel_op that count their calls and return 0. */
    private final AtomicLong handled = new AtomicLong();
    private final HypercallPage page = new HypercallPage(HypercallTable.builder("counting")
            .add(XEN_VERSION, new Provider("test", "v"), (c, a, b, d, e, f) -> { handled.incrementAndGet(); return 0; })
            .add(MEMORY_OP, new Provider("test", "m"), (c, a, b, d, e, f) -> { handled.incrementAndGet(); return 0; })
            .add(EVTCHN, new Provider("test", "e"), (c, a, b, d, e, f) -> { handled.incrementAndGet(); return 0; })
            .build());

    /** In-process callers in domains 1 and 2, through the page as a backend's calls go. */
    private final Lcall d1 = new Lcall(page, FakeDomains.guest(1), FakeGuestMemory.standard());
    private final Lcall d2 = new Lcall(page, FakeDomains.guest(2), FakeGuestMemory.standard());

    static FaultInjection rules(long seed, String... lines) {
        return FaultInjection.parse("test", List.of(lines), seed);
    }

    private static long call(Lcall caller, int nr, long a0) {
        return caller.invoke(nr, a0);
    }

    @Test
    void offByDefault() {
        assertThat(page.faults()).isNull();
        assertThat(call(d1, XEN_VERSION, 0)).isZero();
        assertThat(handled.get()).isEqualTo(1);
    }

    /** Which of {@code calls} calls to xen_version failed, under {@code rules}. */
    private List<Integer> failedCalls(FaultInjection rules, int calls) {
        page.injectFaults(rules);
        List<Integer> failed = new ArrayList<>();
        for (int i = 1; i <= calls; i++) {
            long rc = call(d1, XEN_VERSION, 0);
            if (rc != 0) {
                assertThat(rc).isEqualTo(-XEN_EINVAL);
                failed.add(i);
            }
        }
        return failed;
    }

    @Test
    void aRateFailsAboutThatShareOfCallsAndTheSameOnesForTheSameSeed() {
        FaultInjection first = rules(42, "xen_version errno=EINVAL rate=0.1");
        List<Integer> failed = failedCalls(first, 10_000);
        assertThat(failed.size()).isBetween(900, 1100);
        assertThat(first.rules().getFirst().injected()).isEqualTo(failed.size());
        assertThat(first.rules().getFirst().matched()).isEqualTo(10_000);
        assertThat(handled.get()).isEqualTo(10_000 - failed.size());

        assertThat(failedCalls(rules(42, "xen_version errno=EINVAL rate=0.1"), 10_000)).isEqualTo(failed);
        assertThat(failedCalls(rules(43, "xen_version errno=EINVAL rate=0.1"), 10_000)).isNotEqualTo(failed);
    }

    @Test
    void rateZeroAndOne() {
        assertThat(failedCalls(rules(1, "xen_version errno=EINVAL rate=0"), 100)).isEmpty();
        assertThat(failedCalls(rules(1, "xen_version errno=-22 rate=1"), 100)).hasSize(100);
    }

    @Test
    void nthFailsOnlyTheNthCallAndWithEveryEachNth() {
        assertThat(failedCalls(rules(0, "xen_version nth=3 errno=EINVAL"), 10)).containsExactly(3);
        assertThat(failedCalls(rules(0, "xen_version nth=3 errno=EINVAL every"), 10)).containsExactly(3, 6, 9);
        assertThat(failedCalls(rules(0, "17 nth=1 errno=22"), 3)).containsExactly(1);
    }

    @Test
    void subOpMatchesByNameOrNumberAndOthersReachTheHandler() {
        page.injectFaults(rules(0, "event_channel_op:EVTCHNOP_send errno=EINVAL rate=1",
                "memory_op:" + XenMemory.XENMEM_decrease_reservation + " errno=ENOMEM nth=1 every"));
        assertThat(call(d1, EVTCHN, XenEvtchn.EVTCHNOP_send)).isEqualTo(-XEN_EINVAL);
        assertThat(call(d1, EVTCHN, XenEvtchn.EVTCHNOP_send + 1)).isZero();
        // memory_op's sub-op is the low bits of cmd; the rest is a continuation
        assertThat(call(d1, MEMORY_OP, XenMemory.XENMEM_decrease_reservation
                | (5L << XenMemory.MEMOP_EXTENT_SHIFT))).isEqualTo(-XEN_ENOMEM);
        assertThat(call(d1, MEMORY_OP, XenMemory.XENMEM_increase_reservation)).isZero();
        assertThat(call(d1, XEN_VERSION, 0)).isZero();
        assertThat(handled.get()).isEqualTo(3);
    }

    @Test
    void domainMatchesOnlyThatDomain() {
        FaultInjection rules = rules(0, "xen_version domain=2 errno=EINVAL nth=1 every");
        page.injectFaults(rules);
        assertThat(call(d1, XEN_VERSION, 0)).isZero();
        assertThat(call(d2, XEN_VERSION, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(call(d1, XEN_VERSION, 0)).isZero();
        assertThat(rules.rules().getFirst().injected()).isEqualTo(1);
        assertThat(rules.rules().getFirst().matched()).isEqualTo(1);
        assertThat(rules.rules().getFirst().report()).contains("failed 1 of 1", "-EINVAL", "test:1");
    }

    @Test
    void theFirstRuleThatFiresFailsTheCall() {
        FaultInjection rules = rules(0, "xen_version errno=ENOMEM nth=2", "xen_version errno=EINVAL nth=1 every");
        page.injectFaults(rules);
        assertThat(call(d1, XEN_VERSION, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(call(d1, XEN_VERSION, 0)).isEqualTo(-XEN_ENOMEM);
        assertThat(call(d1, XEN_VERSION, 0)).isEqualTo(-XEN_EINVAL);
    }

    @Test
    void removingTheRulesStopsThem() {
        page.injectFaults(rules(0, "xen_version errno=EINVAL rate=1"));
        assertThat(call(d1, XEN_VERSION, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(page.injectFaults(null)).isNotNull();
        assertThat(call(d1, XEN_VERSION, 0)).isZero();
    }

    @Test
    void commentsAndBlankLinesAreSkippedAndLinesAreNumbered() {
        FaultInjection rules = FaultInjection.parse("faults.txt", List.of(
                "# errors for the demo", "", "  xen_version errno=EINVAL rate=0.5  # half", "memory_op nth=3 errno=ENOMEM every"), 7);
        assertThat(rules.rules()).extracting(FaultInjection.Rule::where).containsExactly("faults.txt:3", "faults.txt:4");
        assertThat(rules.rules().getFirst().text()).isEqualTo("xen_version errno=EINVAL rate=0.5");
    }

    @Test
    void parseErrorsNameTheSourceTheLineAndTheWord() {
        assertThatThrownBy(() -> FaultInjection.parse("f.txt", List.of("# ok", "xen_versio errno=EINVAL rate=1"), 0))
                .isInstanceOf(FaultRuleException.class).hasMessageStartingWith("f.txt:2: bad word 'xen_versio'");
        assertThatThrownBy(() -> rules(0, "xen_version errno=EWHAT rate=1"))
                .hasMessageStartingWith("test:1: bad word 'errno=EWHAT'");
        assertThatThrownBy(() -> rules(0, "xen_version errno=EINVAL rate=1.5"))
                .hasMessageStartingWith("test:1: bad word 'rate=1.5'");
        assertThatThrownBy(() -> rules(0, "xen_version errno=EINVAL nth=0"))
                .hasMessageStartingWith("test:1: bad word 'nth=0'");
        assertThatThrownBy(() -> rules(0, "xen_version errno=EINVAL nth=x"))
                .hasMessageStartingWith("test:1: bad word 'nth=x'");
        assertThatThrownBy(() -> rules(0, "event_channel_op:EVTCHNOP_nope errno=EINVAL nth=1"))
                .hasMessageStartingWith("test:1: bad word 'EVTCHNOP_nope'");
        assertThatThrownBy(() -> rules(0, "xen_version errno=EINVAL nth=1 often"))
                .hasMessageStartingWith("test:1: bad word 'often'");
        assertThatThrownBy(() -> rules(0, "xen_version domain=-1 errno=EINVAL nth=1"))
                .hasMessageStartingWith("test:1: bad word 'domain=-1'");
        assertThatThrownBy(() -> rules(0, "xen_version rate=1")).hasMessageContaining("test:1").hasMessageContaining("errno=");
        assertThatThrownBy(() -> rules(0, "xen_version errno=EINVAL")).hasMessageContaining("rate= or nth=");
        assertThatThrownBy(() -> rules(0, "xen_version errno=EINVAL rate=1 nth=2")).hasMessageContaining("rate= or nth=");
        assertThatThrownBy(() -> rules(0, "xen_version errno=EINVAL rate=1 every")).hasMessageContaining("every goes with nth=");
    }

    @Test
    void rulesReplacedWhileAnotherThreadCalls() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong wrong = new AtomicLong();
        AtomicLong calls = new AtomicLong();
        Thread caller = new Thread(() -> {
            while (!stop.get()) {
                long rc = call(d1, XEN_VERSION, 0);
                if (rc != 0 && rc != -XEN_EINVAL && rc != -XEN_ENOMEM) {
                    wrong.incrementAndGet();
                }
                calls.incrementAndGet();
            }
        });
        caller.start();
        List<FaultInjection> installed = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            FaultInjection rules = i % 3 == 2 ? null
                    : rules(i, "xen_version errno=" + (i % 2 == 0 ? "EINVAL" : "ENOMEM") + " rate=0.5");
            page.injectFaults(rules);
            if (rules != null) {
                installed.add(rules);
            }
        }
        page.injectFaults(null);
        stop.set(true);
        caller.join();
        assertThat(wrong.get()).isZero();
        long injected = installed.stream().mapToLong(r -> r.rules().getFirst().injected()).sum();
        assertThat(injected + handled.get()).isEqualTo(calls.get());
        assertThat(call(d1, XEN_VERSION, 0)).isZero();
    }
}
