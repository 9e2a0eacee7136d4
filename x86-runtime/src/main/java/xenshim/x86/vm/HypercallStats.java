package xenshim.x86.vm;

import java.io.PrintWriter;
import xenshim.api.xen.Hypercalls;

/**
 * Count and time of the hypercalls of one vCPU, per number (one bucket for
 * numbers outside the table). A preempted call counts once, however many
 * entries (continuations) it took: its time is the sum of its entries, and
 * the entries and the longest single entry are kept beside it.
 * Allocation-free on the hot path.
 *
 * <p><b>Threads.</b> Nothing here is synchronised, by design: {@link #record}
 * has one writer, its vCPU thread, and {@link #addTo}/{@link #print} are meant
 * to be called after the vCPU threads stopped ({@link Machine#run} joined
 * them), when the counts are exact. Read while a vCPU still runs (a report on
 * Ctrl-C, or a thread that did not stop), they give an approximate snapshot.
 */
public final class HypercallStats {

    private static final int OUTSIDE = Hypercalls.NR_SLOTS;

    private final long[] counts = new long[Hypercalls.NR_SLOTS + 1];
    private final long[] entries = new long[Hypercalls.NR_SLOTS + 1];
    private final long[] nanos = new long[Hypercalls.NR_SLOTS + 1];
    private final long[] longestEntry = new long[Hypercalls.NR_SLOTS + 1];

    /**
     * One completed call of {@code nr}.
     *
     * @param handlerNanos  the time in the handler over all its entries
     * @param callEntries   how many entries it took (1 if never preempted)
     * @param longestNanos  the longest of those entries
     */
    public void record(long nr, long handlerNanos, int callEntries, long longestNanos) {
        int slot = nr >= 0 && nr < Hypercalls.NR_SLOTS ? (int) nr : OUTSIDE;
        counts[slot]++;
        entries[slot] += callEntries;
        nanos[slot] += handlerNanos;
        longestEntry[slot] = Math.max(longestEntry[slot], longestNanos);
    }

    /** Calls of {@code nr} recorded so far. */
    public long count(int nr) {
        return counts[nr];
    }

    /** Entries those calls took: more than {@link #count} when some were continued. */
    public long entries(int nr) {
        return entries[nr];
    }

    /** The longest single entry of a call of {@code nr}, in nanoseconds. */
    public long longestEntryNanos(int nr) {
        return longestEntry[nr];
    }

    /** Adds these counts and times to {@code total} (see the class comment on threads). */
    public void addTo(HypercallStats total) {
        for (int i = 0; i < counts.length; i++) {
            total.counts[i] += counts[i];
            total.entries[i] += entries[i];
            total.nanos[i] += nanos[i];
            total.longestEntry[i] = Math.max(total.longestEntry[i], longestEntry[i]);
        }
    }

    /**
     * The table: one line per hypercall made, with its count, the entries they took
     * (continuations included), the mean time in the handler per call, and the
     * longest single entry.
     */
    public void print(PrintWriter out) {
        out.printf("%-22s %10s %10s %12s %14s%n", "hypercall", "count", "entries", "mean us", "max entry us");
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                String name = i == OUTSIDE ? "(number >= 128)" : i + " " + Hypercalls.name(i);
                out.printf("%-22s %10d %10d %12.2f %14.2f%n", name, counts[i], entries[i],
                        nanos[i] / 1e3 / counts[i], longestEntry[i] / 1e3);
            }
        }
        out.flush();
    }
}
