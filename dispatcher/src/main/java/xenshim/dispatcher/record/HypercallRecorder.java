package xenshim.dispatcher.record;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import xenshim.api.CallContext;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.CallTap;

/**
 * {@code xenshim run --record}: the {@link CallTap} that writes every entry of a hypercall page
 * into a {@link CallLog}. Set it with {@code page.tap(recorder)} before anything calls; remove it
 * and {@link #close} it when the run ends.
 *
 * <p>While it records, calls go through the page one at a time (a reentrant lock, so a handler's
 * own nested call on the same thread still runs): the order of the records is then the order the
 * calls' effects on domain state happened in, which is what lets a replay, playing them one by
 * one, see the state each call saw. A recorded run is slower for it, and allocates per call (the
 * context and memory views, the record). Before and after each call (the outermost, when calls
 * nest) the {@link Capture} says what changed since it was last asked (domains that came or went,
 * platform pages the guests, the platform or the call itself wrote); those entries go before and
 * after the call, so a replay that applies them in order finds each call's state as it was.
 *
 * <p>A call nested in another (a dom0 listener that answers an event on the sender's thread) is
 * numbered when it enters, after the call it nests in, and written after it: the file is in order
 * of entry. If the file cannot be written, recording stops (calls go on unrecorded) and
 * {@link #close} throws, leaving the file without its END record, so a replay refuses it as
 * truncated. So does a call that waits for its turn longer than {@link #WAIT} (a handler that
 * never returns holds up the others only that long).
 */
public final class HypercallRecorder implements CallTap, AutoCloseable {

    /** What changed outside calls since the last call: the runtime's domains and platform pages. */
    @FunctionalInterface
    public interface Capture {
        /**
         * Called under the recorder's lock before and after each call (not a nested one) and at close;
         * gives {@code out} the entries for what changed since the last time it was asked.
         */
        void changes(Consumer<CallLog.Entry> out);
    }

    /** How long a call waits for its turn by default before the recording gives up (a handler that does not return). */
    public static final Duration WAIT = Duration.ofSeconds(5);

    private final CallLogWriter log;
    private final Capture capture;
    private final long waitNanos;
    private final ReentrantLock serial = new ReentrantLock();
    /** The innermost recorded call of each thread, for {@link #clockRead}. */
    private final ThreadLocal<RecordingContext> current = new ThreadLocal<>();
    /** Entries numbered but not yet written, waiting for an earlier one (a call another nests in). */
    private final TreeMap<Long, CallLog.Entry> waiting = new TreeMap<>();
    private final Consumer<CallLog.Entry> captured = this::numbered;
    private final AtomicReference<IOException> failure = new AtomicReference<>();
    private long next;
    private long written;
    private volatile long calls;
    /** Set once: from then on calls go through unrecorded. */
    private volatile boolean stopped;

    public HypercallRecorder(CallLogWriter log, Capture capture) {
        this(log, capture, WAIT);
    }

    /**
     * @param wait how long a call waits for the call before it to finish; past that the recording stops
     *             (and says why at {@link #close}) and calls go through unrecorded, so that a handler that
     *             never returns holds up no other caller for longer than this
     */
    public HypercallRecorder(CallLogWriter log, Capture capture, Duration wait) {
        this.log = Objects.requireNonNull(log);
        this.capture = Objects.requireNonNull(capture);
        this.waitNanos = wait.toNanos();
    }

    @Override
    public long call(CallContext ctx, long nr, long a0, long a1, long a2, long a3, long a4, Entry entry) {
        if (stopped || !turn(ctx, nr)) {
            return entry.enter(ctx);
        }
        try {
            if (stopped) {
                return entry.enter(ctx);
            }
            boolean outermost = serial.getHoldCount() == 1;
            if (outermost) {
                capture();
            }
            long seq = next++;
            RecordingContext recording = new RecordingContext(ctx);
            RecordingContext outer = current.get();
            current.set(recording);
            long result = 0;
            Error error = null;
            try {
                result = entry.enter(recording);
                return result;
            } catch (Error e) {
                error = e;
                throw e;
            } finally {
                current.set(outer);
                done(seq, recording.toCall(nr, new long[] {a0, a1, a2, a3, a4}, result, error));
                if (outermost) {
                    capture();
                }
            }
        } finally {
            serial.unlock();
        }
    }

    @Override
    public void faulted(CallContext ctx, long nr, long a0, long a1, long a2, long a3, long a4, long result) {
        if (stopped || !turn(ctx, nr)) {
            return;
        }
        try {
            if (!stopped) {
                capture();
                numbered(new CallLog.Call(ctx.domain().domid(), ctx.vcpuId(), ctx.abi(), CallLog.FAULTED, nr,
                        new long[] {a0, a1, a2, a3, a4}, result, new long[0], null, 0, new int[0], new long[0],
                        List.of(), List.of()));
            }
        } finally {
            serial.unlock();
        }
    }

    /**
     * Waits for this call's turn. A call that waited too long, or was interrupted waiting, stops the
     * recording: it goes through unrecorded, and a recording that misses a call is no recording.
     *
     * @return whether the lock is held
     */
    private boolean turn(CallContext ctx, long nr) {
        try {
            if (serial.tryLock(waitNanos, TimeUnit.NANOSECONDS)) {
                return true;
            }
            stop(new IOException("d" + ctx.domain().domid() + " vcpu" + ctx.vcpuId() + "'s " + Hypercalls.name(nr)
                    + " waited more than " + Duration.ofNanos(waitNanos).toMillis() + " ms for another call to "
                    + "finish (a handler that does not return?); the recording stopped there"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop(new IOException("a call was interrupted while it waited for its turn; the recording stopped there"));
        }
        return false;
    }

    private void stop(IOException why) {
        failure.compareAndSet(null, why);
        stopped = true;
    }

    /**
     * The platform's clock was read: a reading of the call running on this thread, if any. The
     * runtime's clock calls this while a run records, so a replay can give each call the time it saw.
     */
    public void clockRead(long now) {
        RecordingContext call = current.get();
        if (call != null) {
            call.clockRead(now);
        }
    }

    /** How many calls were written so far. */
    public long calls() {
        return calls;
    }

    /**
     * What changed outside calls since the capture was last asked, numbered now. A capture that fails
     * (a bug, never the guest's doing) stops the recording rather than the call.
     */
    private void capture() {
        if (stopped) {
            return;
        }
        try {
            capture.changes(captured);
        } catch (RuntimeException e) {
            stop(new IOException("capturing the platform's state failed: " + e, e));
            waiting.clear();
        }
    }

    private void numbered(CallLog.Entry entry) {
        done(next++, entry);
    }

    /** Entry {@code seq} is complete: written now, with those after it that waited, or kept until its turn. */
    private void done(long seq, CallLog.Entry entry) {
        if (stopped) {
            return;
        }
        waiting.put(seq, entry);
        try {
            while (!waiting.isEmpty() && waiting.firstKey() == written) {
                log.write(waiting.pollFirstEntry().getValue());
                written++;
            }
            calls = log.calls();
        } catch (IOException e) {
            stop(e);
            waiting.clear();
        }
    }

    /**
     * Stops recording (later calls go through unrecorded) and finishes the file: what changed
     * since the last call, then the END record.
     *
     * @throws IOException if the recording stopped early (the file could not be written, a call
     *                     waited too long) or a call still runs; the file is then left without its
     *                     END record
     */
    @Override
    public void close() throws IOException {
        boolean locked = false;
        try {
            locked = serial.tryLock(waitNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            if (!locked) {
                stop(new IOException("a call was still running when the recording ended"));
            } else if (!stopped) {
                capture();
                if (!waiting.isEmpty()) {
                    stop(new IOException("calls were still running when the recording ended"));
                }
            }
            stopped = true;
            IOException why = failure.get();
            if (why != null) {
                log.abandon();
                throw why;
            }
            log.close();
        } finally {
            if (locked) {
                serial.unlock();
            }
        }
    }
}
