package xenshim.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Continuation;
import xenshim.api.Domain;
import xenshim.api.GuestMemory;
import xenshim.api.Guard;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.PreemptibleContext;

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
 *
 * <p>Long calls: with {@link #preemptEvery(int)} the context's
 * {@link CallContext#preemptCheck} says "preempt" at every n-th check of an
 * entry, as the runtime does when a time slice ends. {@link #call} then
 * follows each continuation, as a guest re-entering its hypercall does, and
 * {@link #continuations()} lists the arguments of every re-entry;
 * {@link #enter} makes one entry only.
 */
public final class HandlerHarness {

    private final HypercallHandler handler;
    private final int nr;
    private Domain domain = FakeDomains.guest(1);
    private GuestMemory memory = FakeGuestMemory.standard();
    private Abi abi = Abi.X86_64;
    private int vcpu;
    private final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    private int preemptEvery;
    private final List<long[]> continuations = new ArrayList<>();

    /** The most entries {@link #call} follows before it calls the handler runaway. */
    public static final int MAX_ENTRIES = 10_000_000;

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

    /**
     * Preempts every {@code checks}-th {@link CallContext#preemptCheck} of an entry
     * (1: every check); 0, the default, never preempts.
     */
    public HandlerHarness preemptEvery(int checks) {
        if (checks < 0) {
            throw new IllegalArgumentException("checks must be >= 0");
        }
        this.preemptEvery = checks;
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
        continuations.clear();
        long[] a = arguments(args);
        for (int entries = 1; ; entries++) {
            Entry entry = enter(a);
            if (entry.continuation() == null) {
                return entry.result();
            }
            if (entries == MAX_ENTRIES) {
                throw new AssertionError("the handler continued " + MAX_ENTRIES + " times: a runaway call");
            }
            continuations.add(entry.continuation());
            a = entry.continuation();
        }
    }

    /**
     * One entry of the handler: its result, and the arguments of the re-entry
     * if it created a continuation (then {@code result} is {@link Continuation#PENDING}).
     */
    public Entry enter(long... args) {
        long[] a = arguments(args);
        Context context = new Context(domain, vcpu, abi, memory, preemptEvery);
        long result = Guard.call(handler, nr, context, a[0], a[1], a[2], a[3], a[4],
                (n, ctx, h, failure) -> failures.add(failure));
        if (!context.continuation().take(result)) {
            return new Entry(result, null);
        }
        long[] next = new long[5];
        for (int i = 0; i < 5; i++) {
            next[i] = abi.argument(context.continuation().arg(i)); // the registers hold what the ABI can
        }
        return new Entry(result, next);
    }

    /** The arguments of each re-entry the last {@link #call} followed, in order. */
    public List<long[]> continuations() {
        return List.copyOf(continuations);
    }

    /** One entry's result; {@code continuation} null unless the handler continued. */
    public record Entry(long result, long[] continuation) {
    }

    private long[] arguments(long... args) {
        if (args.length > 5) {
            throw new IllegalArgumentException("a hypercall has at most 5 arguments");
        }
        long[] a = new long[5];
        for (int i = 0; i < args.length; i++) {
            a[i] = abi.argument(args[i]);
        }
        return a;
    }

    /** What the handler threw (other than guest faults), oldest first. */
    public List<Throwable> failures() {
        return List.copyOf(failures);
    }

    private static final class Context extends PreemptibleContext {
        private final int preemptEvery;
        private int checks;

        Context(Domain domain, int vcpuId, Abi abi, GuestMemory memory, int preemptEvery) {
            super(domain, vcpuId, memory, abi);
            this.preemptEvery = preemptEvery;
        }

        @Override
        public boolean preemptCheck() {
            return preemptEvery > 0 && ++checks % preemptEvery == 0;
        }
    }
}
