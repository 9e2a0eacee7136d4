package xenshim.fuzz;

/**
 * The work one entry of a hypercall may do: guest memory accesses and bytes, and wall time. Checked at
 * every access of the caller's memory and at every preemption check, so a call that loops forever while
 * it touches memory or asks whether to stop is caught on the calling thread ({@link RunawayCall}), and the
 * test run goes on. A loop that does neither is caught by Jazzer's own per-input timeout.
 *
 * <p>With preemption asked at least every few checks, no entry of a correct handler comes near these
 * bounds: the fuzzed guests have 128 KiB of RAM, so the byte bound is many times what an entry can touch.
 */
final class WorkBudget {

    /** Bytes of guest memory one entry may read or write. */
    static final long MAX_BYTES = 4L << 20;
    /** Guest memory accesses one entry may make. */
    static final long MAX_ACCESSES = 1L << 20;
    /** Wall time one entry may take: generous, as a loaded CI machine and a cold JIT are slow. */
    static final long MAX_NANOS = 2_000_000_000L;

    private long bytes;
    private long accesses;
    private long deadline;
    private String call = "";

    /** Starts an entry of {@code call} (for the message). */
    void startEntry(String what) {
        bytes = 0;
        accesses = 0;
        deadline = System.nanoTime() + MAX_NANOS;
        call = what;
    }

    /** One access of {@code length} bytes. */
    void touch(long length) {
        accesses++;
        bytes += Math.max(length, 0);
        if (accesses > MAX_ACCESSES || bytes > MAX_BYTES) {
            throw new RunawayCall(call + ": one entry made " + accesses + " accesses to guest memory ("
                    + bytes + " bytes) without being preempted");
        }
        if ((accesses & 255) == 0) {
            checkTime();
        }
    }

    /** Throws if the entry ran past its deadline. */
    void checkTime() {
        if (System.nanoTime() - deadline > 0) {
            throw new RunawayCall(call + ": one entry ran for more than " + MAX_NANOS / 1_000_000 + " ms");
        }
    }
}
