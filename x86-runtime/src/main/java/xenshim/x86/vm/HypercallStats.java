package xenshim.x86.vm;

import java.io.PrintWriter;
import xenshim.api.xen.Hypercalls;

/**
 * Count and time of the hypercalls of one vCPU, per number (one bucket for
 * numbers outside the table). Allocation-free on the hot path.
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
    private final long[] nanos = new long[Hypercalls.NR_SLOTS + 1];

    public void record(long nr, long elapsedNanos) {
        int slot = nr >= 0 && nr < Hypercalls.NR_SLOTS ? (int) nr : OUTSIDE;
        counts[slot]++;
        nanos[slot] += elapsedNanos;
    }

    /** Adds these counts and times to {@code total} (see the class comment on threads). */
    public void addTo(HypercallStats total) {
        for (int i = 0; i < counts.length; i++) {
            total.counts[i] += counts[i];
            total.nanos[i] += nanos[i];
        }
    }

    /** The table: one line per hypercall made, with count and mean time in the handler. */
    public void print(PrintWriter out) {
        out.printf("%-22s %10s %12s%n", "hypercall", "count", "mean us");
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                String name = i == OUTSIDE ? "(number >= 128)" : i + " " + Hypercalls.name(i);
                out.printf("%-22s %10d %12.2f%n", name, counts[i], nanos[i] / 1e3 / counts[i]);
            }
        }
        out.flush();
    }
}
