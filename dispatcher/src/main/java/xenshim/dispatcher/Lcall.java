package xenshim.dispatcher;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Continuation;
import xenshim.api.Domain;
import xenshim.api.GuestMemory;
import xenshim.api.SegmentGuestMemory;

/**
 * The in-process hypercall entry for backend code (the dom0 side): a local
 * call through the installed {@link HypercallPage}, exactly as a guest's call
 * goes, but without leaving the calling thread. Thread-safe and allocation
 * free; the context is fixed (vCPU 0, 64-bit ABI). It keeps the dispatcher's
 * record of each thread that calls through it (up to four), so that a call
 * need not look it up in a {@code ThreadLocal}; it holds those threads until
 * another thread takes their place.
 *
 * <p>A long call is preempted as a guest's is, when a swap waits for the
 * table it runs in to drain, and {@code invoke} follows its continuations
 * on the calling thread until the call completes, so the caller sees one
 * call and one result. A handler's JVM {@link Error} reaches the caller.
 *
 * <p>Pointers passed as arguments are addresses in {@link #memory()}: with
 * {@link #dom0(HypercallPage, Domain, MemorySegment)} these are the native
 * addresses of the backend's own arena ({@code segment.address() + offset}),
 * checked against its bounds on every access.
 *
 * <p>Every backend calls as the one dom0 of the platform's registry: each
 * backend has an Lcall of its own (its own arena), all over the same
 * {@link Domain}, so the ports and state they make are dom0's.
 */
public final class Lcall {

    /** Each calling thread's continuation: a context is shared by threads, a continuation is not. */
    private static final ThreadLocal<Continuation> CONTINUATION = ThreadLocal.withInitial(Continuation::new);

    /** How many threads an Lcall keeps the records of: one field each, {@code bound0} to {@code bound3}. */
    private static final int BOUND = 4;

    private final HypercallPage page;
    private final LocalContext context;
    /**
     * Records of threads that called through this Lcall, at their thread's id modulo {@link #BOUND}:
     * four fields rather than an array, so that finding one is a load, not a load of the array, its
     * length and then the entry.
     */
    private Callers.Caller bound0;
    private Callers.Caller bound1;
    private Callers.Caller bound2;
    private Callers.Caller bound3;

    public Lcall(HypercallPage page, Domain domain, GuestMemory memory) {
        this.page = Objects.requireNonNull(page);
        this.context = new LocalContext(page, Objects.requireNonNull(domain), Objects.requireNonNull(memory));
    }

    /**
     * A backend of the in-process dom0 whose memory is {@code arena}, addressed by native address.
     *
     * @param dom0 the platform's dom0 (domain 0, privileged)
     * @throws IllegalArgumentException if {@code dom0} is not domain 0 or not privileged
     */
    public static Lcall dom0(HypercallPage page, Domain dom0, MemorySegment arena) {
        if (dom0.domid() != 0 || !dom0.isPrivileged()) {
            throw new IllegalArgumentException(dom0 + " is not a privileged domain 0");
        }
        return new Lcall(page, dom0, new SegmentGuestMemory(arena, arena.address()));
    }

    public long invoke(int nr) {
        return invoke(nr, 0, 0, 0, 0, 0);
    }

    public long invoke(int nr, long a0) {
        return invoke(nr, a0, 0, 0, 0, 0);
    }

    public long invoke(int nr, long a0, long a1) {
        return invoke(nr, a0, a1, 0, 0, 0);
    }

    public long invoke(int nr, long a0, long a1, long a2) {
        return invoke(nr, a0, a1, a2, 0, 0);
    }

    public long invoke(int nr, long a0, long a1, long a2, long a3, long a4) {
        long result = page.invoke(caller(), context, nr, a0, a1, a2, a3, a4);
        return result == Continuation.PENDING ? follow(nr, result) : result;
    }

    /**
     * The calling thread's record ({@link Callers}), kept here for the threads that call
     * through this Lcall so that a call pays a compare instead of a {@link ThreadLocal}
     * lookup. An Lcall serves one backend thread, or a few: each thread has the entry at
     * its id modulo {@link #BOUND}, written on its first call there (again only once that
     * entry's thread has ended), so threads sharing an Lcall write nothing shared on their
     * calls. A thread whose entry another live thread holds looks its record up each time.
     */
    private Callers.Caller caller() {
        Thread me = Thread.currentThread();
        int at = (int) me.threadId() & (BOUND - 1);
        Callers.Caller kept = switch (at) {
            case 0 -> bound0;
            case 1 -> bound1;
            case 2 -> bound2;
            default -> bound3;
        };
        if (kept != null && kept.thread == me) {
            return kept;
        }
        return bind(at, kept);
    }

    private Callers.Caller bind(int at, Callers.Caller held) {
        Callers.Caller mine = Callers.current();
        if (held == null || held.ended()) {
            // its thread is final: a racy reader sees the right thread or no record
            switch (at) {
                case 0 -> bound0 = mine;
                case 1 -> bound1 = mine;
                case 2 -> bound2 = mine;
                default -> bound3 = mine;
            }
        }
        return mine;
    }

    /** Re-enters a preempted call with its continuation's arguments until it completes. */
    private long follow(int nr, long result) {
        Continuation continuation = CONTINUATION.get();
        while (continuation.take(result)) {
            result = page.invoke(caller(), context, nr, continuation.arg(0), continuation.arg(1), continuation.arg(2),
                    continuation.arg(3), continuation.arg(4));
        }
        return result;
    }

    /** The calling domain. */
    public Domain domain() {
        return context.domain();
    }

    /** The caller's memory, where pointer arguments point. */
    public GuestMemory memory() {
        return context.memory();
    }

    private record LocalContext(HypercallPage page, Domain domain, GuestMemory memory) implements CallContext {
        @Override
        public int vcpuId() {
            return 0;
        }

        @Override
        public Abi abi() {
            return Abi.X86_64;
        }

        @Override
        public boolean preemptCheck() {
            return page.drainPending();
        }

        @Override
        public long createContinuation(long a0, long a1, long a2, long a3, long a4) {
            return CONTINUATION.get().create(a0, a1, a2, a3, a4);
        }
    }
}
