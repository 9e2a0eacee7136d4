package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.HypercallHandler;
import xenshim.api.ShutdownState;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.Provider;
import xenshim.x86.Accel;

/**
 * A guest in the middle of a long hypercall, on every CPU backend: the call
 * runs as a chain of bounded entries (the guest re-enters its stub after each
 * continuation), and a stop, a timeout or a shutdown from another thread ends
 * the run between two entries, with the call never completed. The {@code spin}
 * guest's first {@code console_io} is served by a handler that never finishes:
 * each entry works until its slice ends, then continues with a counter
 * advanced in {@code count}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PreemptedCallTest {

    /**
     * A sanity bound on the stop, in wall-clock time, for a loaded machine; the
     * property itself is counted, not timed: once the stop is asked for, the
     * vCPU starts at most one more entry (one already past its loop check).
     * The measured time is printed.
     */
    private static final long STOP_SANITY_MILLIS = 2_000;

    /** Works until preempted, then continues with {@code count + 1}; completes never. */
    static final class EndlessHandler implements HypercallHandler {
        final AtomicLong entries = new AtomicLong();
        final AtomicLong firstCount = new AtomicLong(-1);
        final AtomicLong lastCount = new AtomicLong(-1);
        final AtomicLong longestEntryNanos = new AtomicLong();
        final AtomicBoolean completed = new AtomicBoolean();
        /** Entries once the stop has been asked for. */
        final AtomicLong entriesAtStop = new AtomicLong(-1);

        @Override
        public long handle(CallContext ctx, long cmd, long count, long buffer, long a3, long a4) {
            long start = System.nanoTime();
            entries.incrementAndGet();
            firstCount.compareAndSet(-1, count);
            lastCount.set(count);
            long spins = 0;
            while (!ctx.preemptCheck() || spins == 0) {
                spins++; // a unit of work; at least one per entry, as Xen's loops
                if (spins == Long.MAX_VALUE) {
                    completed.set(true);
                    return 0;
                }
            }
            longestEntryNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
            return ctx.createContinuation(cmd, count + 1, buffer, a3, a4);
        }
    }

    private record Run(Outcome outcome, long stopMillis, EndlessHandler handler, Machine machine) {
    }

    /** Boots spin with the endless console_io, waits for 20 entries, then {@code trigger}s the stop (if not null). */
    private static Run run(Accel accel, Duration timeout, Consumer<Machine> trigger) throws Exception {
        Backends.assume(accel, PreemptedCallTest.class);
        EndlessHandler handler = new EndlessHandler();
        HypercallTable table = HypercallTable.builder("endless")
                .add(Hypercalls.__HYPERVISOR_console_io, new Provider("test", "EndlessHandler"), handler).build();
        Domain domain = Domain.guest(1);
        XenVersionInfo version = XenVersionInfo.defaults();
        Machine machine = Machine.create(new Machine.Config(64L << 20, "", timeout, 1, version),
                BundledGuestsTest.bundled("spin"), domain, new HypercallPage(table), (d, b, o, l) -> { }, null,
                accel.factory());
        long[] stoppedAt = new long[1];
        Thread stopper = Thread.ofPlatform().start(() -> {
            while (handler.entries.get() < 20 && !machine.isStopping()) {
                Thread.onSpinWait();
            }
            if (trigger != null) {
                stoppedAt[0] = System.nanoTime();
                trigger.accept(machine);
                // counted once the stop is asked for (trigger has returned), not before: this thread may
                // lose its core between the two, and the vCPU runs entries meanwhile
                handler.entriesAtStop.set(handler.entries.get());
            }
        });
        Outcome outcome;
        try (machine) {
            outcome = machine.run();
        }
        long returned = System.nanoTime();
        stopper.join();
        long stopMillis = stoppedAt[0] == 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(returned - stoppedAt[0]);
        return new Run(outcome, stopMillis, handler, machine);
    }

    private static void assertStoppedMidCall(Run run) {
        EndlessHandler handler = run.handler();
        assertThat(handler.completed).as("the call never completed").isFalse();
        assertThat(handler.entries.get()).as("entries").isGreaterThanOrEqualTo(20);
        assertThat(handler.lastCount.get() - handler.firstCount.get()).as("each entry continued the last one")
                .isEqualTo(handler.entries.get() - 1);
        if (handler.entriesAtStop.get() >= 0) {
            assertThat(handler.entries.get()).as("entries begun after the stop")
                    .isLessThanOrEqualTo(handler.entriesAtStop.get() + 1);
            assertThat(run.stopMillis()).isBetween(0L, STOP_SANITY_MILLIS);
        }
        HypercallStats stats = run.machine().statsSnapshot();
        assertThat(stats.count(Hypercalls.__HYPERVISOR_console_io)).as("a call never completed is not counted")
                .isZero();
        System.out.printf("stopped mid-call after %d entries (longest %.2f ms) in %d ms%n",
                handler.entries.get(), handler.longestEntryNanos.get() / 1e6, run.stopMillis());
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aStopFromAnotherThreadEndsACallInItsMiddle(Accel accel) throws Exception {
        Run run = run(accel, Duration.ZERO, machine -> machine.stop(new Outcome.Interrupted()));
        assertThat(run.outcome()).isEqualTo(new Outcome.Interrupted());
        assertStoppedMidCall(run);
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aShutdownFromAnotherVcpuEndsACallInItsMiddle(Accel accel) throws Exception {
        // SCHEDOP_shutdown from another vCPU sets the domain's shutdown state from that vCPU's thread
        Run run = run(accel, Duration.ZERO, machine -> machine.domain().state(ShutdownState.KEY).shutdown(0));
        assertThat(run.outcome()).isEqualTo(new Outcome.Shutdown(0));
        assertStoppedMidCall(run);
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aHandlersJvmErrorStopsItsDomainWithStatus24AndTheNextGuestRuns(Accel accel) throws Exception {
        HypercallTable table = HypercallTable.builder("oom")
                .add(Hypercalls.__HYPERVISOR_console_io, new Provider("test", "Oom"), (c, a, b, d, e, f) -> {
                    throw new OutOfMemoryError("test: no memory for this call");
                }).build();
        Backends.assume(accel, PreemptedCallTest.class);
        Domain domain = Domain.guest(1);
        XenVersionInfo version = XenVersionInfo.defaults();
        Outcome outcome;
        try (Machine machine = Machine.create(new Machine.Config(64L << 20, "", Duration.ofSeconds(30), 1, version),
                BundledGuestsTest.bundled("spin"), domain, new HypercallPage(table), (d, b, o, l) -> { }, null,
                accel.factory())) {
            outcome = machine.run();
        }
        assertThat(outcome).isInstanceOf(Outcome.HandlerCrash.class);
        assertThat(outcome.exitStatus()).isEqualTo(24);
        assertThat(outcome.describe()).contains("hypercall 18 (console_io)").contains("OutOfMemoryError")
                .contains("test: no memory for this call");

        BundledGuestsTest.Run next = BundledGuestsTest.boot(accel, "demo");
        assertThat(next.outcome().exitStatus()).as(next.console()).isZero();
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aTimeoutEndsACallInItsMiddle(Accel accel) throws Exception {
        Run run = run(accel, Duration.ofSeconds(5), null); // time for a software CPU to boot to the call, under load too
        assertThat(run.outcome()).isInstanceOf(Outcome.Timeout.class);
        assertStoppedMidCall(run);
    }
}
