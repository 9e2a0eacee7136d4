package xenshim.api.xen;

/** {@code hvm_op} sub-ops and HVM parameters, from {@code xen/hvm/hvm_op.h} and {@code xen/hvm/params.h}. */
public final class XenHvm {

    public static final int HVMOP_set_param = 0;
    public static final int HVMOP_get_param = 1;
    public static final int HVMOP_flush_tlbs = 5;
    public static final int HVMOP_pagetable_dying = 9;
    public static final int HVMOP_get_time = 10;
    public static final int HVMOP_xentrace = 11;
    public static final int HVMOP_set_mem_access = 12;
    public static final int HVMOP_get_mem_access = 13;
    public static final int HVMOP_get_mem_type = 15;
    public static final int HVMOP_set_evtchn_upcall_vector = 23;
    public static final int HVMOP_guest_request_vm_event = 24;

    public static final int HVM_PARAM_PAE_ENABLED = 4;
    public static final int HVM_PARAM_DM_DOMAIN = 13;
    public static final int HVM_PARAM_MEMORY_EVENT_CR0 = 20;
    public static final int HVM_PARAM_MEMORY_EVENT_CR3 = 21;
    public static final int HVM_PARAM_MEMORY_EVENT_CR4 = 22;
    public static final int HVM_PARAM_MEMORY_EVENT_INT3 = 23;
    public static final int HVM_PARAM_NESTEDHVM = 24;
    public static final int HVM_PARAM_MEMORY_EVENT_SINGLE_STEP = 25;
    public static final int HVM_PARAM_BUFIOREQ_EVTCHN = 26;
    public static final int HVM_PARAM_MEMORY_EVENT_MSR = 30;
    public static final int HVM_PARAM_CALLBACK_IRQ = 0;
    public static final int HVM_PARAM_CALLBACK_TYPE_GSI = 0;
    public static final int HVM_PARAM_CALLBACK_TYPE_PCI_INTX = 1;
    public static final int HVM_PARAM_CALLBACK_TYPE_VECTOR = 2;
    public static final int HVM_PARAM_STORE_PFN = 1;
    public static final int HVM_PARAM_STORE_EVTCHN = 2;
    public static final int HVM_PARAM_IOREQ_PFN = 5;
    public static final int HVM_PARAM_BUFIOREQ_PFN = 6;
    public static final int HVM_PARAM_VIRIDIAN = 9;
    public static final int HVM_PARAM_TIMER_MODE = 10;
    public static final int HVM_PARAM_HPET_ENABLED = 11;
    public static final int HVM_PARAM_IDENT_PT = 12;
    public static final int HVM_PARAM_ACPI_S_STATE = 14;
    public static final int HVM_PARAM_VM86_TSS = 15;
    public static final int HVM_PARAM_VPT_ALIGN = 16;
    public static final int HVM_PARAM_CONSOLE_PFN = 17;
    public static final int HVM_PARAM_CONSOLE_EVTCHN = 18;
    public static final int HVM_PARAM_ACPI_IOPORTS_LOCATION = 19;
    public static final int HVM_PARAM_PAGING_RING_PFN = 27;
    public static final int HVM_PARAM_MONITOR_RING_PFN = 28;
    public static final int HVM_PARAM_SHARING_RING_PFN = 29;
    public static final int HVM_PARAM_TRIPLE_FAULT_REASON = 31;
    public static final int HVM_PARAM_IOREQ_SERVER_PFN = 32;
    public static final int HVM_PARAM_NR_IOREQ_SERVER_PAGES = 33;
    public static final int HVM_PARAM_VM_GENERATION_ID_ADDR = 34;
    public static final int HVM_PARAM_ALTP2M = 35;
    public static final int HVM_PARAM_X87_FIP_WIDTH = 36;
    public static final int HVM_PARAM_VM86_TSS_SIZED = 37;
    public static final int HVM_PARAM_MCA_CAP = 38;
    public static final int HVM_NR_PARAMS = 39;

    private XenHvm() {
    }
}
