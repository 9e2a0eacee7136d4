package xenshim.x86.vm;

import java.io.PrintWriter;
import xenshim.api.xen.Hypercalls;

/**
 * Count and time of the hypercalls of one vCPU, per number (one bucket for
 * numbers outside the table). Written by its vCPU thread only; merged for the
 * report. Allocation-free on the hot path.
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

    public synchronized void addTo(HypercallStats total) {
        synchronized (total) {
            for (int i = 0; i < counts.length; i++) {
                total.counts[i] += counts[i];
                total.nanos[i] += nanos[i];
            }
        }
    }

    /** The table: one line per hypercall made, with count and mean time in the handler. */
    public synchronized void print(PrintWriter out) {
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
