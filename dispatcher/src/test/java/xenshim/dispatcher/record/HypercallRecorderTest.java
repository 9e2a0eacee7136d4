package xenshim.dispatcher.record;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import xenshim.api.CallContext;
import xenshim.api.Continuation;
import xenshim.api.Domain;
import xenshim.api.HypercallHandler;
import xenshim.api.xen.XenErrno;
import xenshim.dispatcher.FaultInjection;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.Lcall;
import xenshim.dispatcher.Provider;

/**
 * Recording through a page and playing the calls back: what a record holds, that the same handlers
 * replay with no difference, and that a changed one differs in exactly the calls it changed.
 */
class HypercallRecorderTest {

    /** Reads {@code count} 32-bit words at {@code a1}, writes their sum at {@code a2} and returns their count. */
    private static final int SUM = 48;
    /** Counts {@code a0} units of work, preempting when asked, and returns the count. */
    private static final int LONG = 49;
    /** Reads the clock (as the recorder is told) and writes it at {@code a1}. */
    private static final int TIME = 50;

    private final AtomicLong clock = new AtomicLong(1_000);
    private HypercallRecorder recorder;

    private static HypercallHandler sum(int bias) {
        return (ctx, count, in, out, a3, a4) -> {
            if (count > 64) {
                return -XenErrno.XEN_EINVAL;
            }
            long total = bias;
            for (int i = 0; i < count; i++) {
                total += ctx.memory().read32(in + 4L * i);
            }
            ctx.memory().write64(out, total);
            return count;
        };
    }

    private static final HypercallHandler LONG_CALL = (ctx, units, done, a2, a3, a4) -> {
        for (long n = done; n < units; n++) {
            if (n > done && ctx.preemptCheck()) {
                return ctx.createContinuation(units, n, a2, a3, a4);
            }
        }
        return units;
    };

    private HypercallHandler time() {
        return (ctx, a0, out, a2, a3, a4) -> {
            long now = clock.incrementAndGet();
            recorder.clockRead(now);
            ctx.memory().write64(out, now);
            return 0;
        };
    }

    private HypercallTable table(String name, int bias) {
        return HypercallTable.builder(name)
                .add(SUM, new Provider("test.sum", "Sum"), sum(bias))
                .add(LONG, new Provider("test.long", "Long"), LONG_CALL)
                .add(TIME, new Provider("test.time", "Time"), time())
                .build();
    }

    /** A dom0 whose memory is an arena, the calls of {@link #calls} made through {@code page}, recorded. */
    private byte[] record(HypercallPage page, Domain dom0, MemorySegment arena) throws IOException {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        recorder = new HypercallRecorder(CallLogWriter.to(file, CallLogTest.PLATFORM), out -> { });
        assertThat(page.tap(recorder)).isNull();
        calls(Lcall.dom0(page, dom0, arena), arena);
        page.tap(null);
        recorder.close();
        return file.toByteArray();
    }

    private static void calls(Lcall dom0, MemorySegment arena) {
        long base = arena.address();
        for (int i = 0; i < 8; i++) {
            arena.set(java.lang.foreign.ValueLayout.JAVA_INT, 4L * i, 10 * (i + 1));
        }
        assertThat(dom0.invoke(SUM, 8, base, base + 256)).isEqualTo(8);
        assertThat(dom0.invoke(SUM, 2, base + 4096 * 4, base + 256)).isEqualTo(-XenErrno.XEN_EFAULT);
        assertThat(dom0.invoke(TIME, 0, base + 512)).isZero();
        assertThat(dom0.invoke(SUM, 3, base + 8, base + 264)).isEqualTo(3);
    }

    private static CallLog.Recording read(byte[] bytes) throws IOException {
        return CallLogReader.read("test", new ByteArrayInputStream(bytes), bytes.length);
    }

    /** Plays every call of {@code recording} through a page over {@code table}; the outcomes, in order. */
    private static List<CallReplay.Outcome> replay(CallLog.Recording recording, HypercallTable table, Domain dom0) {
        HypercallPage page = new HypercallPage(table);
        List<CallReplay.Outcome> outcomes = new ArrayList<>();
        for (CallLog.Call call : recording.calls()) {
            outcomes.add(CallReplay.play(page, dom0, call));
        }
        return outcomes;
    }

    @Test
    void aPageHasNoTapUntilOneIsSet() {
        HypercallPage page = new HypercallPage(HypercallTable.empty());
        assertThat(page.tap()).isNull();
    }

    @Test
    void eachCallIsRecordedWithItsReadsWritesAndClock() throws IOException {
        Domain dom0 = Domain.localDom0();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = arena.allocate(4096);
            CallLog.Recording recording = read(record(new HypercallPage(table("original", 0)), dom0, memory));
            List<CallLog.Call> calls = recording.calls();
            assertThat(calls).hasSize(4);
            CallLog.Call first = calls.getFirst();
            assertThat(first.domid()).isZero();
            assertThat(first.nr()).isEqualTo(SUM);
            assertThat(first.arg(1)).isEqualTo(memory.address());
            assertThat(first.result()).isEqualTo(8);
            assertThat(first.reads()).hasSize(8);
            assertThat(first.reads().get(7).address()).isEqualTo(memory.address() + 28);
            assertThat(first.reads().get(7).bytes()).containsExactly(80, 0, 0, 0);
            assertThat(first.writes()).singleElement().satisfies(w -> {
                assertThat(w.address()).isEqualTo(memory.address() + 256);
                assertThat(w.bytes()).containsExactly(104, 1, 0, 0, 0, 0, 0, 0); // 360
            });
            assertThat(calls.get(1).result()).isEqualTo(-XenErrno.XEN_EFAULT);
            assertThat(calls.get(1).reads()).singleElement().satisfies(r -> assertThat(r.faulted()).isTrue());
            assertThat(calls.get(2).clock()).containsExactly(1_001);
        }
    }

    @Test
    void theSameHandlersReplayWithNoDifferenceAndAChangedOneDiffersInExactlyItsCalls() throws IOException {
        Domain dom0 = Domain.localDom0();
        try (Arena arena = Arena.ofConfined()) {
            CallLog.Recording recording = read(record(new HypercallPage(table("original", 0)), dom0,
                    arena.allocate(4096)));
            // the time handler reads its own clock, not the recorded reading: set it back for the replay
            clock.set(1_000);
            List<CallReplay.Outcome> same = replay(recording, table("again", 0), dom0);
            assertThat(same).allSatisfy(o -> assertThat(o.differences()).isEmpty());

            clock.set(1_000);
            List<CallReplay.Outcome> changed = replay(recording, table("biased", 5), dom0);
            assertThat(changed.get(0).differences()).singleElement().satisfies(d -> {
                assertThat(d.kind()).isEqualTo(CallReplay.Kind.MEMORY);
                assertThat(d.text()).isEqualTo("memory written at 0x" + Long.toHexString(
                        recording.calls().get(0).arg(2)) + " (1 byte): expected 68, got 6d");
            });
            assertThat(changed.get(1).differences()).isEmpty(); // faulted before its bias showed
            assertThat(changed.get(2).differences()).isEmpty();
            assertThat(changed.get(3).differs()).isTrue();
        }
    }

    @Test
    void aReadTheRecordingDoesNotHaveIsADifferenceAndAFaultNotACrash() throws IOException {
        Domain dom0 = Domain.localDom0();
        try (Arena arena = Arena.ofConfined()) {
            CallLog.Recording recording = read(record(new HypercallPage(table("original", 0)), dom0,
                    arena.allocate(4096)));
            HypercallTable readsMore = HypercallTable.builder("reads one more")
                    .add(SUM, new Provider("test.sum", "Sum"), (ctx, count, in, out, a3, a4) ->
                            sum(0).handle(ctx, count + 1, in, out, a3, a4) - 1)
                    .build();
            CallReplay.Outcome first = CallReplay.play(new HypercallPage(readsMore), dom0, recording.calls().get(0));
            assertThat(first.result()).isEqualTo(-XenErrno.XEN_EFAULT);
            assertThat(first.differences()).extracting(CallReplay.Difference::text).containsExactly(
                    "result: expected 8, got -EFAULT",
                    "memory written at 0x" + Long.toHexString(recording.calls().get(0).arg(2))
                            + " (8 bytes): expected 68 01 00 00 00 00 00 00, got -- -- -- -- -- -- -- --",
                    "read 4 bytes at 0x" + Long.toHexString(recording.calls().get(0).arg(1) + 32)
                            + " that the recording does not have (the handler got -EFAULT)");
        }
    }

    @Test
    void aContinuedCallIsRecordedAtEachEntryAndReplayedWithTheSamePreemptions() throws IOException {
        Domain dom0 = Domain.localDom0();
        HypercallPage page = new HypercallPage(table("original", 0));
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        recorder = new HypercallRecorder(CallLogWriter.to(file, CallLogTest.PLATFORM), out -> { });
        page.tap(recorder);
        // a context that preempts at every third check, as a vCPU whose slice runs out
        CallContext preempting = new xenshim.api.PreemptibleContext(dom0, 0, new xenshim.testkit.FakeGuestMemory[] {
                xenshim.testkit.FakeGuestMemory.standard()}[0], xenshim.api.Abi.X86_64) {
            private int checks;

            @Override
            public boolean preemptCheck() {
                return ++checks % 3 == 0;
            }
        };
        long result = page.invoke(preempting, LONG, 10, 0, 0, 0, 0);
        int entries = 1;
        var continuation = ((xenshim.api.PreemptibleContext) preempting).continuation();
        while (continuation.take(result)) {
            result = page.invoke(preempting, LONG, continuation.arg(0), continuation.arg(1), 0, 0, 0);
            entries++;
        }
        assertThat(result).isEqualTo(10);
        page.tap(null);
        recorder.close();
        List<CallLog.Call> calls = read(file.toByteArray()).calls();
        assertThat(calls).hasSize(entries);
        assertThat(calls.getFirst().continued()).isTrue();
        assertThat(calls.getFirst().result()).isEqualTo(Continuation.PENDING);
        assertThat(calls.get(1).arg(1)).isEqualTo(calls.getFirst().continuation()[1]);
        assertThat(calls.getLast().continued()).isFalse();
        List<CallReplay.Outcome> outcomes = replay(read(file.toByteArray()), table("again", 0), dom0);
        assertThat(outcomes).allSatisfy(o -> assertThat(o.differences()).isEmpty());
    }

    @Test
    void aFaultedCallIsRecordedAsSuchWithNothingRead() throws IOException {
        Domain dom0 = Domain.localDom0();
        HypercallPage page = new HypercallPage(table("original", 0));
        page.injectFaults(FaultInjection.parse("test", List.of("48 errno=EINVAL nth=1"), 0));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = arena.allocate(4096);
            ByteArrayOutputStream file = new ByteArrayOutputStream();
            recorder = new HypercallRecorder(CallLogWriter.to(file, CallLogTest.PLATFORM), out -> { });
            page.tap(recorder);
            Lcall dom0Calls = Lcall.dom0(page, dom0, memory);
            assertThat(dom0Calls.invoke(SUM, 1, memory.address(), memory.address() + 8)).isEqualTo(-XenErrno.XEN_EINVAL);
            assertThat(dom0Calls.invoke(SUM, 1, memory.address(), memory.address() + 8)).isEqualTo(1);
            recorder.close();
            List<CallLog.Call> calls = read(file.toByteArray()).calls();
            assertThat(calls).extracting(CallLog.Call::faulted).containsExactly(true, false);
            assertThat(calls.getFirst().reads()).isEmpty();
            assertThat(calls.getFirst().result()).isEqualTo(-XenErrno.XEN_EINVAL);
        }
    }

    @Test
    void aCallNestedInAnotherIsWrittenAfterItAndWhatTheCaptureSaysGoesAroundTheOutermostCall() throws IOException {
        Domain dom0 = Domain.localDom0();
        List<Lcall> self = new ArrayList<>();
        HypercallTable table = HypercallTable.builder("nesting")
                .add(SUM, new Provider("test.outer", "Outer"), (ctx, a0, a1, a2, a3, a4) ->
                        a0 == 0 ? self.getFirst().invoke(SUM, 1) + 100 : 1)
                .build();
        HypercallPage page = new HypercallPage(table);
        self.add(new Lcall(page, dom0, xenshim.testkit.FakeGuestMemory.standard()));
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        int[] captures = {0};
        recorder = new HypercallRecorder(CallLogWriter.to(file, CallLogTest.PLATFORM),
                out -> out.accept(new CallLog.DomainGone(++captures[0])));
        page.tap(recorder);
        assertThat(self.getFirst().invoke(SUM, 0)).isEqualTo(101);
        recorder.close();
        List<CallLog.Entry> entries = read(file.toByteArray()).entries();
        assertThat(entries).extracting(e -> e instanceof CallLog.Call c ? "call " + c.arg(0) + " = " + c.result()
                : "capture " + ((CallLog.DomainGone) e).domid())
                .containsExactly("capture 1", "call 0 = 101", "call 1 = 1", "capture 2", "capture 3");
    }

    @Test
    void aHandlerThatDoesNotReturnHoldsUpOtherCallersOnlyForTheWaitThenTheRecordingStops() throws Exception {
        Domain dom0 = Domain.localDom0();
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        HypercallTable table = HypercallTable.builder("stuck")
                .add(SUM, new Provider("test.sum", "Sum"), sum(0))
                .add(LONG, new Provider("test.stuck", "Stuck"), (ctx, a0, a1, a2, a3, a4) -> {
                    entered.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return 7;
                })
                .build();
        HypercallPage page = new HypercallPage(table);
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        recorder = new HypercallRecorder(CallLogWriter.to(file, CallLogTest.PLATFORM), out -> { },
                java.time.Duration.ofMillis(200));
        page.tap(recorder);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment memory = arena.allocate(4096);
            Lcall dom0Calls = Lcall.dom0(page, dom0, memory);
            Thread stuck = Thread.ofPlatform().start(() -> dom0Calls.invoke(LONG, 0));
            assertThat(entered.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            long start = System.nanoTime();
            assertThat(dom0Calls.invoke(SUM, 1, memory.address(), memory.address() + 8)).isEqualTo(1);
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(150_000_000L).isLessThan(5_000_000_000L);
            release.countDown();
            stuck.join(10_000);
            assertThatThrownBy(recorder::close).isInstanceOf(IOException.class)
                    .hasMessage("d0 vcpu0's " + xenshim.api.xen.Hypercalls.name(SUM) + " waited more than 200 ms for "
                            + "another call to finish (a handler that does not return?); the recording stopped there");
        }
        byte[] bytes = file.toByteArray();
        assertThatThrownBy(() -> read(bytes)).hasMessageContaining(": truncated: ");
    }
}
