package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import xenshim.api.XenVersionInfo;
import xenshim.x86.cpu.CpuidLeaf;

class XenCpuidLeavesTest {

    private static final int X2APIC = 1 << 21;
    private static final int TSC_DEADLINE = 1 << 24;

    private static final List<CpuidLeaf> SUPPORTED = List.of(
            new CpuidLeaf(0, 0, false, 0xD, 0x756e6547, 0x6c65746e, 0x49656e69),
            new CpuidLeaf(1, 0, false, 0x906EA, 0x800, 0x7FFAFBFF | X2APIC | TSC_DEADLINE, 0xBFEBFBFF),
            new CpuidLeaf(7, 0, true, 0, 0x29C67AF, 0, 0),
            new CpuidLeaf(0x40000000, 0, false, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
            new CpuidLeaf(0x40000001, 0, false, 0x01007AFB, 0, 0, 0),
            new CpuidLeaf(0x80000000, 0, false, 0x80000008, 0, 0, 0));

    private static Optional<CpuidLeaf> leaf(List<CpuidLeaf> entries, int function, int index) {
        return entries.stream().filter(e -> e.function() == function && e.index() == index).findFirst();
    }

    @Test
    void replacesKvmLeavesWithXens() {
        XenVersionInfo version = XenVersionInfo.defaults();
        List<CpuidLeaf> entries = XenCpuidLeaves.forVcpu(SUPPORTED, version, 7, 3);

        assertThat(entries).filteredOn(e -> e.function() == 0x40000000).hasSize(1);
        CpuidLeaf sig = leaf(entries, 0x40000000, 0).orElseThrow();
        assertThat(sig.eax()).as("max leaf").isEqualTo(0x40000005);
        byte[] text = new byte[12];
        java.nio.ByteBuffer.wrap(text).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(sig.ebx()).putInt(sig.ecx()).putInt(sig.edx());
        assertThat(new String(text, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("XenVMMXenVMM");
        assertThat(entries).noneMatch(e -> e.ebx() == 0x4b4d564b); // "KVMK"

        assertThat(leaf(entries, 0x40000001, 0).orElseThrow().eax()).isEqualTo((4 << 16) | 17);
        CpuidLeaf msr = leaf(entries, 0x40000002, 0).orElseThrow();
        assertThat(msr.eax()).as("hypercall pages").isEqualTo(1);
        assertThat(msr.ebx()).isEqualTo(0x40000000).isEqualTo(HypercallPageCode.MSR);

        assertThat(entries).filteredOn(e -> e.function() == 0x40000003).hasSize(3)
                .allMatch(CpuidLeaf::significantIndex);
        CpuidLeaf hvm = leaf(entries, 0x40000004, 0).orElseThrow();
        assertThat(hvm.significantIndex()).isTrue();
        assertThat(hvm.eax() & (1 << 3)).as("VCPU_ID_PRESENT").isNotZero();
        assertThat(hvm.eax() & (1 << 4)).as("DOMID_PRESENT").isNotZero();
        // HVMOP_set_evtchn_upcall_vector is served and its vector raised for each upcall.
        assertThat(hvm.eax() & (1 << 6)).as("UPCALL_VECTOR").isNotZero();
        assertThat(hvm.eax()).isEqualTo((1 << 2) | (1 << 3) | (1 << 4) | (1 << 6));
        assertThat(hvm.ebx()).as("vcpu id").isEqualTo(3);
        assertThat(hvm.ecx()).as("domid").isEqualTo(7);
        assertThat(leaf(entries, 0x40000005, 0)).isPresent();
        assertThat(entries).noneMatch(e -> e.function() > 0x40000005 && (e.function() & 0xF0000000) == 0x40000000);
    }

    @Test
    void hidesX2apicAndTscDeadlineAndKeepsTheRest() {
        List<CpuidLeaf> entries = XenCpuidLeaves.forVcpu(SUPPORTED, XenVersionInfo.defaults(), 1, 0);
        CpuidLeaf one = leaf(entries, 1, 0).orElseThrow();
        assertThat(one.ecx() & X2APIC).isZero();
        assertThat(one.ecx() & TSC_DEADLINE).isZero();
        assertThat(one.ecx()).isEqualTo(0x7FFAFBFF & ~(X2APIC | TSC_DEADLINE));
        assertThat(one.eax()).isEqualTo(0x906EA);
        assertThat(one.edx()).as("no local APIC").isEqualTo(0xBFEBFBFF & ~(1 << 9));
        assertThat(entries).contains(SUPPORTED.get(0), SUPPORTED.get(2), SUPPORTED.get(5));
    }

    @Test
    void versionLeafFollowsTheEmulatedVersion() {
        List<CpuidLeaf> entries = XenCpuidLeaves.forVcpu(SUPPORTED, XenVersionInfo.defaults().withVersion(4, 19), 1, 0);
        assertThat(leaf(entries, 0x40000001, 0).orElseThrow().eax()).isEqualTo(0x40013);
    }
}
