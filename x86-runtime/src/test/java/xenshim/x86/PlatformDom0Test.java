package xenshim.x86;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.util.Map;
import org.junit.jupiter.api.Test;
import xenshim.api.VcpuTimers;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.Lcall;

/**
 * The in-process dom0 has its vCPU timers, as every Xen domain has: a backend's {@code set_timer_op}
 * arms one instead of failing in the handler (found by the hypercall fuzz target:
 * {@code fuzz/src/test/resources/xenshim/fuzz/HypercallFuzzTestInputs/hypercalls/dom0-set-timer-op-without-timers}).
 */
class PlatformDom0Test {

    @Test
    void aBackendsSetTimerOpArmsDom0sTimer() {
        Platform platform = new Platform(XenVersionInfo.defaults(), (d, b, o, l) -> { });
        HypercallPage page = new HypercallPage(platform.table(null, Map.of()));
        try (Arena arena = Arena.ofConfined()) {
            Lcall dom0 = Lcall.dom0(page, platform.dom0(), arena.allocate(4096));
            VcpuTimers timers = platform.dom0().state(VcpuTimers.KEY);
            long deadline = timers.clock().now() + 3_600_000_000_000L;
            assertThat(dom0.invoke(Hypercalls.__HYPERVISOR_set_timer_op, deadline)).isZero();
            assertThat(timers.singleshotDeadline(0)).isEqualTo(deadline);
            assertThat(dom0.invoke(Hypercalls.__HYPERVISOR_set_timer_op, 0)).isZero();
            assertThat(page.current().failures(Hypercalls.__HYPERVISOR_set_timer_op)).isZero();
        }
    }
}
