package xenshim.handlers.hvm;

import static xenshim.api.xen.XenErrno.XEN_EEXIST;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENODEV;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenHvm.*;

import xenshim.api.Domain;
import xenshim.api.HvmParams;
import xenshim.api.xen.XenSched;

/**
 * The value side of Xen 4.17's {@code hvm_set_param} / {@code hvm_get_param}:
 * what each parameter accepts, and what is stored or read back. Permission
 * checks are {@link HvmParamPolicy}'s.
 */
final class HvmParamValues {

    /** {@code VM86_TSS_UPDATED} (asm/hvm/support.h): set in the stored VM86_TSS_SIZED value, hidden from readers. */
    static final long VM86_TSS_UPDATED = 1L << 63;
    /** {@code sizeof(struct tss32)}: the smallest VM86 TSS. */
    static final long TSS32_SIZE = 104;
    /** The largest useful VM86 TSS: the base structure, the interrupt redirection and I/O bitmaps, a padding byte. */
    static final long VM86_TSS_MAX_SIZE = TSS32_SIZE + 0x100 / 8 + 0x10000 / 8 + 1;
    /** {@code HVMPTM_one_missed_tick_pending}: the largest timer mode. */
    static final long HVMPTM_MAX = 3;
    /** {@code HVMPV_base_freq}, and {@code HVMPV_feature_mask} (hvm/params.h, 4.17). */
    static final long HVMPV_base_freq = 1;
    static final long HVMPV_feature_mask = 0x1FFF;
    /** {@code XEN_ALTP2M_limited}: the largest altp2m mode. */
    static final long XEN_ALTP2M_limited = 2;
    /** Bits in {@code ioreq_gfn.mask} (an unsigned long). */
    static final long MAX_IOREQ_SERVER_PAGES = 64;

    private HvmParamValues() {
    }

    /**
     * {@code hvm_allow_set_param}'s set-once check, then {@code hvm_set_param}'s
     * switch: validates {@code value} for {@code index} and stores it in
     * {@code params} when it is accepted. A set-once parameter is checked and
     * stored in one step ({@link HvmParams#setOnce}), so of several vCPUs
     * setting it at once exactly one succeeds.
     *
     * @return 0, or a negative Xen errno (nothing is stored then)
     */
    static int set(Domain caller, Domain target, HvmParams params, int index, long value) {
        boolean setOnce = HvmParamPolicy.setOnce(index);
        if (setOnce) {
            // Xen's order: a parameter already set otherwise is -EEXIST even for a value it would refuse.
            long current = params.get(index);
            if (current != 0 && current != value) {
                return -XEN_EEXIST;
            }
        }
        int stored = index;
        int rc = 0;
        switch (index) {
            case HVM_PARAM_TIMER_MODE -> rc = Long.compareUnsigned(value, HVMPTM_MAX) > 0 ? -XEN_EINVAL : 0;
            case HVM_PARAM_VIRIDIAN ->
                    rc = (value & ~HVMPV_feature_mask) != 0 || (value & HVMPV_base_freq) == 0 ? -XEN_EINVAL : 0;
            case HVM_PARAM_ACPI_S_STATE -> rc = value == 3 || value == 0 ? 0 : -XEN_EINVAL;
            // pmtimer_change_ioport: xenshim emulates no ACPI PM timer (has_vpm is false, as for PVH).
            case HVM_PARAM_ACPI_IOPORTS_LOCATION -> rc = -XEN_ENODEV;
            case HVM_PARAM_ALTP2M -> rc = !caller.isPrivileged() ? -XEN_EPERM
                    : Long.compareUnsigned(value, XEN_ALTP2M_limited) > 0 ? -XEN_EINVAL : 0;
            case HVM_PARAM_TRIPLE_FAULT_REASON ->
                    rc = Long.compareUnsigned(value, XenSched.SHUTDOWN_MAX) > 0 ? -XEN_EINVAL : 0;
            case HVM_PARAM_NR_IOREQ_SERVER_PAGES ->
                    rc = value == 0 || Long.compareUnsigned(value, MAX_IOREQ_SERVER_PAGES) > 0 ? -XEN_EINVAL : 0;
            case HVM_PARAM_X87_FIP_WIDTH -> rc = value == 0 || value == 4 || value == 8 ? 0 : -XEN_EINVAL;
            case HVM_PARAM_VM86_TSS -> {
                // Xen also crashes a domain that does this to itself; xenshim only refuses.
                rc = value != (value & 0xFFFF_FFFFL) ? -XEN_EINVAL : 0;
                if (value != 0) {
                    value |= (128L << 32) | VM86_TSS_UPDATED;
                }
                stored = HVM_PARAM_VM86_TSS_SIZED;
            }
            case HVM_PARAM_VM86_TSS_SIZED -> {
                // Xen also crashes a domain that does this to itself; xenshim only refuses.
                long size = value >>> 32;
                rc = size < TSS32_SIZE ? -XEN_EINVAL : 0;
                if (size > VM86_TSS_MAX_SIZE) {
                    value = (value & 0xFFFF_FFFFL) | (VM86_TSS_MAX_SIZE << 32);
                }
                value |= VM86_TSS_UPDATED;
            }
            // xenshim's vCPUs have no LMCE: any capability bit is refused, as on a host without lmce_support.
            case HVM_PARAM_MCA_CAP -> rc = value != 0 ? -XEN_EINVAL : 0;
            default -> {
                // CALLBACK_IRQ: the raw value is stored and the call succeeds whatever its type
                // (hvm_set_callback_via); HvmOpHandler asserts the upcalls for the vector type.
                // STORE_EVTCHN, CONSOLE_EVTCHN, VM_GENERATION_ID_ADDR and the toolstack's pfns: verbatim.
            }
        }
        if (rc != 0) {
            return rc;
        }
        if (setOnce) {
            // The check that counts: another vCPU may have set it since the one above.
            return params.setOnce(stored, value) ? 0 : -XEN_EEXIST;
        }
        params.set(stored, value);
        return 0;
    }

    /** {@code hvm_get_param}'s switch: the value a permitted reader sees. */
    static long get(HvmParams params, int index) {
        return switch (index) {
            case HVM_PARAM_ACPI_S_STATE -> params.get(index) == 3 ? 3 : 0;
            case HVM_PARAM_VM86_TSS -> params.get(HVM_PARAM_VM86_TSS_SIZED) & 0xFFFF_FFFFL;
            case HVM_PARAM_VM86_TSS_SIZED -> params.get(HVM_PARAM_VM86_TSS_SIZED) & ~VM86_TSS_UPDATED;
            default -> params.get(index);
        };
    }
}
