package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EIO;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;

import org.junit.jupiter.api.Test;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.GuestMemory;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;

class HypercallTableTest {

    static final CallContext CTX = new CallContext() {
        final Domain domain = FakeDomains.guest(3);
        final GuestMemory memory = FakeGuestMemory.standard();

        @Override
        public Domain domain() {
            return domain;
        }

        @Override
        public int vcpuId() {
            return 0;
        }

        @Override
        public Abi abi() {
            return Abi.X86_64;
        }

        @Override
        public GuestMemory memory() {
            return memory;
        }
    };

    @Hypercall(17)
    static final class Seventeen implements HypercallHandler {
        @Override
        public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) {
            return a0 + a1 + a2 + a3 + a4;
        }
    }

    @Hypercall(17)
    static final class OtherSeventeen implements HypercallHandler {
        @Override
        public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) {
            return -1;
        }
    }

    @Hypercall(128)
    static final class OutOfRange implements HypercallHandler {
        @Override
        public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) {
            return 0;
        }
    }

    @Test
    void passesAllFiveArgumentsAndTheResult() {
        HypercallTable table = HypercallTable.builder("t").add(new Seventeen()).build();
        assertThat(table.invoke(CTX, 17, 1, 20, 300, 4000, 50000)).isEqualTo(54321);
    }

    @Test
    void emptySlotAndNumbersOutside0To127AreEnosys() {
        HypercallTable table = HypercallTable.builder("t").add(new Seventeen()).build();
        assertThat(table.invoke(CTX, 18, 0, 0, 0, 0, 0)).isEqualTo(-XEN_ENOSYS);
        assertThat(table.invoke(CTX, 127, 0, 0, 0, 0, 0)).isEqualTo(-XEN_ENOSYS);
        assertThat(table.invoke(CTX, 128, 0, 0, 0, 0, 0)).isEqualTo(-XEN_ENOSYS);
        assertThat(table.invoke(CTX, -1, 0, 0, 0, 0, 0)).isEqualTo(-XEN_ENOSYS);
        assertThat(table.invoke(CTX, Long.MIN_VALUE, 0, 0, 0, 0, 0)).isEqualTo(-XEN_ENOSYS);
        assertThat(table.invoke(CTX, 17 + (1L << 32), 0, 0, 0, 0, 0)).isEqualTo(-XEN_ENOSYS);
        assertThat(HypercallTable.empty().invoke(CTX, 17, 0, 0, 0, 0, 0)).isEqualTo(-XEN_ENOSYS);
    }

    @Test
    void aThrowingHandlerReturnsEioAndTheCallerGoesOn() {
        HypercallTable table = HypercallTable.builder("t").add(20, new Provider("m", "Boom"), (c, a, b, d, e, f) -> {
            throw new IllegalStateException("boom");
        }).add(new Seventeen()).build();
        assertThat(table.invoke(CTX, 20, 0, 0, 0, 0, 0)).isEqualTo(-XEN_EIO);
        assertThat(table.invoke(CTX, 20, 0, 0, 0, 0, 0)).isEqualTo(-XEN_EIO);
        assertThat(table.failures(20)).isEqualTo(2);
        assertThat(table.invoke(CTX, 17, 1, 0, 0, 0, 0)).isEqualTo(1);
    }

    @Test
    void anErrorThrownByAHandlerIsNotAGuestErrnoButReachesTheCallerAndLeavesTheTableWhole() {
        HypercallTable table = HypercallTable.builder("t").add(21, new Provider("m", "Deep"), (c, a, b, d, e, f) -> {
            throw new StackOverflowError("deep");
        }).add(new Seventeen()).build();
        HypercallPage page = new HypercallPage(table);
        assertThatThrownBy(() -> page.invoke(CTX, 21, 0, 0, 0, 0, 0))
                .isInstanceOf(StackOverflowError.class).hasMessage("deep");
        assertThat(table.failures(21)).isEqualTo(1);
        assertThat(table.runningCalls()).isZero();
        assertThat(page.invoke(CTX, 17, 1, 0, 0, 0, 0)).isEqualTo(1);
    }

    @Test
    void aNegativeResultThatIsNoXenErrnoIsReportedAndBecomesEio() {
        long[] answer = {-XEN_EFAULT};
        HypercallTable table = HypercallTable.builder("t")
                .add(23, new Provider("m", "Garbage"), (c, a, b, d, e, f) -> answer[0]).build();
        assertThat(table.invoke(CTX, 23, 0, 0, 0, 0, 0)).as("an errno passes").isEqualTo(-XEN_EFAULT);
        assertThat(table.failures(23)).isZero();
        for (long garbage : new long[] {-1000, -4096, Long.MIN_VALUE, -4 /* no Xen errno 4 */}) {
            answer[0] = garbage;
            assertThat(table.invoke(CTX, 23, 0, 0, 0, 0, 0)).as("%d", garbage).isEqualTo(-XEN_EIO);
        }
        assertThat(table.failures(23)).isEqualTo(4);
        answer[0] = xenshim.api.Continuation.PENDING;
        assertThat(table.invoke(CTX, 23, 0, 0, 0, 0, 0)).as("a continuation passes")
                .isEqualTo(xenshim.api.Continuation.PENDING);
        answer[0] = 1L << 40;
        assertThat(table.invoke(CTX, 23, 0, 0, 0, 0, 0)).as("a positive value passes").isEqualTo(1L << 40);
    }

    @Test
    void aGuestFaultIsEfault() {
        HypercallTable table = HypercallTable.builder("t").add(22, new Provider("m", "Reader"),
                (c, a, b, d, e, f) -> c.memory().read64(a)).build();
        assertThat(table.invoke(CTX, 22, 0xdead_0000L, 0, 0, 0, 0)).isEqualTo(-XEN_EFAULT);
        assertThat(table.failures(22)).isZero();
    }

    @Test
    void twoHandlersForOneSlotIsAnErrorNamingBoth() {
        assertThatThrownBy(() -> HypercallTable.builder("t").add(new Seventeen()).add(new OtherSeventeen()).build())
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("slot 17 (xen_version)")
                .hasMessageContaining(Seventeen.class.getName())
                .hasMessageContaining(OtherSeventeen.class.getName());
    }

    @Test
    void aPreferenceSettlesADuplicate() {
        HypercallTable table = HypercallTable.builder("t").add(new Seventeen()).add(new OtherSeventeen())
                .prefer(17, OtherSeventeen.class.getName()).build();
        assertThat(table.invoke(CTX, 17, 5, 0, 0, 0, 0)).isEqualTo(-1);
        assertThat(table.provider(17)).get().extracting(Provider::className).isEqualTo(OtherSeventeen.class.getName());
    }

    @Test
    void aPreferenceThatMatchesNoClaimantIsAnError() {
        assertThatThrownBy(() -> HypercallTable.builder("t").add(new Seventeen()).add(new OtherSeventeen())
                .prefer(17, "no.such.module").build())
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("no.such.module");
    }

    @Test
    void aSlotOutside0To127IsAnErrorNamingTheProvider() {
        assertThatThrownBy(() -> HypercallTable.builder("t").add(new OutOfRange()).build())
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("slot 128")
                .hasMessageContaining(OutOfRange.class.getName());
    }

    @Test
    void noFactoryRunsWhileAConflictRemains() {
        int[] made = new int[1];
        assertThatThrownBy(() -> HypercallTable.builder("t")
                .add(17, new Provider("a", "A"), () -> {
                    made[0]++;
                    return new Seventeen();
                })
                .add(17, new Provider("b", "B"), () -> {
                    made[0]++;
                    return new Seventeen();
                }).build()).isInstanceOf(TableBuildException.class);
        assertThat(made[0]).isZero();
    }

    @Test
    void listsFilledSlotsInOrder() {
        HypercallTable table = HypercallTable.builder("t").add(new Seventeen())
                .add(3, new Provider("m", "C"), (c, a, b, d, e, f) -> 0).build();
        assertThat(table.slots()).extracting(HypercallTable.Slot::nr).containsExactly(3, 17);
    }
}
