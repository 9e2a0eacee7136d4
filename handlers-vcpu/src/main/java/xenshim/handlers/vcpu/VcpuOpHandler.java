package xenshim.handlers.vcpu;

import static xenshim.api.xen.XenErrno.XEN_EEXIST;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_ENXIO;
import static xenshim.handlers.vcpu.VcpuStructs.*;

import jakarta.inject.Inject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import xenshim.api.Abi;
import xenshim.api.ArrayEventWords;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.GuestFault;
import xenshim.api.GuestMemory;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.PagedGuestMemory;
import xenshim.api.SharedInfo;
import xenshim.api.ShutdownState;
import xenshim.api.VcpuTimers;
import xenshim.api.Vcpus;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenEvtchn;
import xenshim.api.xen.XenSched;
import xenshim.api.xen.XenVcpu;

/**
 * {@code vcpu_op(int cmd, unsigned int vcpuid, void *arg)}, as Xen 4.17.5 answers an HVM or PVH guest: the
 * native call is x86's {@code do_vcpu_op} falling back to {@code common_vcpu_op}, the compat one
 * {@code compat_vcpu_op} falling back to {@code compat_common_vcpu_op}. Since 4.17 generates the hypercall
 * tables ({@code include/hypercall-defs.c}), an HVM guest reaches those directly: there is no HVM filter of
 * sub-ops any more. The state is the domain's ({@link Vcpus}, {@link VcpuTimers}, {@link SharedInfo},
 * {@link EventChannels}), so a swapped-in handler sees what an older one set.
 *
 * <p>First, in both ABIs: {@code vcpuid} must name a vCPU of the domain ({@code domain_vcpu}), else
 * {@code -ENOENT}. The domain's vCPUs are {@code d->max_vcpus} ({@link EventChannels#maxVcpus()}, which the
 * platform sets) and any vCPU {@link Vcpus#isUp up}. Then, per {@code cmd}:
 *
 * <ul>
 * <li>{@code VCPUOP_initialise}: reads {@code struct vcpu_hvm_context} ({@code -EFAULT}); a vCPU that is up,
 *     which xenshim's vCPUs are exactly when initialised, {@code -EEXIST}; else {@code -ENOSYS} (see
 *     below).</li>
 * <li>{@code VCPUOP_up}: a vCPU that is not initialised {@code -EINVAL}; an initialised one is up already,
 *     0.</li>
 * <li>{@code VCPUOP_down}: with no other vCPU up, the domain shuts down with {@code SHUTDOWN_poweroff}, 0;
 *     a vCPU that is down already, 0; else {@code -ENOSYS} (see below).</li>
 * <li>{@code VCPUOP_is_up}: 1 or 0.</li>
 * <li>{@code VCPUOP_get_runstate_info}: {@code vcpu_runstate_get} (the times up to the last change, plus
 *     the time since it in the current state) written as the caller's ABI lays out
 *     {@code struct vcpu_runstate_info} ({@code -EFAULT}).</li>
 * <li>{@code VCPUOP_register_runstate_memory_area}: reads the address ({@code -EFAULT}); native reads the
 *     8-byte struct, compat only its 4-byte handle, which is zero-extended. An HVM caller's address is
 *     never range-checked ({@code guest_handle_okay} is true for {@code paging_mode_external}). Records it
 *     ({@link Vcpus#setRunstateArea}; 0 unregisters) and writes the runstate there at once: the vCPU's
 *     own {@code v->runstate} when it is the caller, else {@code vcpu_runstate_get}'s. A fault writing it is
 *     ignored, as Xen ignores {@code __copy_to_guest}'s result: 0. {@code XEN_RUNSTATE_UPDATE} is never
 *     set here; Xen sets it only in {@code update_runstate_area}, with
 *     {@code VMASST_TYPE_runstate_update_flag} enabled.</li>
 * <li>{@code VCPUOP_set_periodic_timer}: reads {@code struct vcpu_set_periodic_timer} ({@code -EFAULT});
 *     {@code period_ns} (unsigned) below {@code MILLISECS(1)} or above {@code STIME_DELTA_MAX}
 *     {@code -EINVAL}; else {@link VcpuTimers#setPeriodic}, on any vCPU of the domain. 0.</li>
 * <li>{@code VCPUOP_stop_periodic_timer}: period 0; 0.</li>
 * <li>{@code VCPUOP_set_singleshot_timer}: a vCPU other than the caller {@code -EINVAL}, then the struct
 *     ({@code -EFAULT}); compat reads the struct first ({@code compat_common_vcpu_op} translates it, then
 *     {@code do_vcpu_op} checks the vCPU), so there {@code -EFAULT} comes before {@code -EINVAL}. A
 *     timeout before now (unsigned compare, as Xen's {@code uint64_t < s_time_t}) stops the timer and
 *     sends {@code VIRQ_TIMER} at once; else the timer is set for it. 0. {@code flags} is ignored: 4.17.5
 *     carries the upstream change that dropped {@code VCPU_SSHOTTMR_future}'s {@code -ETIME}, which
 *     vcpu.h allows ("can be ignored by the hypervisor").</li>
 * <li>{@code VCPUOP_stop_singleshot_timer}: another vCPU {@code -EINVAL}; else stops it, 0.</li>
 * <li>{@code VCPUOP_register_vcpu_info}: reads {@code struct vcpu_register_vcpu_info} ({@code -EFAULT};
 *     {@code rsvd} is not looked at, as in Xen), then {@code map_vcpu_info}: {@code offset} (unsigned)
 *     past {@code PAGE_SIZE - sizeof(vcpu_info)}, or not aligned for the domain's {@code shared_info}
 *     width ({@link EventChannels#bitsPerWord()}: 8 bytes, 4 for a 32-bit one), {@code -ENXIO}; another
 *     vCPU that is up {@code -EINVAL}; then {@link SharedInfo#registerVcpuInfo} does the mapping (its own
 *     {@code -EINVAL}s: registered already, {@code gfn} not RAM). A domain with no {@link SharedInfo}
 *     attached has no guest frame the platform can map, which Xen's {@code get_page_from_gfn} failing
 *     answers: {@code -EINVAL}. Whatever the result, {@code force_update_vcpu_system_time} follows
 *     ({@link SharedInfo#updateTime}), as in Xen.</li>
 * <li>{@code VCPUOP_send_nmi}: a non-NULL {@code arg} {@code -EINVAL}; else {@code -ENOSYS} (see
 *     below).</li>
 * <li>{@code VCPUOP_get_physid}: {@code -EINVAL}: only a pinned vCPU of the hardware domain has one
 *     ({@code is_hwdom_pinned_vcpu}), and xenshim pins no vCPU to a physical CPU.</li>
 * <li>{@code VCPUOP_register_vcpu_time_memory_area}: {@code -ENOSYS} (see below).</li>
 * <li>anything else (the 4.18 {@code *_phys_area} ops included): {@code -ENOSYS}.</li>
 * </ul>
 *
 * <p><b>Where the platform lacks what Xen does.</b> Every check Xen makes before it needs something
 * xenshim's platform cannot do is made as Xen makes it; at that point the answer is {@code -ENOSYS}, Xen's
 * answer for a sub-op it does not offer, which guests handle (Linux falls back to the APIC for vCPU
 * bring-up and to the {@code vcpu_info} clock):
 * <ul>
 * <li>{@code VCPUOP_initialise} of a vCPU that is not up: loading a {@code vcpu_hvm_context} into a vCPU
 *     ({@code arch_set_info_hvm_guest}). The {@code -EINVAL} Xen gives a vCPU ≥ 32 with no registered
 *     vcpu_info ({@code dummy_vcpu_info}) is not given: {@link SharedInfo} does not say whether one is
 *     registered.</li>
 * <li>{@code VCPUOP_down} of a running vCPU while another runs: parking a vCPU for good.</li>
 * <li>{@code VCPUOP_send_nmi}: injecting an NMI.</li>
 * <li>{@code VCPUOP_register_vcpu_time_memory_area}: a second, per-vCPU {@code vcpu_time_info} the
 *     platform keeps up to date; {@code -ENOSYS} without reading the struct, as Xen before 4.17 answered
 *     a 32-bit guest.</li>
 * </ul>
 *
 * <p>The timer sub-ops need the domain's {@link VcpuTimers}, which the platform attaches; a domain without
 * them makes those sub-ops fail ({@code -EIO}, logged). {@code get_runstate_info} and the runstate written
 * at registration take "now" from the same clock; without it they report the times as of the last change.
 */
@Hypercall(Hypercalls.__HYPERVISOR_vcpu_op)
public final class VcpuOpHandler implements HypercallHandler {

    /** {@code STIME_DELTA_MAX}: the largest {@code s_time_t}. */
    private static final long STIME_DELTA_MAX = Long.MAX_VALUE;

    @Inject
    public VcpuOpHandler() {
    }

    @Override
    public long handle(CallContext ctx, long a0, long a1, long arg, long a3, long a4) {
        int cmd = (int) a0;
        int vcpu = (int) a1; // unsigned int: ids past 2^31 are negative here, and no vCPU
        Domain d = ctx.domain();
        Vcpus vcpus = d.state(Vcpus.KEY);
        if (!exists(d, vcpus, vcpu)) {
            return -XEN_ENOENT;
        }
        return switch (cmd) {
            case XenVcpu.VCPUOP_initialise -> {
                copyIn(ctx, arg, l -> l.vcpu_hvm_context);
                yield vcpus.isUp(vcpu) ? -XEN_EEXIST : -XEN_ENOSYS;
            }
            case XenVcpu.VCPUOP_up -> vcpus.isUp(vcpu) ? 0 : -XEN_EINVAL;
            case XenVcpu.VCPUOP_down -> down(d, vcpus, vcpu);
            case XenVcpu.VCPUOP_is_up -> vcpus.isUp(vcpu) ? 1 : 0;
            case XenVcpu.VCPUOP_get_runstate_info -> {
                writeRunstate(ctx.memory(), ctx.abi(), arg, runstateGet(d, vcpus, vcpu));
                yield 0;
            }
            case XenVcpu.VCPUOP_register_runstate_memory_area -> registerRunstateArea(ctx, vcpus, vcpu, arg);
            case XenVcpu.VCPUOP_set_periodic_timer -> setPeriodicTimer(ctx, vcpu, arg);
            case XenVcpu.VCPUOP_stop_periodic_timer -> {
                d.state(VcpuTimers.KEY).setPeriodic(vcpu, 0);
                yield 0;
            }
            case XenVcpu.VCPUOP_set_singleshot_timer -> setSingleshotTimer(ctx, vcpu, arg);
            case XenVcpu.VCPUOP_stop_singleshot_timer -> {
                if (vcpu != ctx.vcpuId()) {
                    yield -XEN_EINVAL;
                }
                d.state(VcpuTimers.KEY).stopSingleshot(vcpu);
                yield 0;
            }
            case XenVcpu.VCPUOP_register_vcpu_info -> registerVcpuInfo(ctx, vcpus, vcpu, arg);
            case XenVcpu.VCPUOP_send_nmi -> arg != 0 ? -XEN_EINVAL : -XEN_ENOSYS;
            case XenVcpu.VCPUOP_get_physid -> -XEN_EINVAL;
            default -> -XEN_ENOSYS; // VCPUOP_register_vcpu_time_memory_area too
        };
    }

    /** {@code domain_vcpu(d, vcpuid) != NULL}. */
    private static boolean exists(Domain d, Vcpus vcpus, int vcpu) {
        return vcpu >= 0 && vcpu < ArrayEventWords.MAX_VCPUS
                && (vcpu < d.state(EventChannels.KEY).maxVcpus() || vcpus.isUp(vcpu));
    }

    /** {@code VCPUOP_down}: the last vCPU going down powers the domain off. */
    private static long down(Domain d, Vcpus vcpus, int vcpu) {
        boolean othersUp = false;
        for (int other = 0; other < ArrayEventWords.MAX_VCPUS && !othersUp; other++) {
            othersUp = other != vcpu && vcpus.isUp(other);
        }
        if (!othersUp) {
            d.state(ShutdownState.KEY).shutdown(XenSched.SHUTDOWN_poweroff);
            return 0;
        }
        return vcpus.isUp(vcpu) ? -XEN_ENOSYS : 0; // test_and_set_bit(_VPF_down) found it down: nothing to do
    }

    /** {@code vcpu_runstate_get}: the time since the last change counts in the current state. */
    private static Vcpus.RunstateInfo runstateGet(Domain d, Vcpus vcpus, int vcpu) {
        Vcpus.RunstateInfo info = vcpus.runstate(vcpu);
        VcpuTimers timers = d.find(VcpuTimers.KEY).orElse(null);
        if (timers == null) {
            return info;
        }
        long delta = timers.clock().now() - info.stateEntryTime();
        if (delta <= 0) {
            return info;
        }
        long[] time = info.time();
        time[info.state()] += delta;
        return new Vcpus.RunstateInfo(info.state(), info.stateEntryTime(), time);
    }

    /**
     * {@code copy_to_guest} of {@code struct vcpu_runstate_info} as {@code abi} lays it out, padding
     * included (Xen copies its zeroed padding too), in one write.
     */
    private static void writeRunstate(GuestMemory memory, Abi abi, long address, Vcpus.RunstateInfo info) {
        AbiLayouts layouts = abi.layouts();
        ByteBuffer struct = ByteBuffer.allocate((int) layouts.vcpu_runstate_info.byteSize())
                .order(ByteOrder.LITTLE_ENDIAN);
        struct.putInt((int) RUNSTATE_STATE.offset(abi), info.state());
        struct.putLong((int) RUNSTATE_STATE_ENTRY_TIME.offset(abi), info.stateEntryTime());
        long[] time = info.time();
        for (int state = 0; state < time.length; state++) {
            struct.putLong((int) RUNSTATE_TIME.offset(abi) + Long.BYTES * state, time[state]);
        }
        memory.write(address, struct.array(), 0, struct.capacity());
    }

    private static long registerRunstateArea(CallContext ctx, Vcpus vcpus, int vcpu, long arg) {
        GuestMemory memory = ctx.memory();
        long address = ctx.abi() == Abi.X86_64
                ? memory.read64(arg + RUNSTATE_AREA_ADDR.offset(Abi.X86_64))
                : Integer.toUnsignedLong(memory.read32(arg + RUNSTATE_AREA_ADDR.offset(Abi.X86_32)));
        vcpus.setRunstateArea(vcpu, address);
        Vcpus.RunstateInfo info = vcpu == ctx.vcpuId() ? vcpus.runstate(vcpu)
                : runstateGet(ctx.domain(), vcpus, vcpu);
        try {
            writeRunstate(memory, ctx.abi(), address, info);
        } catch (GuestFault ignored) {
            // __copy_to_guest's result is not checked: the area is registered all the same
        }
        return 0;
    }

    private static long setPeriodicTimer(CallContext ctx, int vcpu, long arg) {
        copyIn(ctx, arg, l -> l.vcpu_set_periodic_timer);
        long period = ctx.memory().read64(arg + PERIODIC_PERIOD_NS.offset(ctx.abi()));
        if (Long.compareUnsigned(period, MILLISECS) < 0 || Long.compareUnsigned(period, STIME_DELTA_MAX) > 0) {
            return -XEN_EINVAL;
        }
        ctx.domain().state(VcpuTimers.KEY).setPeriodic(vcpu, period);
        return 0;
    }

    private static long setSingleshotTimer(CallContext ctx, int vcpu, long arg) {
        boolean compat = ctx.abi() == Abi.X86_32;
        if (compat) {
            copyIn(ctx, arg, l -> l.vcpu_set_singleshot_timer);
        }
        if (vcpu != ctx.vcpuId()) {
            return -XEN_EINVAL;
        }
        if (!compat) {
            copyIn(ctx, arg, l -> l.vcpu_set_singleshot_timer);
        }
        long timeout = ctx.memory().read64(arg + SINGLESHOT_TIMEOUT_ABS_NS.offset(ctx.abi()));
        Domain d = ctx.domain();
        VcpuTimers timers = d.state(VcpuTimers.KEY);
        if (Long.compareUnsigned(timeout, timers.clock().now()) < 0) {
            timers.stopSingleshot(vcpu); // expired already: the event at once (send_timer_event)
            d.state(EventChannels.KEY).sendVirq(vcpu, XenEvtchn.VIRQ_TIMER);
        } else {
            timers.setSingleshot(vcpu, timeout);
        }
        return 0;
    }

    private static long registerVcpuInfo(CallContext ctx, Vcpus vcpus, int vcpu, long arg) {
        copyIn(ctx, arg, l -> l.vcpu_register_vcpu_info);
        long gfn = ctx.memory().read64(arg + VCPU_INFO_MFN.offset(ctx.abi()));
        int offset = ctx.memory().read32(arg + VCPU_INFO_OFFSET.offset(ctx.abi()));
        SharedInfo shared = ctx.domain().find(SharedInfo.KEY).orElse(null);
        int rc = mapVcpuInfo(ctx, vcpus, shared, vcpu, gfn, offset);
        if (shared != null) {
            shared.updateTime(vcpu); // force_update_vcpu_system_time, whatever map_vcpu_info said
        }
        return rc;
    }

    /** {@code map_vcpu_info}'s checks in its order, then the platform's mapping. */
    private static int mapVcpuInfo(CallContext ctx, Vcpus vcpus, SharedInfo shared, int vcpu, long gfn,
                                   int offset) {
        AbiLayouts shinfo = ctx.domain().state(EventChannels.KEY).bitsPerWord() == 32
                ? AbiLayouts.X86_32 : AbiLayouts.X86_64;
        long size = shinfo.vcpu_info.byteSize();
        long align = shinfo.vcpu_info.byteAlignment();
        if (Integer.toUnsignedLong(offset) > PagedGuestMemory.PAGE_SIZE - size || (offset & (align - 1)) != 0) {
            return -XEN_ENXIO;
        }
        if (vcpu != ctx.vcpuId() && vcpus.isUp(vcpu)) {
            return -XEN_EINVAL; // "Run this command on yourself or on other offline VCPUS"
        }
        if (shared == null) {
            return -XEN_EINVAL; // no frame of the domain can be had: get_page_from_gfn fails
        }
        return shared.registerVcpuInfo(vcpu, gfn, offset);
    }
}
