package xenshim.handlers.hvm;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenHvm.*;

import xenshim.api.Domain;

/**
 * Who may set or get which HVM parameter: Xen 4.17's
 * {@code hvm_allow_set_param} and {@code hvm_allow_get_param} under the dummy
 * XSM policy.
 *
 * <p>First {@code xsm_hvm_param(XSM_TARGET)}: the target itself, or a
 * privileged caller (xenshim has no device-model domains, so
 * {@code current->target == d} never holds). Then the per-index lists: the
 * ones a guest may touch on itself, the deprecated ones ({@code -EINVAL} for
 * everyone), and the rest ({@code -EPERM} when the target is the caller).
 */
final class HvmParamPolicy {

    private HvmParamPolicy() {
    }

    /** {@code xsm_hvm_param(XSM_TARGET, d, ...)} of the dummy policy: 0 or {@code -EPERM}. */
    static int xsmTarget(Domain caller, Domain target) {
        return caller == target || caller.isPrivileged() ? 0 : -XEN_EPERM;
    }

    /** {@code hvm_allow_set_param} up to, not including, the set-once check: 0 or a negative errno. */
    static int allowSet(Domain caller, Domain target, int index) {
        int rc = xsmTarget(caller, target);
        if (rc != 0) {
            return rc;
        }
        if (guestMaySet(index)) {
            return 0;
        }
        if (deprecated(index)) {
            return -XEN_EINVAL;
        }
        return caller == target ? -XEN_EPERM : 0;
    }

    /** {@code hvm_allow_get_param}: 0 or a negative errno. */
    static int allowGet(Domain caller, Domain target, int index) {
        int rc = xsmTarget(caller, target);
        if (rc != 0) {
            return rc;
        }
        if (guestMayGet(index)) {
            return 0;
        }
        if (deprecated(index)) {
            return -XEN_EINVAL;
        }
        return caller == target ? -XEN_EPERM : 0;
    }

    /** The parameters a guest may set on itself. */
    static boolean guestMaySet(int index) {
        return switch (index) {
            case HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_VM86_TSS, HVM_PARAM_VM86_TSS_SIZED,
                 HVM_PARAM_ACPI_IOPORTS_LOCATION, HVM_PARAM_VM_GENERATION_ID_ADDR,
                 HVM_PARAM_STORE_EVTCHN, HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_X87_FIP_WIDTH -> true;
            default -> false;
        };
    }

    /** The parameters a guest may read on itself. */
    static boolean guestMayGet(int index) {
        return switch (index) {
            case HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_VM86_TSS, HVM_PARAM_VM86_TSS_SIZED,
                 HVM_PARAM_ACPI_IOPORTS_LOCATION, HVM_PARAM_VM_GENERATION_ID_ADDR,
                 HVM_PARAM_STORE_PFN, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_CONSOLE_PFN,
                 HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_ALTP2M, HVM_PARAM_X87_FIP_WIDTH -> true;
            default -> false;
        };
    }

    /** The deprecated parameters: {@code -EINVAL} for everyone, dom0 included. */
    static boolean deprecated(int index) {
        return switch (index) {
            case HVM_PARAM_PAE_ENABLED, HVM_PARAM_DM_DOMAIN, HVM_PARAM_MEMORY_EVENT_CR0,
                 HVM_PARAM_MEMORY_EVENT_CR3, HVM_PARAM_MEMORY_EVENT_CR4, HVM_PARAM_MEMORY_EVENT_INT3,
                 HVM_PARAM_NESTEDHVM, HVM_PARAM_MEMORY_EVENT_SINGLE_STEP, HVM_PARAM_BUFIOREQ_EVTCHN,
                 HVM_PARAM_MEMORY_EVENT_MSR -> true;
            default -> false;
        };
    }

    /** The parameters that "should only be changed once": a set value may only be set again to itself. */
    static boolean setOnce(int index) {
        return switch (index) {
            case HVM_PARAM_VIRIDIAN, HVM_PARAM_IOREQ_PFN, HVM_PARAM_BUFIOREQ_PFN, HVM_PARAM_IOREQ_SERVER_PFN,
                 HVM_PARAM_NR_IOREQ_SERVER_PAGES, HVM_PARAM_ALTP2M, HVM_PARAM_MCA_CAP -> true;
            default -> false;
        };
    }
}
