package xenshim.x86.vm;

import java.util.ArrayList;
import java.util.List;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.XenCpuid;
import xenshim.x86.cpu.CpuidLeaf;

/**
 * The CPUID a vCPU sees: what its CPU backend supports, without the
 * backend's own hypervisor leaves (KVM's "KVMKVMKVM"), plus Xen's leaves at 0x40000000 as Xen 4.17 gives them to an HVM
 * guest (signature, version, hypercall-page MSR, time leaf, HVM leaf with vCPU
 * and domain ids). The local APIC, x2APIC and the TSC deadline timer are hidden:
 * there is no local APIC (no in-kernel irqchip; interrupts go in with
 * KVM_INTERRUPT), so a guest must not write EOIs to one that is not there.
 */
public final class XenCpuidLeaves {

    private static final int LEAF1_ECX_X2APIC = 1 << 21;
    private static final int LEAF1_ECX_TSC_DEADLINE = 1 << 24;
    private static final int LEAF1_EDX_APIC = 1 << 9;

    private XenCpuidLeaves() {
    }

    public static List<CpuidLeaf> forVcpu(List<CpuidLeaf> supported, XenVersionInfo version, int domid, int vcpuId) {
        return forVcpu(supported, version, domid, vcpuId, HypercallPageCode.MSR);
    }

    /** As {@link #forVcpu(List, XenVersionInfo, int, int)}, naming {@code hypercallMsr} in leaf 0x40000002. */
    public static List<CpuidLeaf> forVcpu(List<CpuidLeaf> supported, XenVersionInfo version, int domid, int vcpuId,
                                          int hypercallMsr) {
        List<CpuidLeaf> entries = new ArrayList<>();
        for (CpuidLeaf e : supported) {
            if ((e.function() & 0xF000_0000) == 0x4000_0000) {
                continue;
            }
            if (e.function() == 1) {
                e = new CpuidLeaf(e.function(), e.index(), e.significantIndex(), e.eax(), e.ebx(),
                        e.ecx() & ~(LEAF1_ECX_X2APIC | LEAF1_ECX_TSC_DEADLINE), e.edx() & ~LEAF1_EDX_APIC);
            }
            entries.add(e);
        }
        int base = XenCpuid.XEN_CPUID_FIRST_LEAF;
        entries.add(new CpuidLeaf(base, 0, false, base + XenCpuid.XEN_CPUID_MAX_NUM_LEAVES,
                XenCpuid.XEN_CPUID_SIGNATURE_EBX, XenCpuid.XEN_CPUID_SIGNATURE_ECX, XenCpuid.XEN_CPUID_SIGNATURE_EDX));
        entries.add(new CpuidLeaf(base + 1, 0, false, (int) version.packedVersion(), 0, 0, 0));
        entries.add(new CpuidLeaf(base + 2, 0, false, 1, hypercallMsr, 0, 0));
        for (int sub = 0; sub < 3; sub++) {
            // time leaf: native TSC (no vtsc), tsc_mode default, frequency not advertised
            entries.add(new CpuidLeaf(base + 3, sub, true, 0, 0, 0, 0));
        }
        // XEN_HVM_CPUID_UPCALL_VECTOR: HVMOP_set_evtchn_upcall_vector works, and the vector is
        // raised on the vCPU for each event upcall (GuestUpcall).
        int hvmFlags = XenCpuid.XEN_HVM_CPUID_IOMMU_MAPPINGS | XenCpuid.XEN_HVM_CPUID_VCPU_ID_PRESENT
                | XenCpuid.XEN_HVM_CPUID_DOMID_PRESENT | XenCpuid.XEN_HVM_CPUID_UPCALL_VECTOR;
        entries.add(new CpuidLeaf(base + 4, 0, true, hvmFlags, vcpuId, domid, 0));
        entries.add(new CpuidLeaf(base + 5, 0, false, 0, 0, 0, 0));
        return entries;
    }
}
