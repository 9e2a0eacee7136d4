package xenshim.api.xen;

/** {@code memory_op} commands, map spaces and flags, from {@code xen/memory.h}. */
public final class XenMemory {

    public static final int XENMEM_increase_reservation = 0;
    public static final int XENMEM_decrease_reservation = 1;
    public static final int XENMEM_maximum_ram_page = 2;
    public static final int XENMEM_current_reservation = 3;
    public static final int XENMEM_maximum_reservation = 4;
    public static final int XENMEM_machphys_mfn_list = 5;
    public static final int XENMEM_populate_physmap = 6;
    public static final int XENMEM_add_to_physmap = 7;
    public static final int XENMEM_memory_map = 9;
    public static final int XENMEM_machine_memory_map = 10;
    public static final int XENMEM_exchange = 11;
    public static final int XENMEM_machphys_mapping = 12;
    public static final int XENMEM_set_memory_map = 13;
    public static final int XENMEM_maximum_gpfn = 14;
    public static final int XENMEM_remove_from_physmap = 15;
    public static final int XENMEM_add_to_physmap_batch = 23;

    public static final int XENMAPSPACE_shared_info = 0;
    public static final int XENMAPSPACE_grant_table = 1;
    public static final int XENMAPSPACE_gmfn = 2;
    public static final int XENMAPSPACE_gmfn_range = 3;
    public static final int XENMAPSPACE_gmfn_foreign = 4;
    public static final int XENMAPSPACE_dev_mmio = 5;

    public static final int XENMAPIDX_grant_table_status = 0x80000000;

    public static final int XENMEMF_populate_on_demand = 1 << 16;

    /** {@code MEMOP_EXTENT_SHIFT} (xen/include/xen/hypercall.h, not public): start_extent lives above it in cmd. */
    @NotInHeaders
    public static final int MEMOP_EXTENT_SHIFT = 6;
    /** {@code MEMOP_CMD_MASK}: the command is the low six bits of cmd. */
    @NotInHeaders
    public static final int MEMOP_CMD_MASK = (1 << MEMOP_EXTENT_SHIFT) - 1;
    /** The largest extent order a domU may ask for ({@code CONFIG_DOMU_MAX_ORDER} = 9 on x86). */
    @NotInHeaders
    public static final int DOMU_MAX_ORDER = 9;

    private XenMemory() {
    }
}
