package xenshim.x86.vm;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.GuestMemory;
import xenshim.api.PreemptibleContext;

/**
 * The one context object of a vCPU, reused for every call it makes; the ABI
 * and the entry time change per call.
 *
 * <p>Preemption, as Xen's {@code hypercall_preempt_check}: an entry is asked
 * to stop once it has run for {@link #SLICE_NANOS}, or at once when something
 * else needs the vCPU ({@code interrupted}: a stop, a swap draining the table).
 * Its continuation is followed by the guest re-entering the call, so the vCPU
 * loop sees a stop between any two entries.
 */
final class VcpuContext extends PreemptibleContext {

    /** The longest one entry of a preemptible call runs before it continues: 1 ms. */
    static final long SLICE_NANOS = 1_000_000;

    private final BooleanSupplier interrupted;
    private final LongSupplier nanoTime;
    private long entered;

    /**
     * @param interrupted whether something needs this vCPU back; read at each preemption check
     */
    VcpuContext(Domain domain, int vcpuId, GuestMemory memory, BooleanSupplier interrupted) {
        this(domain, vcpuId, memory, interrupted, System::nanoTime);
    }

    /** @param nanoTime the clock of the slice ({@link System#nanoTime} but in tests) */
    VcpuContext(Domain domain, int vcpuId, GuestMemory memory, BooleanSupplier interrupted, LongSupplier nanoTime) {
        super(domain, vcpuId, memory, Abi.X86_64);
        this.interrupted = interrupted;
        this.nanoTime = nanoTime;
    }

    /** Starts an entry made in {@code callAbi} at {@code nanoTime}. */
    void enter(Abi callAbi, long nanoTime) {
        setAbi(callAbi);
        this.entered = nanoTime;
    }

    @Override
    public boolean preemptCheck() {
        return nanoTime.getAsLong() - entered >= SLICE_NANOS || interrupted.getAsBoolean();
    }
}
