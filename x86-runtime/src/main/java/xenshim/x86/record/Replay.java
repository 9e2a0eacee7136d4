package xenshim.x86.record;

import java.io.PrintWriter;
import java.util.Objects;
import java.util.function.Function;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.record.CallLog;
import xenshim.dispatcher.record.CallReplay;
import xenshim.x86.Platform;
import xenshim.x86.time.PlatformTime;

/**
 * {@code xenshim replay}: a recording's calls played, in order, against a shim, with no VM, and every
 * call whose result or memory writes differ from the recording said.
 *
 * <p>The replay's platform is built as the recorded run's was, from its PLATFORM record (the same
 * Xen version strings), with its table built as {@code run} builds one (the built-in handlers, or a
 * plugins folder over them). Its domains come and go, and their platform pages are set, as the
 * recording says ({@link ReplayDomains}). What is not the shim's to decide is given as it was:
 * <ul>
 * <li>time: the clock is pinned, during each call, to the readings the recorded call made
 *     ({@link PinnedClock}), and timers never fire (what they did is in the recorded pages);</li>
 * <li>preemption: each check is answered as it was (a continued call is played entry by entry);</li>
 * <li>the guest memory a handler reads is the recorded call's;</li>
 * <li>a call fault injection failed in the recorded run did not reach a handler: it is not played,
 *     and is counted in the summary.</li>
 * </ul>
 * What is compared: each call's result (with a continuation's arguments, or a JVM error) and the
 * bytes it wrote through its caller's memory. What the platform writes elsewhere on a call's behalf
 * (event bits, a vcpu_info or runstate area moved into RAM) is not compared, and the console's output
 * is dropped.
 */
public final class Replay implements AutoCloseable {

    /** What a replay found. */
    public record Summary(long calls, long played, long faulted, long differing, long inResult, long inMemory,
                          long missingReads, long millis) {

        /** The summary line. */
        public String line(String table, String recordedTable) {
            return String.format("replay: %d calls, %d played against %s (recorded against %s): %s; %d failed by "
                            + "fault injection in the recorded run, not played; %d ms",
                    calls, played, table, recordedTable,
                    differing == 0 ? "no difference"
                            : differing + (differing == 1 ? " call differs" : " calls differ") + " (" + inResult
                            + " in the result, " + inMemory + " in memory written, " + missingReads
                            + " read memory the recording does not have)",
                    faulted, millis);
        }
    }

    private final CallLog.Recording recording;
    private final PinnedClock clock;
    private final Platform platform;
    private final HypercallPage page;
    private final ReplayDomains domains;

    /**
     * A replay of {@code recording} against the table {@code tables} builds on the replay's platform,
     * as {@code run} builds its own ({@code Platform.table}: the built-in handlers, or a plugins folder
     * over them).
     *
     * @throws xenshim.dispatcher.TableBuildException for a bad plugins folder or a conflict, as
     *         {@code run} has them
     */
    public Replay(CallLog.Recording recording, Function<Platform, HypercallTable> tables) {
        this.recording = Objects.requireNonNull(recording);
        CallLog.Platform recorded = recording.platform();
        this.clock = new PinnedClock(recorded.wallclockAtZero());
        GuestConsole dropped = (domain, bytes, offset, length) -> { };
        this.platform = new Platform(recorded.version(), dropped, PlatformTime.stopped(clock));
        HypercallTable table = tables.apply(platform);
        this.page = new HypercallPage(table);
        this.domains = new ReplayDomains(platform, clock);
    }

    /** The table the calls are played against. */
    public HypercallTable table() {
        return page.current();
    }

    /**
     * Plays every call, printing a line to {@code out} for each difference (call number from 1,
     * caller, hypercall and sub-op, what differs), then nothing else: the caller prints the summary.
     *
     * @throws IllegalStateException if the recording is inconsistent (a call or page of a domain it
     *         never made, ...), naming the entry
     */
    public Summary run(PrintWriter out) {
        long start = System.nanoTime();
        long calls = 0;
        long played = 0;
        long faulted = 0;
        long differing = 0;
        long inResult = 0;
        long inMemory = 0;
        long missing = 0;
        int index = 0;
        for (CallLog.Entry entry : recording.entries()) {
            index++;
            if (!(entry instanceof CallLog.Call call)) {
                try {
                    domains.apply(entry);
                } catch (ReplayDomains.Inconsistent e) {
                    throw new IllegalStateException("the recording cannot be played: entry " + index + ": "
                            + e.getMessage(), e);
                }
                continue;
            }
            calls++;
            if (call.faulted()) {
                faulted++;
                continue;
            }
            Domain caller = platform.domains().byId(call.domid()).orElse(null);
            if (caller == null) {
                throw new IllegalStateException("the recording cannot be played: entry " + index + ": call " + calls
                        + " is made by d" + call.domid() + ", which the recording has not created (or has removed)");
            }
            clock.call(call.clock());
            CallReplay.Outcome outcome = CallReplay.play(page, caller, call);
            played++;
            if (outcome.differs()) {
                differing++;
                boolean result = false;
                boolean memory = false;
                boolean read = false;
                for (CallReplay.Difference d : outcome.differences()) {
                    out.println("call " + calls + ": " + CallReplay.describe(call) + ": " + d.text());
                    result |= d.kind() == CallReplay.Kind.RESULT;
                    memory |= d.kind() == CallReplay.Kind.MEMORY;
                    read |= d.kind() == CallReplay.Kind.MISSING_READ;
                }
                inResult += result ? 1 : 0;
                inMemory += memory ? 1 : 0;
                missing += read ? 1 : 0;
            }
        }
        out.flush();
        return new Summary(calls, played, faulted, differing, inResult, inMemory, missing,
                (System.nanoTime() - start) / 1_000_000);
    }

    @Override
    public void close() {
        domains.close();
    }
}
