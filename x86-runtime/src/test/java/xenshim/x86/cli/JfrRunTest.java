package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.x86.Accel;
import xenshim.x86.vm.Backends;

/** {@code run --jfr FILE}: the run's hypercalls, the guest's and dom0's, read back from FILE. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JfrRunTest {

    @ParameterizedTest
    @EnumSource(Accel.class)
    void theDemoRecordsItsHypercallsAndDom0s(Accel accel, @TempDir Path dir) throws Exception {
        Backends.assume(accel, JfrRunTest.class);
        Path file = dir.resolve("run.jfr");
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err),
                "run", "--bundled", "demo", "--accel", accel.id(), "--xenstore-socket", "none", "--jfr", file.toString());

        assertThat(status).as(err.toString()).isZero();
        assertThat(err.toString()).contains("flight recording written to " + file);
        List<RecordedEvent> calls = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().equals("xenshim.Hypercall")).toList();
        assertThat(calls).as("xen_version from the guest, domain 1")
                .anyMatch(e -> e.getInt("number") == 17 && e.getInt("domain") == 1
                        && e.getString("name").equals("xen_version"));
        assertThat(calls).as("event_channel_op from dom0's backends")
                .anyMatch(e -> e.getInt("number") == 32 && e.getInt("domain") == 0);
    }

    @Test
    void aFileThatCannotBeWrittenIsABadCommandLine(@TempDir Path dir) {
        Path file = dir.resolve("no-such-folder").resolve("run.jfr");
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(err),
                "run", "--bundled", "demo", "--jfr", file.toString());

        assertThat(status).isEqualTo(2);
        assertThat(err.toString()).contains("--jfr " + file).contains("cannot write");
        assertThat(file).doesNotExist();
    }
}
