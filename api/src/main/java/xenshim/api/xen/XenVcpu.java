package xenshim.api.xen;

/** {@code vcpu_op} commands, flags and runstates, from {@code xen/vcpu.h} and {@code xen/xen.h}. */
public final class XenVcpu {

    public static final int VCPUOP_initialise = 0;
    public static final int VCPUOP_up = 1;
    public static final int VCPUOP_down = 2;
    public static final int VCPUOP_is_up = 3;
    public static final int VCPUOP_get_runstate_info = 4;
    public static final int VCPUOP_register_runstate_memory_area = 5;
    public static final int VCPUOP_set_periodic_timer = 6;
    public static final int VCPUOP_stop_periodic_timer = 7;
    public static final int VCPUOP_set_singleshot_timer = 8;
    public static final int VCPUOP_stop_singleshot_timer = 9;
    public static final int VCPUOP_register_vcpu_info = 10;
    public static final int VCPUOP_send_nmi = 11;
    public static final int VCPUOP_get_physid = 12;
    public static final int VCPUOP_register_vcpu_time_memory_area = 13;

    public static final int VCPU_SSHOTTMR_future = 1;

    public static final int RUNSTATE_running = 0;
    public static final int RUNSTATE_runnable = 1;
    public static final int RUNSTATE_blocked = 2;
    public static final int RUNSTATE_offline = 3;

    /** {@code XEN_RUNSTATE_UPDATE}: set in {@code state_entry_time} while Xen rewrites the area. */
    public static final long XEN_RUNSTATE_UPDATE = 1L << 63;

    /** {@code XEN_LEGACY_MAX_VCPUS} (xen.h): the vcpu_info slots inside shared_info. */
    public static final int XEN_LEGACY_MAX_VCPUS = 32;

    /** {@code VMASST_TYPE_runstate_update_flag} (xen.h). */
    public static final int VMASST_TYPE_runstate_update_flag = 5;

    private XenVcpu() {
    }
}
