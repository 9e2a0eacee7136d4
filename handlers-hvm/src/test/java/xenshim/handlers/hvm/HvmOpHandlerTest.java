package xenshim.handlers.hvm;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EEXIST;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENODEV;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;
import static xenshim.api.xen.XenHvm.*;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.HvmParams;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.XenDomains;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

class HvmOpHandlerTest {

    private final Domain guest = FakeDomains.guest(5);
    private final Domain other = FakeDomains.guest(6);
    private final Domain dom0 = FakeDomains.privilegedGuest(0);
    private final Domain localDom0 = new Domain(7, true, xenshim.api.DomainType.LOCAL, new java.util.UUID(0, 7));
    private final DomainDirectory directory = FakeDomains.directory(guest, other, dom0, localDom0);
    private FakeGuestMemory memory;
    private long arg;

    @BeforeEach
    void setUp() {
        memory = FakeGuestMemory.standard();
        arg = memory.page(2) + 0x40;
    }

    private HandlerHarness harness(Domain caller, Abi abi) {
        return HandlerHarness.of(new HvmOpHandler(directory, new FixedClock(0))).domain(caller).memory(memory).abi(abi);
    }

    private static long off(Abi abi, String member) {
        return AbiLayouts.offset(abi.layouts().xen_hvm_param, member);
    }

    private void writeParam(Abi abi, int domid, int index, long value) {
        memory.write16(arg + off(abi, "domid"), (short) domid);
        memory.write32(arg + off(abi, "index"), index);
        memory.write64(arg + off(abi, "value"), value);
    }

    private long set(Domain caller, Abi abi, int domid, int index, long value) {
        writeParam(abi, domid, index, value);
        return harness(caller, abi).call(HVMOP_set_param, arg);
    }

    private long get(Domain caller, Abi abi, int domid, int index) {
        writeParam(abi, domid, index, 0xDEAD_BEEFL);
        return harness(caller, abi).call(HVMOP_get_param, arg);
    }

    private long readValue(Abi abi) {
        return memory.read64(arg + off(abi, "value"));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void theLayoutIsSixteenBytesInBothAbis(Abi abi) {
        assertThat(abi.layouts().xen_hvm_param.byteSize()).isEqualTo(16);
        assertThat(off(abi, "value")).isEqualTo(8);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aGuestSetsAndGetsItsCallbackIrqThroughDomidSelf(Abi abi) {
        long vector = (2L << 56) | 0xf3;

        assertThat(set(guest, abi, XenDomains.DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, vector)).isZero();
        assertThat(guest.state(HvmParams.KEY).get(HVM_PARAM_CALLBACK_IRQ)).isEqualTo(vector);

        memory.write16(arg + 2, (short) 0x1234); // padding is echoed back too
        writeParam(abi, XenDomains.DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, 0);
        assertThat(harness(guest, abi).call(HVMOP_get_param, arg)).isZero();
        assertThat(readValue(abi)).isEqualTo(vector);
        assertThat(memory.read16(arg)).isEqualTo((short) XenDomains.DOMID_SELF);
        assertThat(memory.read16(arg + 2)).isEqualTo((short) 0x1234);
        assertThat(memory.read32(arg + off(abi, "index"))).isEqualTo(HVM_PARAM_CALLBACK_IRQ);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aGuestMayNameItselfByItsOwnId(Abi abi) {
        assertThat(set(guest, abi, guest.domid(), HVM_PARAM_STORE_EVTCHN, 7)).isZero();
        assertThat(get(guest, abi, guest.domid(), HVM_PARAM_STORE_EVTCHN)).isZero();
        assertThat(readValue(abi)).isEqualTo(7);
    }

    @Test
    void anInvalidCallbackTypeIsStoredAndSucceeds() {
        assertThat(set(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, 0xFF00_0000_0000_0001L)).isZero();
        assertThat(guest.state(HvmParams.KEY).get(HVM_PARAM_CALLBACK_IRQ)).isEqualTo(0xFF00_0000_0000_0001L);
    }

    @ParameterizedTest
    @ValueSource(ints = {HVM_PARAM_STORE_PFN, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_ALTP2M, HVM_PARAM_VM_GENERATION_ID_ADDR})
    void aGuestReadsWhatTheToolstackPreset(int index) {
        guest.state(HvmParams.KEY).set(index, 0xfeffeL);
        assertThat(get(guest, Abi.X86_64, XenDomains.DOMID_SELF, index)).isZero();
        assertThat(readValue(Abi.X86_64)).isEqualTo(0xfeffeL);
    }

    @Test
    void anUnsetParamReadsAsZero() {
        assertThat(get(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_CONSOLE_EVTCHN)).isZero();
        assertThat(readValue(Abi.X86_64)).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {HVM_PARAM_STORE_PFN, HVM_PARAM_IOREQ_PFN, HVM_PARAM_VIRIDIAN, HVM_PARAM_TIMER_MODE,
            HVM_PARAM_IDENT_PT, HVM_PARAM_ACPI_S_STATE, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_TRIPLE_FAULT_REASON,
            HVM_PARAM_ALTP2M, HVM_PARAM_MCA_CAP, 3, 7, 8})
    void aGuestMayNotSetToolstackParamsOnItself(int index) {
        assertThat(set(guest, Abi.X86_64, XenDomains.DOMID_SELF, index, 1)).isEqualTo(-XEN_EPERM);
        assertThat(guest.state(HvmParams.KEY).get(index)).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {HVM_PARAM_IOREQ_PFN, HVM_PARAM_VIRIDIAN, HVM_PARAM_TIMER_MODE, HVM_PARAM_HPET_ENABLED,
            HVM_PARAM_IDENT_PT, HVM_PARAM_ACPI_S_STATE, HVM_PARAM_VPT_ALIGN, HVM_PARAM_PAGING_RING_PFN,
            HVM_PARAM_TRIPLE_FAULT_REASON, HVM_PARAM_IOREQ_SERVER_PFN, HVM_PARAM_NR_IOREQ_SERVER_PAGES, HVM_PARAM_MCA_CAP})
    void aGuestMayNotReadToolstackParamsOfItself(int index) {
        assertThat(get(guest, Abi.X86_64, XenDomains.DOMID_SELF, index)).isEqualTo(-XEN_EPERM);
        assertThat(readValue(Abi.X86_64)).isEqualTo(0xDEAD_BEEFL);
    }

    @ParameterizedTest
    @ValueSource(ints = {HVM_PARAM_PAE_ENABLED, HVM_PARAM_DM_DOMAIN, HVM_PARAM_MEMORY_EVENT_CR0,
            HVM_PARAM_MEMORY_EVENT_CR3, HVM_PARAM_MEMORY_EVENT_CR4, HVM_PARAM_MEMORY_EVENT_INT3, HVM_PARAM_NESTEDHVM,
            HVM_PARAM_MEMORY_EVENT_SINGLE_STEP, HVM_PARAM_BUFIOREQ_EVTCHN, HVM_PARAM_MEMORY_EVENT_MSR})
    void deprecatedParamsAreEinvalForEveryone(int index) {
        assertThat(set(guest, Abi.X86_64, XenDomains.DOMID_SELF, index, 1)).isEqualTo(-XEN_EINVAL);
        assertThat(get(guest, Abi.X86_64, XenDomains.DOMID_SELF, index)).isEqualTo(-XEN_EINVAL);
        assertThat(set(dom0, Abi.X86_64, guest.domid(), index, 1)).isEqualTo(-XEN_EINVAL);
        assertThat(get(dom0, Abi.X86_64, guest.domid(), index)).isEqualTo(-XEN_EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anIndexTooLargeIsEinvalBeforeTheDomainIsLookedUp(Abi abi) {
        assertThat(set(guest, abi, 999, HVM_NR_PARAMS, 1)).isEqualTo(-XEN_EINVAL);
        assertThat(get(guest, abi, 999, HVM_NR_PARAMS)).isEqualTo(-XEN_EINVAL);
        assertThat(set(guest, abi, 999, -1, 1)).isEqualTo(-XEN_EINVAL);
        assertThat(get(guest, abi, 999, 0x8000_0000)).isEqualTo(-XEN_EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aMissingDomainIsEsrch(Abi abi) {
        assertThat(set(guest, abi, 999, HVM_PARAM_CALLBACK_IRQ, 1)).isEqualTo(-XEN_ESRCH);
        assertThat(get(guest, abi, 999, HVM_PARAM_CALLBACK_IRQ)).isEqualTo(-XEN_ESRCH);
    }

    @Test
    void aTargetThatIsNotHvmIsEinvalEvenBeforePermission() {
        assertThat(set(guest, Abi.X86_64, localDom0.domid(), HVM_PARAM_CALLBACK_IRQ, 1)).isEqualTo(-XEN_EINVAL);
        assertThat(get(guest, Abi.X86_64, localDom0.domid(), HVM_PARAM_CALLBACK_IRQ)).isEqualTo(-XEN_EINVAL);
        assertThat(set(localDom0, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, 1)).isEqualTo(-XEN_EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aForeignHvmDomainIsEpermForAnUnprivilegedCaller(Abi abi) {
        assertThat(set(guest, abi, other.domid(), HVM_PARAM_CALLBACK_IRQ, 1)).isEqualTo(-XEN_EPERM);
        assertThat(get(guest, abi, other.domid(), HVM_PARAM_CALLBACK_IRQ)).isEqualTo(-XEN_EPERM);
        assertThat(other.state(HvmParams.KEY).get(HVM_PARAM_CALLBACK_IRQ)).isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPrivilegedCallerSetsAndGetsToolstackParamsOfAnotherDomain(Abi abi) {
        assertThat(set(dom0, abi, guest.domid(), HVM_PARAM_STORE_PFN, 0xfeffc)).isZero();
        assertThat(get(dom0, abi, guest.domid(), HVM_PARAM_STORE_PFN)).isZero();
        assertThat(readValue(abi)).isEqualTo(0xfeffc);
        assertThat(set(localDom0, abi, guest.domid(), HVM_PARAM_IDENT_PT, 0x1000)).isZero();
        assertThat(get(localDom0, abi, guest.domid(), HVM_PARAM_IDENT_PT)).isZero();
        assertThat(readValue(abi)).isEqualTo(0x1000);
    }

    @Test
    void setOnceParamsAreEexistWhenChanged() {
        assertThat(set(dom0, Abi.X86_64, guest.domid(), HVM_PARAM_IOREQ_PFN, 5)).isZero();
        assertThat(set(dom0, Abi.X86_64, guest.domid(), HVM_PARAM_IOREQ_PFN, 5)).isZero();
        assertThat(set(dom0, Abi.X86_64, guest.domid(), HVM_PARAM_IOREQ_PFN, 6)).isEqualTo(-XEN_EEXIST);
        assertThat(guest.state(HvmParams.KEY).get(HVM_PARAM_IOREQ_PFN)).isEqualTo(5);
    }

    @Test
    void toolstackValuesAreChecked() {
        int d = guest.domid();
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_TIMER_MODE, 4)).isEqualTo(-XEN_EINVAL);
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_TIMER_MODE, 3)).isZero();
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_VIRIDIAN, 2)).isEqualTo(-XEN_EINVAL);
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_VIRIDIAN, 0x2000 | 1)).isEqualTo(-XEN_EINVAL);
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_VIRIDIAN, 1)).isZero();
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_ACPI_S_STATE, 1)).isEqualTo(-XEN_EINVAL);
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_ACPI_S_STATE, 3)).isZero();
        assertThat(get(dom0, Abi.X86_64, d, HVM_PARAM_ACPI_S_STATE)).isZero();
        assertThat(readValue(Abi.X86_64)).isEqualTo(3);
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_TRIPLE_FAULT_REASON, 6)).isEqualTo(-XEN_EINVAL);
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_TRIPLE_FAULT_REASON, 5)).isZero();
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_NR_IOREQ_SERVER_PAGES, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_NR_IOREQ_SERVER_PAGES, 65)).isEqualTo(-XEN_EINVAL);
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_NR_IOREQ_SERVER_PAGES, 2)).isZero();
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_ALTP2M, 3)).isEqualTo(-XEN_EINVAL);
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_ALTP2M, 2)).isZero();
        assertThat(set(dom0, Abi.X86_64, d, HVM_PARAM_MCA_CAP, 1)).isEqualTo(-XEN_EINVAL);
    }

    @Test
    void vm86TssMustFitIn32BitsAndIsStoredSized() {
        assertThat(set(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_VM86_TSS, 0x1_0000_0000L)).isEqualTo(-XEN_EINVAL);
        assertThat(guest.state(HvmParams.KEY).get(HVM_PARAM_VM86_TSS_SIZED)).isZero();

        assertThat(set(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_VM86_TSS, 0xfc000)).isZero();
        assertThat(get(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_VM86_TSS)).isZero();
        assertThat(readValue(Abi.X86_64)).isEqualTo(0xfc000);
        assertThat(get(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_VM86_TSS_SIZED)).isZero();
        assertThat(readValue(Abi.X86_64)).isEqualTo((128L << 32) | 0xfc000);
        assertThat(guest.state(HvmParams.KEY).get(HVM_PARAM_VM86_TSS)).isZero();
    }

    @Test
    void vm86TssSizedNeedsATss32AndIsCapped() {
        assertThat(set(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_VM86_TSS_SIZED, (103L << 32) | 0x1000))
                .isEqualTo(-XEN_EINVAL);
        assertThat(set(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_VM86_TSS_SIZED, (0xFFFFL << 32) | 0x1000))
                .isZero();
        assertThat(get(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_VM86_TSS_SIZED)).isZero();
        assertThat(readValue(Abi.X86_64)).isEqualTo((HvmParamValues.VM86_TSS_MAX_SIZE << 32) | 0x1000);
    }

    @Test
    void x87FipWidthIsZeroFourOrEight() {
        for (long ok : new long[] {0, 4, 8}) {
            assertThat(set(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH, ok)).isZero();
        }
        assertThat(set(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH, 2)).isEqualTo(-XEN_EINVAL);
        assertThat(get(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH)).isZero();
        assertThat(readValue(Abi.X86_64)).isEqualTo(8);
    }

    @Test
    void acpiIoportsLocationIsEnodevWithoutAPmTimer() {
        assertThat(set(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_ACPI_IOPORTS_LOCATION, 1)).isEqualTo(-XEN_ENODEV);
        assertThat(get(guest, Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_ACPI_IOPORTS_LOCATION)).isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anUnreadableStructIsEfault(Abi abi) {
        memory.unmap(arg);
        assertThat(harness(guest, abi).call(HVMOP_set_param, arg)).isEqualTo(-XEN_EFAULT);
        assertThat(harness(guest, abi).call(HVMOP_get_param, arg)).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void aStructStraddlingIntoAnUnmappedPageIsEfault() {
        long straddling = memory.page(4) - 4;
        memory.unmap(memory.page(4));
        memory.write16(straddling, (short) XenDomains.DOMID_SELF);
        assertThat(harness(guest, Abi.X86_64).call(HVMOP_set_param, straddling)).isEqualTo(-XEN_EFAULT);
        assertThat(harness(guest, Abi.X86_64).call(HVMOP_get_param, straddling)).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void aGetIntoAReadOnlyStructIsEfault() {
        writeParam(Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, 0);
        memory.readOnly(arg);
        assertThat(harness(guest, Abi.X86_64).call(HVMOP_get_param, arg)).isEqualTo(-XEN_EFAULT);
        // a set only reads
        assertThat(harness(guest, Abi.X86_64).call(HVMOP_set_param, arg)).isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void flushTlbsNeedsANullArgAndAnHvmCaller(Abi abi) {
        assertThat(harness(guest, abi).call(HVMOP_flush_tlbs, 0)).isZero();
        assertThat(harness(guest, abi).call(HVMOP_flush_tlbs, arg)).isEqualTo(-XEN_EINVAL);
        assertThat(harness(localDom0, abi).call(HVMOP_flush_tlbs, 0)).isEqualTo(-XEN_EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void guestRequestVmEventNeedsANullArg(Abi abi) {
        assertThat(harness(guest, abi).call(HVMOP_guest_request_vm_event, 0)).isZero();
        assertThat(harness(guest, abi).call(HVMOP_guest_request_vm_event, arg)).isEqualTo(-XEN_EINVAL);
    }

    @ParameterizedTest
    @ValueSource(longs = {2, 3, 4, 6, 7, 8, HVMOP_pagetable_dying, HVMOP_xentrace, HVMOP_set_mem_access,
            HVMOP_get_mem_access, HVMOP_get_mem_type, 25, 26, 127, 0x1_0000_0000L, -1})
    void otherOpsAreEnosys(long op) {
        assertThat(harness(guest, Abi.X86_64).call(op, arg)).isEqualTo(-XEN_ENOSYS);
    }

    @Test
    void anOpWithHighBitsIsNotSetParam() {
        writeParam(Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, 1);
        assertThat(harness(guest, Abi.X86_64).call(1L << 40, arg)).isEqualTo(-XEN_ENOSYS);
        assertThat(guest.state(HvmParams.KEY).get(HVM_PARAM_CALLBACK_IRQ)).isZero();
    }

    @Test
    void theProviderKnowsOnlyTheCaller() {
        writeParam(Abi.X86_64, XenDomains.DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, 1);
        assertThat(HandlerHarness.of(HvmOpHandler.provider()).domain(guest).memory(memory)
                .call(HVMOP_set_param, arg)).isZero();
        writeParam(Abi.X86_64, other.domid(), HVM_PARAM_CALLBACK_IRQ, 1);
        assertThat(HandlerHarness.of(HvmOpHandler.provider()).domain(guest).memory(memory)
                .call(HVMOP_set_param, arg)).isEqualTo(-XEN_ESRCH);
    }
}
