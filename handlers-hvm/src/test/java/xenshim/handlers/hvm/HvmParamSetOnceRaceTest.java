package xenshim.handlers.hvm;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EEXIST;
import static xenshim.api.xen.XenHvm.HVM_PARAM_IOREQ_SERVER_PFN;
import static xenshim.api.xen.XenHvm.HVM_PARAM_NR_IOREQ_SERVER_PAGES;
import static xenshim.api.xen.XenHvm.HVM_PARAM_VIRIDIAN;
import static xenshim.api.xen.XenHvm.HVMOP_set_param;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntToLongFunction;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.HvmParams;
import xenshim.api.abi.AbiLayouts;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

/**
 * A parameter that "should only be changed once" is checked and stored in
 * one step: when several vCPUs race to set different values, exactly one
 * wins and every other one gets {@code -EEXIST}, as if the calls had run one
 * after the other.
 */
class HvmParamSetOnceRaceTest {

    private static final int SETTERS = 8;
    private static final int ROUNDS = 2_000;

    private final Domain guest = FakeDomains.guest(5);
    private final Domain dom0 = FakeDomains.privilegedGuest(0);

    /** Set-once parameters and, per setter, a distinct value each accepts. */
    static Stream<Arguments> setOnceParams() {
        return Stream.of(
                Arguments.of(HVM_PARAM_VIRIDIAN, (IntToLongFunction) t -> 1 | ((long) t + 1) << 1),
                Arguments.of(HVM_PARAM_NR_IOREQ_SERVER_PAGES, (IntToLongFunction) t -> t + 1),
                Arguments.of(HVM_PARAM_IOREQ_SERVER_PFN, (IntToLongFunction) t -> 0xfe000L + t));
    }

    @ParameterizedTest
    @MethodSource("setOnceParams")
    void exactlyOneOfManyConcurrentSettersWinsAndTheRestGetEexist(int index, IntToLongFunction valueOf)
            throws Exception {
        HvmParams params = guest.state(HvmParams.KEY);
        CyclicBarrier start = new CyclicBarrier(SETTERS);
        List<Setter> setters = new ArrayList<>();
        for (int t = 0; t < SETTERS; t++) {
            setters.add(new Setter(index, valueOf.applyAsLong(t)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(SETTERS);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                params.set(index, 0);
                List<Future<Long>> results = new ArrayList<>();
                for (Setter setter : setters) {
                    results.add(pool.submit(() -> {
                        start.await();
                        return setter.set();
                    }));
                }
                int winner = -1;
                for (int t = 0; t < SETTERS; t++) {
                    long rc = results.get(t).get(10, TimeUnit.SECONDS);
                    if (rc == 0) {
                        assertThat(winner).as("round %d: setters %d and %d both won", round, winner, t).isEqualTo(-1);
                        winner = t;
                    } else {
                        assertThat(rc).as("round %d, setter %d", round, t).isEqualTo(-XEN_EEXIST);
                    }
                }
                assertThat(winner).as("round %d: nobody won", round).isNotEqualTo(-1);
                assertThat(params.get(index)).as("round %d: the stored value", round)
                        .isEqualTo(setters.get(winner).value);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** One vCPU of dom0 setting {@code index} on the guest, with its own argument page. */
    private final class Setter {
        private final FakeGuestMemory memory = FakeGuestMemory.of(0x10000, 1);
        private final HandlerHarness harness = HandlerHarness.of(new HvmOpHandler(
                domid -> Optional.of(guest).filter(g -> g.domid() == domid), new FixedClock(0)))
                .domain(dom0).memory(memory);
        private final int index;
        private final long value;

        Setter(int index, long value) {
            this.index = index;
            this.value = value;
        }

        long set() {
            long arg = memory.base();
            memory.write16(arg + offset("domid"), (short) guest.domid());
            memory.write32(arg + offset("index"), index);
            memory.write64(arg + offset("value"), value);
            return harness.call(HVMOP_set_param, arg);
        }

        private static long offset(String member) {
            return AbiLayouts.offset(Abi.X86_64.layouts().xen_hvm_param, member);
        }
    }
}
