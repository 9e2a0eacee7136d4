package xenshim.dispatcher.record;

import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Continuation;
import xenshim.api.Domain;

/**
 * The context a recorded call is played in: the recorded caller (its domain in the replay's
 * registry), vCPU and ABI, a {@link ReplayMemory}, preemption checks answered as they were in the
 * recording (yes at the checks that said yes, no otherwise), and a continuation of its own.
 */
final class ReplayContext implements CallContext {

    private final Domain domain;
    private final CallLog.Call call;
    private final ReplayMemory memory;
    private final Continuation continuation = new Continuation();
    private int checks;

    ReplayContext(Domain domain, CallLog.Call call) {
        this.domain = domain;
        this.call = call;
        this.memory = new ReplayMemory(call);
    }

    @Override
    public Domain domain() {
        return domain;
    }

    @Override
    public int vcpuId() {
        return call.vcpu();
    }

    @Override
    public Abi abi() {
        return call.abi();
    }

    @Override
    public ReplayMemory memory() {
        return memory;
    }

    @Override
    public boolean preemptCheck() {
        int check = checks++;
        for (int yes : call.preempted()) {
            if (yes == check) {
                return true;
            }
        }
        return false;
    }

    @Override
    public long createContinuation(long a0, long a1, long a2, long a3, long a4) {
        return continuation.create(a0, a1, a2, a3, a4);
    }

    /** The continuation's arguments if {@code result} is one this call created, else null. */
    long[] continued(long result) {
        if (!continuation.take(result)) {
            return null;
        }
        long[] args = new long[5];
        for (int i = 0; i < 5; i++) {
            args[i] = continuation.arg(i);
        }
        return args;
    }

    /** How many preemption checks the handler asked. */
    int checks() {
        return checks;
    }
}
