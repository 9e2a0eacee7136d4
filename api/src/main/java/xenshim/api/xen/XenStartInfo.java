package xenshim.api.xen;

/**
 * The PVH boot ABI: {@code hvm_start_info} constants from
 * {@code xen/arch-x86/hvm/start_info.h} and the ELF note that names the PVH
 * entry, from {@code xen/elfnote.h}.
 */
public final class XenStartInfo {

    /** {@code "xEn3"} with the high bit of each byte set. */
    public static final int XEN_HVM_START_MAGIC_VALUE = 0x336ec578;

    public static final int XEN_HVM_MEMMAP_TYPE_RAM = 1;
    public static final int XEN_HVM_MEMMAP_TYPE_RESERVED = 2;
    public static final int XEN_HVM_MEMMAP_TYPE_ACPI = 3;
    public static final int XEN_HVM_MEMMAP_TYPE_NVS = 4;
    public static final int XEN_HVM_MEMMAP_TYPE_UNUSABLE = 5;
    public static final int XEN_HVM_MEMMAP_TYPE_DISABLED = 6;
    public static final int XEN_HVM_MEMMAP_TYPE_PMEM = 7;

    /** The 32-bit physical entry point of a PVH kernel. */
    public static final int XEN_ELFNOTE_PHYS32_ENTRY = 18;

    private XenStartInfo() {
    }
}
