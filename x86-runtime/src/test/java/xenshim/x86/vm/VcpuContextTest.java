package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import xenshim.api.Abi;
import xenshim.api.Continuation;
import xenshim.api.Domain;
import xenshim.api.SegmentGuestMemory;

/** The vCPU's preemption check, on a clock the test moves. */
class VcpuContextTest {

    private long now = 5_000_000_000L;
    private boolean interrupted;
    private final VcpuContext context = new VcpuContext(Domain.guest(1), 0, new SegmentGuestMemory(java.lang.foreign.Arena.ofAuto().allocate(4096), 0x1000),
            () -> interrupted, () -> now);

    @Test
    void anEntryIsPreemptedWhenItsSliceEndsAndNotBefore() {
        context.enter(Abi.X86_64, now);
        now += VcpuContext.SLICE_NANOS - 1;
        assertThat(context.preemptCheck()).isFalse();
        now += 1;
        assertThat(context.preemptCheck()).isTrue();

        context.enter(Abi.X86_32, now); // the next entry has a slice of its own
        assertThat(context.preemptCheck()).isFalse();
        assertThat(context.abi()).isEqualTo(Abi.X86_32);
    }

    @Test
    void aStopOrADrainingSwapPreemptsAtOnce() {
        context.enter(Abi.X86_64, now);
        interrupted = true;
        assertThat(context.preemptCheck()).isTrue();
    }

    @Test
    void aContinuationIsTakenOnceAndOnlyWithItsResult() {
        long result = context.createContinuation(6 | (9L << 6), 0x1000, 1, 2, 3);
        assertThat(result).isEqualTo(Continuation.PENDING);
        assertThat(context.continuation().take(-22)).as("a handler that created one and then failed").isFalse();
        assertThat(context.continuation().take(Continuation.PENDING)).as("cleared by the failed take").isFalse();

        context.createContinuation(6, 0x1000, 1, 2, 3);
        assertThat(context.continuation().take(Continuation.PENDING)).isTrue();
        assertThat(context.continuation().arg(0)).isEqualTo(6);
        assertThat(context.continuation().take(Continuation.PENDING)).isFalse();
    }
}
