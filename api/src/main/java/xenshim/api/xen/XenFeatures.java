package xenshim.api.xen;

/** Feature bits reported by {@code XENVER_get_features}, from {@code xen/features.h}. */
public final class XenFeatures {

    public static final int XENFEAT_writable_page_tables = 0;
    public static final int XENFEAT_writable_descriptor_tables = 1;
    public static final int XENFEAT_auto_translated_physmap = 2;
    public static final int XENFEAT_supervisor_mode_kernel = 3;
    public static final int XENFEAT_pae_pgdir_above_4gb = 4;
    public static final int XENFEAT_mmu_pt_update_preserve_ad = 5;
    public static final int XENFEAT_highmem_assist = 6;
    public static final int XENFEAT_gnttab_map_avail_bits = 7;
    public static final int XENFEAT_hvm_callback_vector = 8;
    public static final int XENFEAT_hvm_safe_pvclock = 9;
    public static final int XENFEAT_hvm_pirqs = 10;
    public static final int XENFEAT_dom0 = 11;
    /**
     * Deprecated in Xen: {@code features.h} keeps this definition inside a
     * comment, so the headers do not define it; the bit is reserved.
     */
    @NotInHeaders
    public static final int XENFEAT_grant_map_identity = 12;
    public static final int XENFEAT_memory_op_vnode_supported = 13;
    public static final int XENFEAT_ARM_SMCCC_supported = 14;
    public static final int XENFEAT_linux_rsdp_unrestricted = 15;
    public static final int XENFEAT_not_direct_mapped = 16;
    public static final int XENFEAT_direct_mapped = 17;
    public static final int XENFEAT_NR_SUBMAPS = 1;

    private XenFeatures() {
    }
}
