package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.x86.Accel;
import xenshim.x86.vm.Backends;

/** {@code run --fault}, {@code --faults} and {@code --fault-seed}: refusals, and a demo run with a failed call. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FaultInjectionRunTest {

    @Test
    void aBadFaultRuleIsStatus2NamingTheFlagTheLineAndTheWord() {
        MainTest.Result r = MainTest.run("run", "--fault", "xen_version errno=EINVAL nth=1",
                "--fault", "xen_version errno=EWHAT rate=0.5");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--fault:2: bad word 'errno=EWHAT'");
        assertThat(MainTest.run("run", "--help").out()).contains("--fault=RULE", "--faults=FILE", "--fault-seed=N");
    }

    @Test
    void aBadRuleInAFaultsFileIsStatus2NamingTheFileAndLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("faults.txt");
        Files.writeString(file, "# the demo's error paths\nmemory_op nth=3 errno=ENOMEM every\nmemory_op nth=3 errno=ENOMEM sometimes\n");
        MainTest.Result r = MainTest.run("run", "--faults", file.toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--faults " + file + ":3: bad word 'sometimes'");
        MainTest.Result missing = MainTest.run("run", "--faults", dir.resolve("none.txt").toString());
        assertThat(missing.status()).isEqualTo(2);
        assertThat(missing.err()).contains("--faults " + dir.resolve("none.txt") + ": cannot read");
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void theDemoSaysTheFailedXenVersionCall(Accel accel) {
        Backends.assume(accel, FaultInjectionRunTest.class);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out), new PrintWriter(err), "run", "--accel", accel.id(),
                "--timeout", "60s", "--trace", "--fault", "xen_version:XENVER_extraversion errno=EINVAL nth=1");
        // the console goes to the process's stdout (fd 1), out of reach here; the trace says what the guest got
        assertThat(err.toString()).containsPattern("xen_version\\(XENVER_extraversion, .*\\) = -EINVAL")
                .containsPattern("xen_version\\(XENVER_version, .*\\) = (?!-)");
        assertThat(err.toString()).containsPattern("xenshim: fault --fault:1 'xen_version:XENVER_extraversion errno=EINVAL nth=1': "
                + "failed 1 of \\d+ matching calls with -EINVAL");
        assertThat(status).as(err.toString()).isZero();
    }
}
