package xenshim.dispatcher;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.GuestMemory;
import xenshim.api.SegmentGuestMemory;

/**
 * The in-process hypercall entry for backend code (the dom0 side): a local
 * call through the installed {@link HypercallPage}, exactly as a guest's call
 * goes, but without leaving the calling thread. Thread-safe and allocation
 * free; the context is fixed (vCPU 0, 64-bit ABI).
 *
 * <p>Pointers passed as arguments are addresses in {@link #memory()}: with
 * {@link #dom0(HypercallPage, MemorySegment)} these are the native addresses
 * of the backend's own arena ({@code segment.address() + offset}), checked
 * against its bounds on every access.
 */
public final class Lcall {

    private final HypercallPage page;
    private final LocalContext context;

    public Lcall(HypercallPage page, Domain domain, GuestMemory memory) {
        this.page = Objects.requireNonNull(page);
        this.context = new LocalContext(Objects.requireNonNull(domain), Objects.requireNonNull(memory));
    }

    /** The in-process dom0 whose memory is {@code arena}, addressed by native address. */
    public static Lcall dom0(HypercallPage page, MemorySegment arena) {
        return new Lcall(page, Domain.localDom0(), new SegmentGuestMemory(arena, arena.address()));
    }

    public long invoke(int nr) {
        return page.invoke(context, nr, 0, 0, 0, 0, 0);
    }

    public long invoke(int nr, long a0) {
        return page.invoke(context, nr, a0, 0, 0, 0, 0);
    }

    public long invoke(int nr, long a0, long a1) {
        return page.invoke(context, nr, a0, a1, 0, 0, 0);
    }

    public long invoke(int nr, long a0, long a1, long a2) {
        return page.invoke(context, nr, a0, a1, a2, 0, 0);
    }

    public long invoke(int nr, long a0, long a1, long a2, long a3, long a4) {
        return page.invoke(context, nr, a0, a1, a2, a3, a4);
    }

    /** The calling domain. */
    public Domain domain() {
        return context.domain();
    }

    /** The caller's memory, where pointer arguments point. */
    public GuestMemory memory() {
        return context.memory();
    }

    private record LocalContext(Domain domain, GuestMemory memory) implements CallContext {
        @Override
        public int vcpuId() {
            return 0;
        }

        @Override
        public Abi abi() {
            return Abi.X86_64;
        }
    }
}
