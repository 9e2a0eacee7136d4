package xenshim.x86.vm;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.OptionalInt;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenErrno;

/**
 * Counts, errors and times of the hypercalls of one vCPU, or of several merged, per number (one bucket,
 * {@link #OUTSIDE}, for numbers outside the table). A preempted call counts once, however many entries
 * (continuations) it took: its time is the sum of its entries, and the entries and the longest single
 * entry are kept beside it.
 *
 * <p><b>Errors.</b> A call is an error when its result is negative: a Xen hypercall returns a
 * {@code long} whose negative values are {@code -errno}, and Linux and the other Xen guests test
 * {@code rc < 0}. A call whose outcome is reported in guest memory instead is not an error here: a
 * {@code grant_table_op} batch returns 0 with a {@code GNTST_*} status in each op (as would Xen's
 * {@code multicall}, with each entry's result in its entry). The errors are also counted per errno, so
 * that the most common one can be named; a result below -127 is no Xen errno (a handler's bug) and is
 * counted under errno 0.
 *
 * <p><b>Times.</b> Each number's call times (in the handler, summed over the call's entries) go into
 * a {@link LatencyHistogram}, whose percentiles are within 1/32 of the exact ones; the mean, the
 * longest call and the longest entry are exact.
 *
 * <p><b>Memory.</b> A number's figures, histogram included (about 8.5 KiB), are allocated on its
 * first call, so a vCPU holds them only for the few numbers its guest makes; {@link #record} allocates
 * nothing after that.
 *
 * <p><b>Threads.</b> Nothing here is synchronised, by design: {@link #record} has one writer, its vCPU
 * thread, and the figures are exact when read after the vCPU threads stopped ({@link Machine#run}
 * joined them). Read while a vCPU runs ({@link Machine#statsSnapshot} from a control channel, a report
 * on Ctrl-C, a thread that did not stop), they are an approximate snapshot: plain reads of counters
 * another thread increments, each one current or a little stale (and not torn: HotSpot on a 64-bit CPU
 * reads a long in one access), and never a reason to throw: a number's figures are published with all
 * their arrays in final fields, and a merged histogram counts what it copied
 * ({@link LatencyHistogram#addTo}). The writer is never blocked.
 */
public final class HypercallStats {

    /** The row of numbers outside the table ({@code >= 128}, or negative). */
    public static final int OUTSIDE = Hypercalls.NR_SLOTS;
    /** Xen's errnos are all below this ({@link XenErrno}). */
    private static final int ERRNOS = 128;
    /**
     * The widest a table line gets, when its name cell ("32 event_channel_op") is up to 19 characters, as
     * for every number an HVM guest makes, its counts up to 8 digits and its errno up to 11 characters.
     */
    static final int TABLE_WIDTH = 99;
    private static final String ROW = "%-19s%9s%9s%8s %-11s%8s%8s%8s%8s%10s%n";

    /** One number's figures; allocated on its first call. */
    private static final class Figures {
        long count;
        long entries;
        long nanos;
        long longestEntry;
        long errors;
        /** Errors by errno; [0]: results below -127. */
        final long[] errnos = new long[ERRNOS];
        final LatencyHistogram latency = new LatencyHistogram();
    }

    private final Figures[] figures = new Figures[Hypercalls.NR_SLOTS + 1];

    /**
     * One completed call of {@code nr}.
     *
     * @param result        what it returned to the guest (negative: an error)
     * @param handlerNanos  the time in the handler over all its entries
     * @param callEntries   how many entries it took (1 if never preempted)
     * @param longestNanos  the longest of those entries
     */
    public void record(long nr, long result, long handlerNanos, int callEntries, long longestNanos) {
        int slot = nr >= 0 && nr < Hypercalls.NR_SLOTS ? (int) nr : OUTSIDE;
        Figures f = figures[slot];
        if (f == null) {
            f = new Figures();
            figures[slot] = f;
        }
        f.count++;
        f.entries += callEntries;
        f.nanos += handlerNanos;
        f.longestEntry = Math.max(f.longestEntry, longestNanos);
        f.latency.record(handlerNanos);
        if (result < 0) {
            f.errors++;
            f.errnos[result > -ERRNOS ? (int) -result : 0]++;
        }
    }

    /** Calls of {@code nr} (0..127, or {@link #OUTSIDE}) recorded so far. */
    public long count(int nr) {
        Figures f = figures[nr];
        return f == null ? 0 : f.count;
    }

    /** Entries those calls took: more than {@link #count} when some were continued. */
    public long entries(int nr) {
        Figures f = figures[nr];
        return f == null ? 0 : f.entries;
    }

    /** The longest single entry of a call of {@code nr}, in nanoseconds. */
    public long longestEntryNanos(int nr) {
        Figures f = figures[nr];
        return f == null ? 0 : f.longestEntry;
    }

    /** The mean time in the handler per call of {@code nr}, in nanoseconds; 0 if none. */
    public long meanNanos(int nr) {
        Figures f = figures[nr];
        return f == null || f.count == 0 ? 0 : f.nanos / f.count;
    }

    /**
     * The time in the handler of a call of {@code nr} at {@code percentile} (50, 90, 99, 99.9, ...), in
     * nanoseconds, within 1/32 of the exact value ({@link LatencyHistogram}); 0 if none.
     *
     * @throws IllegalArgumentException for a percentile outside 0..100
     */
    public long percentileNanos(int nr, double percentile) {
        LatencyHistogram.checkPercentile(percentile);
        Figures f = figures[nr];
        return f == null ? 0 : f.latency.percentile(percentile);
    }

    /** The longest call of {@code nr} (all its entries), exactly, in nanoseconds; 0 if none. */
    public long maxNanos(int nr) {
        Figures f = figures[nr];
        return f == null ? 0 : f.latency.max();
    }

    /** Calls of {@code nr} that returned a negative result (class comment). */
    public long errors(int nr) {
        Figures f = figures[nr];
        return f == null ? 0 : f.errors;
    }

    /**
     * Calls of {@code nr} that returned {@code -errno}; errno 0 counts the results below -127.
     *
     * @param errno 0..127
     */
    public long errnoCount(int nr, int errno) {
        Figures f = figures[nr];
        return f == null ? 0 : f.errnos[errno];
    }

    /**
     * The errno calls of {@code nr} returned most often (the lowest of those tied), 0 if that was a
     * result below -127; empty if no call of {@code nr} failed.
     */
    public OptionalInt mostCommonErrno(int nr) {
        Figures f = figures[nr];
        if (f == null) {
            return OptionalInt.empty();
        }
        int most = -1;
        for (int e = 1; e < ERRNOS; e++) {
            if (f.errnos[e] > 0 && (most < 0 || f.errnos[e] > f.errnos[most])) {
                most = e;
            }
        }
        if (f.errnos[0] > 0 && (most < 0 || f.errnos[0] > f.errnos[most])) {
            most = 0;
        }
        return most < 0 ? OptionalInt.empty() : OptionalInt.of(most);
    }

    /**
     * Adds these figures to {@code total}: how the vCPUs' figures are merged. From any thread, at any
     * time (see the class comment on threads); it allocates only the numbers {@code total} lacks.
     */
    public void addTo(HypercallStats total) {
        for (int i = 0; i < figures.length; i++) {
            Figures f = figures[i]; // read once: the writer may publish it meanwhile
            if (f == null) {
                continue;
            }
            Figures t = total.figures[i];
            if (t == null) {
                t = new Figures();
                total.figures[i] = t;
            }
            t.count += f.count;
            t.entries += f.entries;
            t.nanos += f.nanos;
            t.longestEntry = Math.max(t.longestEntry, f.longestEntry);
            t.errors += f.errors;
            for (int e = 0; e < ERRNOS; e++) {
                t.errnos[e] += f.errnos[e];
            }
            f.latency.addTo(t.latency);
        }
    }

    /**
     * The table: a header, then one line per hypercall made, at most {@value #TABLE_WIDTH} columns wide:
     * its calls, the entries they took (continuations included), the calls that failed and the most
     * common errno among them, the mean time in the handler per call, its 50th, 99th and 99.9th
     * percentiles, and the longest single entry. Times carry their unit (ns, us, ms, s) and three
     * significant digits, as precise as the percentiles are.
     */
    public void print(PrintWriter out) {
        out.printf(Locale.ROOT, ROW, "hypercall", "calls", "entries", "errors", "top errno", "mean", "p50",
                "p99", "p99.9", "max entry");
        for (int i = 0; i < figures.length; i++) {
            Figures f = figures[i];
            if (f == null || f.count == 0) {
                continue;
            }
            String name = i == OUTSIDE ? "(number >= 128)" : i + " " + Hypercalls.name(i);
            OptionalInt errno = mostCommonErrno(i);
            String top = errno.isEmpty() ? "" : errno.getAsInt() == 0 ? "< -127" : XenErrno.describe(-errno.getAsInt());
            out.printf(Locale.ROOT, ROW, name, f.count, f.entries, f.errors, top, duration(f.nanos / f.count),
                    duration(f.latency.percentile(50)), duration(f.latency.percentile(99)),
                    duration(f.latency.percentile(99.9)), duration(f.longestEntry));
        }
        out.flush();
    }

    /** {@code nanos} in ns, us, ms or s, whichever leaves 1 to 3 digits before the point, to 3 significant digits. */
    static String duration(long nanos) {
        if (nanos < 1000) {
            return nanos + "ns";
        }
        String[] units = {"us", "ms", "s"};
        double value = nanos / 1e3;
        int unit = 0;
        while (unit < units.length - 1 && value >= 999.5) {
            value /= 1e3;
            unit++;
        }
        String digits = value >= 99.95 ? "%.0f" : value >= 9.995 ? "%.1f" : "%.2f";
        return String.format(Locale.ROOT, digits, value) + units[unit];
    }
}
