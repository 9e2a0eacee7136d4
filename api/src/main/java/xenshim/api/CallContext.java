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
}
