package xenshim.api.xen;

/**
 * Hypercall numbers, {@code __HYPERVISOR_*} from {@code xen/xen.h}, named as
 * Xen names them. Checked against the header by the ABI probe test.
 */
public final class Hypercalls {

    /** Slots in the table: {@code hypercall_page} holds 128 stubs of 32 bytes. */
    @NotInHeaders
    public static final int NR_SLOTS = 128;

    public static final int __HYPERVISOR_set_trap_table = 0;
    public static final int __HYPERVISOR_mmu_update = 1;
    public static final int __HYPERVISOR_set_gdt = 2;
    public static final int __HYPERVISOR_stack_switch = 3;
    public static final int __HYPERVISOR_set_callbacks = 4;
    public static final int __HYPERVISOR_fpu_taskswitch = 5;
    public static final int __HYPERVISOR_sched_op_compat = 6;
    public static final int __HYPERVISOR_platform_op = 7;
    public static final int __HYPERVISOR_set_debugreg = 8;
    public static final int __HYPERVISOR_get_debugreg = 9;
    public static final int __HYPERVISOR_update_descriptor = 10;
    public static final int __HYPERVISOR_memory_op = 12;
    public static final int __HYPERVISOR_multicall = 13;
    public static final int __HYPERVISOR_update_va_mapping = 14;
    public static final int __HYPERVISOR_set_timer_op = 15;
    public static final int __HYPERVISOR_event_channel_op_compat = 16;
    public static final int __HYPERVISOR_xen_version = 17;
    public static final int __HYPERVISOR_console_io = 18;
    public static final int __HYPERVISOR_physdev_op_compat = 19;
    public static final int __HYPERVISOR_grant_table_op = 20;
    public static final int __HYPERVISOR_vm_assist = 21;
    public static final int __HYPERVISOR_update_va_mapping_otherdomain = 22;
    public static final int __HYPERVISOR_iret = 23;
    public static final int __HYPERVISOR_vcpu_op = 24;
    public static final int __HYPERVISOR_set_segment_base = 25;
    public static final int __HYPERVISOR_mmuext_op = 26;
    public static final int __HYPERVISOR_xsm_op = 27;
    public static final int __HYPERVISOR_nmi_op = 28;
    public static final int __HYPERVISOR_sched_op = 29;
    public static final int __HYPERVISOR_callback_op = 30;
    public static final int __HYPERVISOR_xenoprof_op = 31;
    public static final int __HYPERVISOR_event_channel_op = 32;
    public static final int __HYPERVISOR_physdev_op = 33;
    public static final int __HYPERVISOR_hvm_op = 34;
    public static final int __HYPERVISOR_sysctl = 35;
    public static final int __HYPERVISOR_domctl = 36;
    public static final int __HYPERVISOR_kexec_op = 37;
    public static final int __HYPERVISOR_tmem_op = 38;
    public static final int __HYPERVISOR_argo_op = 39;
    public static final int __HYPERVISOR_xenpmu_op = 40;
    public static final int __HYPERVISOR_dm_op = 41;
    public static final int __HYPERVISOR_hypfs_op = 42;
    public static final int __HYPERVISOR_arch_0 = 48;
    public static final int __HYPERVISOR_arch_1 = 49;
    public static final int __HYPERVISOR_arch_2 = 50;
    public static final int __HYPERVISOR_arch_3 = 51;
    public static final int __HYPERVISOR_arch_4 = 52;
    public static final int __HYPERVISOR_arch_5 = 53;
    public static final int __HYPERVISOR_arch_6 = 54;
    public static final int __HYPERVISOR_arch_7 = 55;

    private static final String[] NAMES = Constants.namesByValue(Hypercalls.class, "__HYPERVISOR_", NR_SLOTS);

    private Hypercalls() {
    }

    /** Xen's name for hypercall {@code nr} ("xen_version"), or {@code "hypercall_<nr>"} for a number Xen does not name. */
    public static String name(long nr) {
        if (nr >= 0 && nr < NR_SLOTS && NAMES[(int) nr] != null) {
            return NAMES[(int) nr];
        }
        return "hypercall_" + nr;
    }
}
