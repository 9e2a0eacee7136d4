package xenshim.x86.vm;

import xenshim.api.Abi;

/**
 * One vCPU's statistics and trace, one record per hypercall however many
 * entries it took: while a call is continued, its entries are summed here,
 * and when the entry that completes it comes, it is recorded once, with the
 * arguments the guest first made it with. A different hypercall completing in
 * between (one made by an interrupt handler between two entries) is recorded
 * on its own and leaves the continued call pending.
 */
final class CallRecorder {

    private final HypercallStats stats = new HypercallStats();
    private final int vcpu;
    private final HypercallTracer tracer;

    private long pendingNr = -1;
    private Abi pendingAbi;
    private final long[] pendingArgs = new long[5];
    private long pendingNanos;
    private int pendingEntries;
    private long pendingLongest;

    /** @param tracer null for no trace */
    CallRecorder(int vcpu, HypercallTracer tracer) {
        this.vcpu = vcpu;
        this.tracer = tracer;
    }

    HypercallStats stats() {
        return stats;
    }

    /** An entry of {@code nr} that ended in a continuation. */
    void continued(long nr, Abi abi, long a0, long a1, long a2, long a3, long a4, long nanos) {
        if (pendingNr != nr) {
            pendingNr = nr;
            pendingAbi = abi;
            pendingArgs[0] = a0;
            pendingArgs[1] = a1;
            pendingArgs[2] = a2;
            pendingArgs[3] = a3;
            pendingArgs[4] = a4;
            pendingNanos = 0;
            pendingEntries = 0;
            pendingLongest = 0;
        }
        pendingNanos += nanos;
        pendingEntries++;
        pendingLongest = Math.max(pendingLongest, nanos);
    }

    /** The entry that completes a call of {@code nr} with {@code result}. */
    void completed(long nr, Abi abi, long a0, long a1, long a2, long a3, long a4, long result, long nanos) {
        if (pendingNr != nr) {
            stats.record(nr, result, nanos, 1, nanos);
            if (tracer != null) {
                tracer.trace(vcpu, abi, nr, a0, a1, a2, a3, a4, result, 1);
            }
            return;
        }
        pendingNr = -1;
        int entries = pendingEntries + 1;
        stats.record(nr, result, pendingNanos + nanos, entries, Math.max(pendingLongest, nanos));
        if (tracer != null) {
            tracer.trace(vcpu, pendingAbi, nr, pendingArgs[0], pendingArgs[1], pendingArgs[2], pendingArgs[3],
                    pendingArgs[4], result, entries);
        }
    }
}
