package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xenshim.api.Domain;
import xenshim.api.xen.XenErrno;
import xenshim.testkit.FakeGuestMemory;

/** The JFR events, recorded in-process and read back from the dumped file. */
class JfrEventsTest {

    @TempDir
    Path dir;

    private List<RecordedEvent> record(Runnable work) throws Exception {
        Path file = dir.resolve("events.jfr");
        try (Recording recording = new Recording()) {
            recording.enable("xenshim.Hypercall").withoutThreshold();
            recording.enable("xenshim.TableChange");
            recording.enable("xenshim.PluginLoad");
            recording.start();
            work.run();
            recording.stop();
            recording.dump(file);
        }
        return RecordingFile.readAllEvents(file);
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }

    @Test
    void eachLcallThroughThePageIsOneHypercallEvent() throws Exception {
        HypercallTable table = HypercallTable.builder("answers")
                .add(17, new Provider("test", "answers"), (c, a0, a1, a2, a3, a4) -> 40 + a0).build();
        HypercallPage page = new HypercallPage(table);
        Lcall lcall = new Lcall(page, Domain.guest(5), FakeGuestMemory.of(0x1000, 1));

        List<RecordedEvent> events = named(record(() -> {
            lcall.invoke(17, 2);
            lcall.invoke(29, 1);
        }), "xenshim.Hypercall");

        assertThat(events).hasSize(2);
        RecordedEvent version = events.get(0);
        assertThat(version.getInt("number")).isEqualTo(17);
        assertThat(version.getString("name")).isEqualTo("xen_version");
        assertThat(version.getLong("subOp")).isEqualTo(2);
        assertThat(version.getString("subOpName")).isEqualTo("XENVER_compile_info");
        assertThat(version.getInt("domain")).isEqualTo(5);
        assertThat(version.getInt("vcpu")).isZero();
        assertThat(version.getLong("result")).isEqualTo(42);
        assertThat(version.getString("table")).isEqualTo("answers");
        assertThat(version.getDuration().isNegative()).isFalse();

        RecordedEvent empty = events.get(1);
        assertThat(empty.getInt("number")).isEqualTo(29);
        assertThat(empty.getString("name")).isEqualTo("sched_op");
        assertThat(empty.getString("subOpName")).isEqualTo("SCHEDOP_block");
        assertThat(empty.getLong("result")).isEqualTo(-XenErrno.XEN_ENOSYS);
    }

    @Test
    void registerAndUnregisterAreTableChanges() throws Exception {
        HypercallTable base = HypercallPageTest.returning("base", 0);
        HypercallTable shim = HypercallPageTest.returning("shim", 1);

        List<RecordedEvent> events = named(record(() -> {
            HypercallPage page = new HypercallPage(base);
            page.registerLcall(shim);
            page.unregisterLcall();
        }), "xenshim.TableChange");

        assertThat(events).extracting(e -> e.getString("change")).containsExactly("install", "register", "unregister");
        assertThat(events).extracting(e -> e.getString("page")).containsOnly(events.get(0).getString("page"));
        RecordedEvent register = events.get(1);
        assertThat(register.getString("installed")).isEqualTo("shim");
        assertThat(register.getString("saved")).isEqualTo("base");
        assertThat(register.getInt("depth")).isEqualTo(1);
        RecordedEvent unregister = events.get(2);
        assertThat(unregister.getString("installed")).isEqualTo("base");
        assertThat(unregister.getString("retired")).isEqualTo("shim");
        assertThat(unregister.getInt("depth")).isZero();
    }

    @Test
    void aFailedPluginLoadIsAnEventWithTheMessage() throws Exception {
        Path folder = dir.resolve("plugins");
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("broken.jar"), "not a jar");

        List<RecordedEvent> events = named(record(() ->
                assertThatThrownBy(() -> PluginLayer.load(folder)).isInstanceOf(TableBuildException.class)),
                "xenshim.PluginLoad");

        assertThat(events).hasSize(1);
        assertThat(events.getFirst().getBoolean("loaded")).isFalse();
        assertThat(events.getFirst().getString("folder")).isEqualTo(folder.toString());
        assertThat(events.getFirst().getString("failure")).contains("broken.jar");
    }
}
