package xenshim.api;

/**
 * Xen's {@code hypercall_create_continuation} for one caller: the arguments a
 * preempted hypercall is re-entered with. A handler that did a bounded chunk
 * of a long call returns {@link CallContext#createContinuation}; the caller
 * of the table (the vCPU loop, {@code Lcall}, the testkit's harness) then
 * enters the same hypercall again with these arguments, as a Xen guest
 * re-executes its {@code vmcall} with the registers Xen rewrote.
 *
 * <p>One per calling thread or vCPU, reused for every call: allocation-free,
 * not thread-safe (a caller makes one call at a time).
 */
public final class Continuation {

    /**
     * What {@link #create} returns and the handler returns in turn. The caller
     * recognises a continuation by this value <em>and</em> the pending flag, so
     * a handler that created one and then threw (the guard returns an errno)
     * or returned something else does not continue.
     */
    public static final long PENDING = 0x8000_0000_C047_1A7EL;

    private boolean pending;
    private final long[] args = new long[5];

    /** Records the arguments of the next entry; returns {@link #PENDING}. */
    public long create(long a0, long a1, long a2, long a3, long a4) {
        args[0] = a0;
        args[1] = a1;
        args[2] = a2;
        args[3] = a3;
        args[4] = a4;
        pending = true;
        return PENDING;
    }

    /**
     * Whether {@code result} is a continuation this caller must follow; clears
     * the pending state either way, so a stale one never leaks into the next call.
     */
    public boolean take(long result) {
        boolean follow = pending && result == PENDING;
        pending = false;
        return follow;
    }

    /** Argument {@code i} (0..4) of the next entry. */
    public long arg(int i) {
        return args[i];
    }
}
