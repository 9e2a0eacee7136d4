package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.DomainType;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenVersion;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.record.CallLog;
import xenshim.dispatcher.record.CallLogReader;
import xenshim.dispatcher.record.CallLogWriter;
import xenshim.x86.Accel;
import xenshim.x86.Platform;
import xenshim.x86.record.RecordingClock;
import xenshim.x86.vm.Backends;

/**
 * {@code run --record} then {@code replay}: the demo's calls replay with no difference against the
 * shim that served them, and against a shim whose {@code XENVER_extraversion} differs, in exactly the
 * calls that asked for it; files that are not recordings are refused with a clear message.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class RecordReplayRunTest {

    private static final Pattern DIFFERING_CALL = Pattern.compile("(?m)^call (\\d+): ");

    @TempDir
    static Path dir;

    /** One recording of the demo per backend, made by the first test that needs it. */
    private static final Map<Accel, Path> DEMO = new ConcurrentHashMap<>();

    private static Path demo(Accel accel) {
        return DEMO.computeIfAbsent(accel, a -> {
            Path file = dir.resolve("demo-" + a.id() + ".xsrec");
            MainTest.Result run = MainTest.run("run", "--accel", a.id(), "--timeout", "90s",
                    "--xenstore-socket", "none", "--record", file.toString());
            assertThat(run.status()).as(run.err()).isZero();
            assertThat(run.err()).containsPattern("xenshim: --record: \\d+ hypercalls written to " + Pattern.quote(
                    file.toString()) + " \\(\\d+ bytes\\); play them again with: xenshim replay ");
            return file;
        });
    }

    /** The call numbers (from 1) a replay's report names. */
    private static List<Integer> differingCalls(String report) {
        List<Integer> calls = new ArrayList<>();
        Matcher m = DIFFERING_CALL.matcher(report);
        while (m.find()) {
            int call = Integer.parseInt(m.group(1));
            if (!calls.contains(call)) {
                calls.add(call);
            }
        }
        return calls;
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void theDemoReplaysAgainstTheSameShimWithNoDifference(Accel accel) throws IOException {
        Backends.assume(accel, RecordReplayRunTest.class);
        Path file = demo(accel);
        CallLog.Recording recording = CallLogReader.read(file);
        List<CallLog.Call> calls = recording.calls();
        // the demo's traffic: console, xen_version, memory_op, event channels, hvm_op from the guest;
        // the toolstack's and backends' calls from dom0, its grant maps among them
        assertThat(calls).filteredOn(c -> c.domid() == 1).extracting(CallLog.Call::nr)
                .contains((long) Hypercalls.__HYPERVISOR_console_io, (long) Hypercalls.__HYPERVISOR_xen_version,
                        (long) Hypercalls.__HYPERVISOR_memory_op, (long) Hypercalls.__HYPERVISOR_event_channel_op,
                        (long) Hypercalls.__HYPERVISOR_hvm_op, (long) Hypercalls.__HYPERVISOR_sched_op);
        assertThat(calls).filteredOn(c -> c.domid() == 0).extracting(CallLog.Call::nr)
                .contains((long) Hypercalls.__HYPERVISOR_grant_table_op, (long) Hypercalls.__HYPERVISOR_event_channel_op);
        assertThat(calls).anySatisfy(c -> assertThat(c.clock()).isNotEmpty()); // HVMOP_get_time
        assertThat(recording.entries()).hasAtLeastOneElementOfType(CallLog.PlatformPage.class)
                .hasAtLeastOneElementOfType(CallLog.DomainGone.class);

        MainTest.Result replay = MainTest.run("replay", file.toString());
        assertThat(replay.err()).isEmpty();
        assertThat(replay.out()).contains(ReplayCommand.NOT_COMPARED);
        assertThat(replay.out()).containsPattern("(?m)^replay: " + calls.size() + " calls, " + calls.size()
                + " played against built-in \\(recorded against built-in\\): no difference; 0 failed by fault "
                + "injection in the recorded run, not played; \\d+ ms$");
        assertThat(differingCalls(replay.out())).isEmpty();
        assertThat(replay.status()).as(replay.out()).isZero();
    }

    /**
     * Two guests with interdomain ports, IPIs, vCPU timers and polls: events set and cleared outside calls
     * (by timers, by the guests' upcall handlers) and a domain that goes while its peer still runs. Each
     * poll must find the event bits as the recorded one did.
     */
    @ParameterizedTest
    @EnumSource(Accel.class)
    void twoGuestsWithEventsTimersAndPollsReplayWithNoDifference(Accel accel) throws IOException {
        Backends.assume(accel, RecordReplayRunTest.class);
        Path file = dir.resolve("evtchn-" + accel.id() + ".xsrec");
        MainTest.Result run = MainTest.run("run", "--accel", accel.id(), "--timeout", "120s", "--xenstore-socket",
                "none", "--bundled", "evtchn", "--bundled", "evtchn", "--record", file.toString());
        // the guest checks its timers' precision too: on a loaded machine one may say FAIL and the guest shut
        // down with crash (13); the replay must match the recording either way
        assertThat(run.status()).as(run.err()).isIn(0, 13);
        CallLog.Recording recording = CallLogReader.read(file);
        assertThat(recording.calls()).extracting(CallLog.Call::domid).contains(0, 1, 2);
        assertThat(recording.calls()).anySatisfy(c -> assertThat(c.nr()).isEqualTo(Hypercalls.__HYPERVISOR_sched_op));
        assertThat(recording.entries()).filteredOn(CallLog.DomainGone.class::isInstance).hasSize(2);

        MainTest.Result replay = MainTest.run("replay", file.toString());
        assertThat(differingCalls(replay.out())).as(replay.out()).isEmpty();
        assertThat(replay.out()).contains("): no difference; 0 failed by fault injection");
        assertThat(replay.status()).isZero();
    }

    /** A handler module for xen_version: the built-in handler's answers, but another XENVER_extraversion. */
    private static Path changedVersionPlugin() throws IOException {
        Path plugins = dir.resolve("plugins");
        Path jar = plugins.resolve("changed-version.jar");
        if (Files.exists(jar)) {
            return plugins;
        }
        PluginJars.jar(dir, jar, Map.of(
                "module-info.java", """
                        module test.changed.version {
                            requires xenshim.api;
                            uses xenshim.api.HypercallHandler;
                            opens test.changed.version;
                            provides xenshim.api.HypercallHandler with test.changed.version.ChangedExtraversion;
                        }
                        """,
                "test/changed/version/ChangedExtraversion.java", """
                        package test.changed.version;

                        import java.nio.charset.StandardCharsets;
                        import java.util.ServiceLoader;
                        import xenshim.api.CallContext;
                        import xenshim.api.Hypercall;
                        import xenshim.api.HypercallHandler;
                        import xenshim.api.xen.XenVersion;

                        @Hypercall(17)
                        public final class ChangedExtraversion implements HypercallHandler {
                            private final HypercallHandler builtIn = ServiceLoader
                                    .load(ModuleLayer.boot(), HypercallHandler.class).stream()
                                    .filter(p -> p.type().getName().equals("xenshim.handlers.version.XenVersionHandler"))
                                    .findFirst().orElseThrow().get();

                            @Override
                            public long handle(CallContext ctx, long cmd, long arg, long a2, long a3, long a4) {
                                if (cmd != XenVersion.XENVER_extraversion) {
                                    return builtIn.handle(ctx, cmd, arg, a2, a3, a4);
                                }
                                byte[] text = new byte[XenVersion.XEN_EXTRAVERSION_LEN];
                                byte[] changed = ".0-changed".getBytes(StandardCharsets.US_ASCII);
                                System.arraycopy(changed, 0, text, 0, changed.length);
                                ctx.memory().write(arg, text, 0, text.length);
                                return 0;
                            }
                        }
                        """));
        return plugins;
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aChangedHandlerDiffersInExactlyTheCallsItChanged(Accel accel) throws IOException {
        Backends.assume(accel, RecordReplayRunTest.class);
        Path file = demo(accel);
        List<CallLog.Call> calls = CallLogReader.read(file).calls();
        List<Integer> extraversion = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            CallLog.Call c = calls.get(i);
            if (c.nr() == Hypercalls.__HYPERVISOR_xen_version && c.arg(0) == XenVersion.XENVER_extraversion) {
                extraversion.add(i + 1);
            }
        }
        assertThat(extraversion).isNotEmpty();

        Path plugins = changedVersionPlugin();
        MainTest.Result replay = MainTest.run("replay", file.toString(), "--plugins", plugins.toString(),
                "--prefer", "17=test.changed.version");
        assertThat(replay.err()).isEmpty();
        assertThat(differingCalls(replay.out())).as(replay.out()).isEqualTo(extraversion);
        // each says which bytes differ: where ".0-xenshim" and ".0-changed" differ, one range in each call's buffer
        byte[] was = padded(XenVersionInfo.defaults().extraversion());
        byte[] now = padded(".0-changed");
        int first = java.util.Arrays.mismatch(was, now);
        int last = was.length - 1;
        while (was[last] == now[last]) {
            last--;
        }
        for (int i = first; i <= last; i++) {
            assertThat(was[i]).as("the strings differ in one run of bytes").isNotEqualTo(now[i]);
        }
        List<String> lines = replay.out().lines().filter(l -> l.startsWith("call ")).toList();
        assertThat(lines).hasSize(extraversion.size());
        for (int i = 0; i < extraversion.size(); i++) {
            CallLog.Call call = calls.get(extraversion.get(i) - 1);
            assertThat(lines.get(i)).isEqualTo(String.format("call %d: d1 vcpu0 xen_version(XENVER_extraversion, %#x, "
                            + "0x0, 0x0, 0x0): memory written at %#x (%d bytes): expected %s, got %s", extraversion.get(i),
                    call.arg(1), call.arg(1) + first, last + 1 - first, hex(was, first, last), hex(now, first, last)));
        }
        assertThat(replay.out()).containsPattern("(?m)^replay: " + calls.size() + " calls, " + calls.size()
                + " played against built-in\\+plugins \\(recorded against built-in\\): " + extraversion.size()
                + " calls? differs? \\(0 in the result, " + extraversion.size()
                + " in memory written, 0 read memory the recording does not have\\);");
        assertThat(replay.status()).isEqualTo(ReplayCommand.DIFFERS);
    }

    private static byte[] padded(String text) {
        return java.util.Arrays.copyOf(text.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                XenVersion.XEN_EXTRAVERSION_LEN);
    }

    private static String hex(byte[] bytes, int first, int last) {
        StringBuilder s = new StringBuilder();
        for (int i = first; i <= last; i++) {
            s.append(i == first ? "" : " ").append(String.format("%02x", bytes[i]));
        }
        return s.toString();
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aCallFaultInjectionFailedIsRecordedAndNotPlayed(Accel accel) throws IOException {
        Backends.assume(accel, RecordReplayRunTest.class);
        Path file = dir.resolve("faulted-" + accel.id() + ".xsrec");
        MainTest.Result run = MainTest.run("run", "--accel", accel.id(), "--timeout", "90s", "--xenstore-socket",
                "none", "--record", file.toString(), "--fault", "xen_version:XENVER_extraversion errno=EINVAL nth=1");
        assertThat(run.status()).as(run.err()).isZero();
        List<CallLog.Call> faulted = CallLogReader.read(file).calls().stream().filter(CallLog.Call::faulted).toList();
        assertThat(faulted).singleElement().satisfies(c -> {
            assertThat(c.arg(0)).isEqualTo(XenVersion.XENVER_extraversion);
            assertThat(c.result()).isEqualTo(-xenshim.api.xen.XenErrno.XEN_EINVAL);
            assertThat(c.reads()).isEmpty();
        });
        MainTest.Result replay = MainTest.run("replay", file.toString());
        assertThat(replay.out()).contains(": no difference; 1 failed by fault injection in the recorded run, not played;");
        assertThat(replay.status()).isZero();
    }

    @Test
    void aFileThatIsNotACompleteRecordingIsStatus1NamingItWithNoStackTrace() throws IOException {
        Path elf = dir.resolve("not-a-recording.elf");
        Files.write(elf, new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0});
        MainTest.Result notOne = MainTest.run("replay", elf.toString());
        assertThat(notOne.status()).isEqualTo(1);
        assertThat(notOne.err()).isEqualTo("xenshim: " + elf + ": not a xenshim hypercall recording: it does not start "
                + "with \"XSHIMREC\" (its first bytes are 7f 45 4c 46 02 01 01 00)" + System.lineSeparator());
        assertThat(notOne.out()).isEmpty();

        MainTest.Result missing = MainTest.run("replay", dir.resolve("none.xsrec").toString());
        assertThat(missing.status()).isEqualTo(1);
        assertThat(missing.err()).contains(dir.resolve("none.xsrec") + ": no such file").doesNotContain("\tat ");

        Path cut = dir.resolve("cut.xsrec");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (CallLogWriter writer = CallLogWriter.to(bytes, new CallLog.Platform(XenVersionInfo.defaults(), 0,
                "built-in", 0))) {
            writer.write(new CallLog.DomainCreated(0, DomainType.LOCAL, true, new UUID(0, 0)));
        }
        byte[] whole = bytes.toByteArray();
        Files.write(cut, Arrays.copyOf(whole, whole.length - 3));
        MainTest.Result truncated = MainTest.run("replay", cut.toString());
        assertThat(truncated.status()).isEqualTo(1);
        assertThat(truncated.err()).startsWith("xenshim: " + cut + ": truncated: ").doesNotContain("\tat ");

        assertThat(MainTest.run("replay").status()).isEqualTo(2);
        assertThat(MainTest.run("replay", "--help").out()).contains("Exit status: 0 no call differs; 3 some call differs");
    }

    @Test
    void aRunThatDoesNotRecordHasNoTapAndAPlainClock() {
        Platform platform = new Platform(XenVersionInfo.defaults(), (d, b, o, l) -> { });
        HypercallPage page = new HypercallPage(platform.table(null, Map.of()));
        assertThat(page.tap()).isNull();
        assertThat(platform.time().clock()).isNotInstanceOf(RecordingClock.class);
    }

    @Test
    void aRecordFileThatCannotBeWrittenIsStatus2() {
        MainTest.Result r = MainTest.run("run", "--record", dir.resolve("no/such/folder/x.xsrec").toString());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--record " + dir.resolve("no/such/folder/x.xsrec") + ": cannot write there (no folder ");
    }
}
