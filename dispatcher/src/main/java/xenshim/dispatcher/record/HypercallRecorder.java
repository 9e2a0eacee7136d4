package xenshim.dispatcher.record;

import java.io.IOException;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import xenshim.api.CallContext;
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
 * truncated.
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

    private final CallLogWriter log;
    private final Capture capture;
    private final ReentrantLock serial = new ReentrantLock();
    /** The innermost recorded call of each thread, for {@link #clockRead}. */
    private final ThreadLocal<RecordingContext> current = new ThreadLocal<>();
    /** Entries numbered but not yet written, waiting for an earlier one (a call another nests in). */
    private final TreeMap<Long, CallLog.Entry> waiting = new TreeMap<>();
    private final Consumer<CallLog.Entry> captured = this::numbered;
    private long next;
    private long written;
    private IOException failure;
    private boolean stopped;

    public HypercallRecorder(CallLogWriter log, Capture capture) {
        this.log = Objects.requireNonNull(log);
        this.capture = Objects.requireNonNull(capture);
    }

    @Override
    public long call(CallContext ctx, long nr, long a0, long a1, long a2, long a3, long a4, Entry entry) {
        serial.lock();
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
        serial.lock();
        try {
            if (!stopped) {
                capture();
                numbered(new CallLog.Call(ctx.domain().domid(), ctx.vcpuId(), ctx.abi(), CallLog.FAULTED, nr,
                        new long[] {a0, a1, a2, a3, a4}, result, new long[0], null, 0, new int[0], new long[0],
                        java.util.List.of(), java.util.List.of()));
            }
        } finally {
            serial.unlock();
        }
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
        serial.lock();
        try {
            return log.calls();
        } finally {
            serial.unlock();
        }
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
            failure = new IOException("capturing the platform's state failed: " + e, e);
            stopped = true;
            waiting.clear();
        }
    }

    private void numbered(CallLog.Entry entry) {
        done(next++, entry);
    }

    /** Entry {@code seq} is complete: written now, with those after it that waited, or kept until its turn. */
    private void done(long seq, CallLog.Entry entry) {
        waiting.put(seq, entry);
        try {
            while (!waiting.isEmpty() && waiting.firstKey() == written) {
                log.write(waiting.pollFirstEntry().getValue());
                written++;
            }
        } catch (IOException e) {
            failure = e;
            stopped = true;
            waiting.clear();
        }
    }

    /**
     * Stops recording (later calls go through unrecorded) and finishes the file: what changed
     * since the last call, then the END record.
     *
     * @throws IOException if the file could not be written, now or during the run; it is then
     *                     left without its END record
     */
    @Override
    public void close() throws IOException {
        serial.lock();
        try {
            if (!stopped) {
                capture();
                stopped = true;
                if (!waiting.isEmpty() && failure == null) {
                    failure = new IOException("calls were still running when the recording ended");
                }
            }
            if (failure != null) {
                log.abandon();
                throw failure;
            }
            log.close();
        } finally {
            serial.unlock();
        }
    }
}
