package xenshim.handlers.vcpu;

import java.lang.foreign.StructLayout;
import java.util.function.Function;
import xenshim.api.CallContext;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.abi.Member;

/** The {@code vcpu_op} argument structs' members ({@code xen/vcpu.h}), in both ABIs, and how a struct is read. */
final class VcpuStructs {

    static final Member RUNSTATE_STATE = Member.of(l -> l.vcpu_runstate_info, "state");
    static final Member RUNSTATE_STATE_ENTRY_TIME = Member.of(l -> l.vcpu_runstate_info, "state_entry_time");
    /** {@code uint64_t time[4]}, indexed by {@code RUNSTATE_*}. */
    static final Member RUNSTATE_TIME = Member.of(l -> l.vcpu_runstate_info, "time");

    static final Member RUNSTATE_AREA_ADDR = Member.of(l -> l.vcpu_register_runstate_memory_area, "addr");

    static final Member PERIODIC_PERIOD_NS = Member.of(l -> l.vcpu_set_periodic_timer, "period_ns");

    static final Member SINGLESHOT_TIMEOUT_ABS_NS = Member.of(l -> l.vcpu_set_singleshot_timer, "timeout_abs_ns");

    static final Member VCPU_INFO_MFN = Member.of(l -> l.vcpu_register_vcpu_info, "mfn");
    static final Member VCPU_INFO_OFFSET = Member.of(l -> l.vcpu_register_vcpu_info, "offset");

    /** {@code MILLISECS(1)}: Xen's system time counts nanoseconds. */
    static final long MILLISECS = 1_000_000L;

    private VcpuStructs() {
    }

    /**
     * {@code copy_from_guest} of the whole struct at {@code arg}: its first and last bytes are read, so a
     * struct that runs into an unmapped page faults ({@code -EFAULT}) before anything is done.
     */
    static void copyIn(CallContext ctx, long arg, Function<AbiLayouts, StructLayout> struct) {
        ctx.memory().read8(arg);
        ctx.memory().read8(arg + struct.apply(ctx.abi().layouts()).byteSize() - 1);
    }
}
