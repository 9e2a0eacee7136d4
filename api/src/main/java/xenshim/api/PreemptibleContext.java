package xenshim.api;

import java.util.Objects;

/**
 * The context of a caller that makes one call at a time and follows
 * continuations itself (a vCPU, a test harness): who calls, its memory, the
 * ABI of the current call, and the {@link Continuation} a preempted handler
 * leaves for it. A subclass says when a call should be preempted.
 */
public abstract class PreemptibleContext implements CallContext {

    private final Domain domain;
    private final int vcpuId;
    private final GuestMemory memory;
    private final Continuation continuation = new Continuation();
    private Abi abi;

    protected PreemptibleContext(Domain domain, int vcpuId, GuestMemory memory, Abi abi) {
        this.domain = Objects.requireNonNull(domain);
        this.vcpuId = vcpuId;
        this.memory = Objects.requireNonNull(memory);
        this.abi = Objects.requireNonNull(abi);
    }

    /** The ABI of the call about to be made. */
    protected final void setAbi(Abi callAbi) {
        this.abi = callAbi;
    }

    /** The continuation the last call may have created; the caller {@link Continuation#take takes} it. */
    public final Continuation continuation() {
        return continuation;
    }

    @Override
    public final Domain domain() {
        return domain;
    }

    @Override
    public final int vcpuId() {
        return vcpuId;
    }

    @Override
    public final Abi abi() {
        return abi;
    }

    @Override
    public final GuestMemory memory() {
        return memory;
    }

    @Override
    public abstract boolean preemptCheck();

    @Override
    public final long createContinuation(long a0, long a1, long a2, long a3, long a4) {
        return continuation.create(a0, a1, a2, a3, a4);
    }
}
