package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OutcomeTest {

    @Test
    void exitStatuses() {
        assertThat(new Outcome.Shutdown(0).exitStatus()).isZero();
        assertThat(new Outcome.Shutdown(1).exitStatus()).isEqualTo(11);
        assertThat(new Outcome.Shutdown(2).exitStatus()).isEqualTo(12);
        assertThat(new Outcome.Shutdown(3).exitStatus()).isEqualTo(13);
        assertThat(new Outcome.Shutdown(4).exitStatus()).isEqualTo(14);
        assertThat(new Outcome.Shutdown(5).exitStatus()).isEqualTo(15);
        assertThat(new Outcome.Shutdown(6).exitStatus()).isEqualTo(19);
        assertThat(new Outcome.Shutdown(255).exitStatus()).isEqualTo(19);
        assertThat(new Outcome.TripleFault(0, "rip=0").exitStatus()).isEqualTo(20);
        assertThat(new Outcome.Failure(0, "emulation failure", "rip=0").exitStatus()).isEqualTo(21);
        assertThat(new Outcome.Timeout(1000, "rip=0").exitStatus()).isEqualTo(22);
        assertThat(new Outcome.Halted(0, "rip=0").exitStatus()).isEqualTo(23);
        assertThat(new Outcome.Interrupted().exitStatus()).isEqualTo(130);
    }

    @Test
    void descriptions() {
        assertThat(new Outcome.Shutdown(0).describe()).isEqualTo("guest shut down: poweroff");
        assertThat(new Outcome.Shutdown(3).describe()).contains("crash");
        assertThat(new Outcome.Shutdown(77).describe()).contains("77");
        assertThat(new Outcome.TripleFault(0, "rip=1234").describe()).contains("triple-fault").contains("rip=1234");
        assertThat(new Outcome.Failure(1, "VM entry failed", "rip=5").describe()).contains("vCPU 1").contains("VM entry failed");
        assertThat(new Outcome.Timeout(1500, "rip=9").describe()).contains("--timeout 1500 ms").contains("rip=9");
        assertThat(new Outcome.Halted(0, "rip=7").describe()).contains("halted").contains("rip=7");
        assertThat(new Outcome.Interrupted().describe()).isEqualTo("interrupted");
    }
}
