package xenshim.api.xen;

/** Xen's CPUID leaves for HVM guests, from {@code xen/arch-x86/cpuid.h}. */
public final class XenCpuid {

    public static final int XEN_CPUID_FIRST_LEAF = 0x40000000;
    public static final int XEN_CPUID_SIGNATURE_EBX = 0x566e6558;
    public static final int XEN_CPUID_SIGNATURE_ECX = 0x65584d4d;
    public static final int XEN_CPUID_SIGNATURE_EDX = 0x4d4d566e;

    public static final int XEN_HVM_CPUID_APIC_ACCESS_VIRT = 1 << 0;
    public static final int XEN_HVM_CPUID_X2APIC_VIRT = 1 << 1;
    public static final int XEN_HVM_CPUID_IOMMU_MAPPINGS = 1 << 2;
    public static final int XEN_HVM_CPUID_VCPU_ID_PRESENT = 1 << 3;
    public static final int XEN_HVM_CPUID_DOMID_PRESENT = 1 << 4;
    public static final int XEN_HVM_CPUID_EXT_DEST_ID = 1 << 5;
    public static final int XEN_HVM_CPUID_UPCALL_VECTOR = 1 << 6;

    /** Leaves Xen 4.17 offers from the base: base+0 .. base+5. */
    public static final int XEN_CPUID_MAX_NUM_LEAVES = 5;

    private XenCpuid() {
    }
}
