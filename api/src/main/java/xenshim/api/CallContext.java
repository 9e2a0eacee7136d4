package xenshim.api;

/**
 * Who is calling: the domain, the vCPU, the ABI of this call, and the
 * caller's memory.
 *
 * <p>The runtime keeps one context object per vCPU and reuses it for every
 * call that vCPU makes, so a handler must not keep a reference to it (or to
 * its {@link #memory()}) after {@link HypercallHandler#handle} returns, nor
 * hand it to another thread.
 */
public interface CallContext {

    /** The calling domain. */
    Domain domain();

    /** The calling vCPU's id within its domain (0 for an in-process caller). */
    int vcpuId();

    /** The ABI of this call, decided from the caller's CPU mode at the time of the call. */
    Abi abi();

    /**
     * The caller's address space: guest-virtual addresses for a guest vCPU,
     * a bounds-checked arena for an in-process backend.
     */
    GuestMemory memory();

    /**
     * Xen's {@code hypercall_preempt_check()}: whether a long call should stop
     * at its next safe point and continue later ({@link #createContinuation}),
     * because its time slice is used up or something else needs the caller
     * (a stop, a swap waiting for the table to drain). A handler asks between
     * units of work, never before the first one, so every entry makes progress.
     * The default never preempts.
     */
    default boolean preemptCheck() {
        return false;
    }

    /**
     * Xen's {@code hypercall_create_continuation()}: the caller will enter the
     * same hypercall again with these arguments, which encode the progress made
     * as Xen encodes it. The handler returns what this returns, at once.
     *
     * @throws UnsupportedOperationException if this context never preempts
     *         ({@link #preemptCheck} is always false)
     */
    default long createContinuation(long a0, long a1, long a2, long a3, long a4) {
        throw new UnsupportedOperationException("this caller does not preempt hypercalls");
    }
}
