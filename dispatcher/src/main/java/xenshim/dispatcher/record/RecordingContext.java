package xenshim.dispatcher.record;

import java.util.Arrays;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Continuation;
import xenshim.api.Domain;
import xenshim.api.GuestMemory;

/**
 * The context a handler sees while its call is recorded: the caller's, with its memory wrapped in a
 * {@link RecordingMemory}, and its preemption checks, continuation and clock readings noted. One per
 * entry, made and dropped by the {@link HypercallRecorder}.
 */
final class RecordingContext implements CallContext {

    private final CallContext ctx;
    private final RecordingMemory memory;
    private int checks;
    private int[] preempted = new int[0];
    private long[] clock = new long[0];
    private int readings;
    private long[] continuation;

    RecordingContext(CallContext ctx) {
        this.ctx = ctx;
        this.memory = new RecordingMemory(ctx.memory());
    }

    @Override
    public Domain domain() {
        return ctx.domain();
    }

    @Override
    public int vcpuId() {
        return ctx.vcpuId();
    }

    @Override
    public Abi abi() {
        return ctx.abi();
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public boolean preemptCheck() {
        boolean preempt = ctx.preemptCheck();
        if (preempt) {
            preempted = Arrays.copyOf(preempted, preempted.length + 1);
            preempted[preempted.length - 1] = checks;
        }
        checks++;
        return preempt;
    }

    @Override
    public long createContinuation(long a0, long a1, long a2, long a3, long a4) {
        long result = ctx.createContinuation(a0, a1, a2, a3, a4);
        continuation = new long[] {a0, a1, a2, a3, a4};
        return result;
    }

    /** The clock read {@code now} during this call. */
    void clockRead(long now) {
        if (readings == clock.length) {
            clock = Arrays.copyOf(clock, Math.max(4, readings * 2));
        }
        clock[readings++] = now;
    }

    /** The record of this entry, which returned {@code result} or threw {@code error}. */
    CallLog.Call toCall(long nr, long[] args, long result, Error error) {
        int flags = 0;
        long[] next = new long[0];
        if (error == null && result == Continuation.PENDING && continuation != null) {
            flags |= CallLog.CONTINUED;
            next = continuation;
        }
        if (error != null) {
            flags |= CallLog.ERROR;
            result = 0;
        }
        return new CallLog.Call(ctx.domain().domid(), ctx.vcpuId(), ctx.abi(), flags, nr, args, result, next,
                error == null ? null : error.getClass().getName(), checks, preempted,
                Arrays.copyOf(clock, readings), memory.reads, memory.writes);
    }
}
