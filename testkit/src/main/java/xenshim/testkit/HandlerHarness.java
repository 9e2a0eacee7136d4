package xenshim.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.GuestMemory;
import xenshim.api.Guard;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;

/**
 * Calls one handler the way the dispatcher does — same exception-to-errno
 * rules ({@link Guard}), same context shape — with a fake domain and fake
 * memory, and remembers what it threw.
 *
 * <pre>{@code
 * var memory = FakeGuestMemory.standard();
 * var harness = HandlerHarness.of(new MyHandler()).domain(FakeDomains.guest(1)).memory(memory);
 * assertThat(harness.call(MY_SUBOP, memory.base())).isZero();
 * }</pre>
 */
public final class HandlerHarness {

    private final HypercallHandler handler;
    private final int nr;
    private Domain domain = FakeDomains.guest(1);
    private GuestMemory memory = FakeGuestMemory.standard();
    private Abi abi = Abi.X86_64;
    private int vcpu;
    private final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());

    private HandlerHarness(HypercallHandler handler) {
        this.handler = Objects.requireNonNull(handler);
        Hypercall slot = handler.getClass().getAnnotation(Hypercall.class);
        this.nr = slot == null ? -1 : slot.value();
    }

    public static HandlerHarness of(HypercallHandler handler) {
        return new HandlerHarness(handler);
    }

    public HandlerHarness domain(Domain caller) {
        this.domain = Objects.requireNonNull(caller);
        return this;
    }

    public HandlerHarness memory(GuestMemory callerMemory) {
        this.memory = Objects.requireNonNull(callerMemory);
        return this;
    }

    public HandlerHarness abi(Abi callAbi) {
        this.abi = Objects.requireNonNull(callAbi);
        return this;
    }

    public HandlerHarness vcpu(int id) {
        this.vcpu = id;
        return this;
    }

    public Domain domain() {
        return domain;
    }

    public GuestMemory memory() {
        return memory;
    }

    /**
     * Calls the handler with up to five raw arguments; missing ones are 0.
     * For the compat ABI each argument is cut to 32 bits, as the runtime
     * reads ebx..edi.
     */
    public long call(long... args) {
        if (args.length > 5) {
            throw new IllegalArgumentException("a hypercall has at most 5 arguments");
        }
        long[] a = new long[5];
        for (int i = 0; i < args.length; i++) {
            a[i] = abi.argument(args[i]);
        }
        CallContext context = new Context(domain, vcpu, abi, memory);
        return Guard.call(handler, nr, context, a[0], a[1], a[2], a[3], a[4],
                (n, ctx, h, failure) -> failures.add(failure));
    }

    /** What the handler threw (other than guest faults), oldest first. */
    public List<Throwable> failures() {
        return List.copyOf(failures);
    }

    private record Context(Domain domain, int vcpuId, Abi abi, GuestMemory memory) implements CallContext {
    }
}
