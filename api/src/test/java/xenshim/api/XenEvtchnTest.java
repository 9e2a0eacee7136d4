package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import xenshim.api.xen.XenEvtchn;

/** The constants the ABI probe cannot check under one name. */
class XenEvtchnTest {

    /** {@code #define EVTCHN_2L_NR_CHANNELS (sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64)}. */
    @Test
    void twoLevelPortLimitsFollowTheHeaderFormula() {
        assertThat(XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_64)
                .isEqualTo(Abi.X86_64.longSize() * Abi.X86_64.longSize() * 64).isEqualTo(4096);
        assertThat(XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_32)
                .isEqualTo(Abi.X86_32.longSize() * Abi.X86_32.longSize() * 64).isEqualTo(1024);
    }

    @Test
    void globalVirqsAreAllButThePerVcpuOnes() {
        assertThat(XenEvtchn.virqIsGlobal(XenEvtchn.VIRQ_TIMER)).isFalse();
        assertThat(XenEvtchn.virqIsGlobal(XenEvtchn.VIRQ_DEBUG)).isFalse();
        assertThat(XenEvtchn.virqIsGlobal(XenEvtchn.VIRQ_XENOPROF)).isFalse();
        assertThat(XenEvtchn.virqIsGlobal(XenEvtchn.VIRQ_XENPMU)).isFalse();
        assertThat(XenEvtchn.virqIsGlobal(XenEvtchn.VIRQ_CONSOLE)).isTrue();
        assertThat(XenEvtchn.virqIsGlobal(XenEvtchn.VIRQ_ARCH_0)).isTrue();
    }
}
