package xenshim.x86.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.FaultInjection;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Accel;
import xenshim.x86.GuestGroup;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;
import xenshim.x86.boot.ElfImage;
import xenshim.x86.control.ControlPaths;
import xenshim.x86.control.ControlServer;
import xenshim.x86.vm.HypercallTracer;
import xenshim.x86.vm.Machine;
import xenshim.x86.vm.Outcome;

/** {@code xenshim run}: boots Xen PVH guests on KVM or the software CPU. */
@Command(name = "run", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Boots a Xen PVH guest ELF on KVM or the software CPU (the bundled demo guest when none is given), prints its console "
                    + "on stdout, and exits with a status for how it ended. Traces, statistics and errors go to stderr.",
            "",
            "Several guests (several GUEST.ELF, or --bundled given more than once) run together, domain ids from --domid up, "
                    + "each console line prefixed (d<id>). Each pair of guests (1st and 2nd, 3rd and 4th, ...) gets a port of the "
                    + "first reserved for the second, passed as peer=DOMID:PORT:wait and peer=DOMID:PORT:bind on their command "
                    + "lines. The exit status is the first guest's that did not power off, else 0.",
            "",
            "Exit status: 0 the guest powered off (SHUTDOWN_poweroff); 11 reboot, 12 suspend, 13 crash, "
                    + "14 watchdog, 15 soft_reset; 19 another shutdown reason; 20 triple fault; "
                    + "21 the CPU backend could not run the guest (KVM emulation failure or failed entry; an exception the "
                    + "software CPU cannot deliver); 22 --timeout passed; "
                    + "23 halted with interrupts off; 24 a hypercall handler failed with a JVM error; "
                    + "25 a hypercall handler did not return within --call-limit; "
                    + "1 xenshim could not start it (bad ELF, no KVM); "
                    + "2 bad command line; 130 interrupted."})
final class RunCommand implements Callable<Integer> {

    static final List<String> BUNDLED = List.of("demo", "badcall", "triplefault", "spin", "bench", "irq", "evtchn",
            "plugin", "flood");

    @Parameters(arity = "0..*", paramLabel = "GUEST.ELF",
            description = "The guest kernels (ELF32 or ELF64, EM_386 or EM_X86_64); several run together.")
    List<Path> guests = List.of();

    @Option(names = "--bundled", paramLabel = "NAME",
            description = "Run a bundled guest instead of a file: ${COMPLETION-CANDIDATES}; repeat it for several.",
            completionCandidates = BundledNames.class)
    List<String> bundled = List.of();

    @Option(names = {"-m", "--memory"}, paramLabel = "SIZE", defaultValue = "128M",
            description = "Guest RAM: a number of MiB, or with a K/M/G suffix (default: ${DEFAULT-VALUE}).")
    String memory;

    @Option(names = "--cmdline", paramLabel = "TEXT", defaultValue = "",
            description = "The guest's command line (hvm_start_info).")
    String cmdline;

    @Option(names = "--timeout", paramLabel = "TIME", defaultValue = "0",
            description = "Stop the guest after this long: seconds, or with ms/s/m; 0 for no limit (default).")
    String timeout;

    @Option(names = "--accel", paramLabel = "kvm|tcg|auto", defaultValue = "auto",
            description = "The CPU backend: kvm (/dev/kvm), tcg (the software CPU, libunicorn2), or auto "
                    + "(default): KVM where /dev/kvm is usable, else the software CPU.")
    String accel;

    @Option(names = "--trace", description = "Print one line per hypercall on stderr: vCPU, name, sub-op, arguments, result.")
    boolean trace;

    @Option(names = "--domid", paramLabel = "ID", defaultValue = "1",
            description = "The (first) guest's domain id (default: ${DEFAULT-VALUE}).")
    int domid;

    @Option(names = "--call-limit", paramLabel = "TIME", defaultValue = "10s",
            description = "Stop a guest whose hypercall stays in its handler longer than this (a handler that loops "
                    + "without preempting itself; status 25): seconds, or with ms/s/m; 0 for no limit "
                    + "(default: ${DEFAULT-VALUE}).")
    String callLimit;

    @Option(names = "--xen-version", paramLabel = "MAJOR.MINOR", description = "The Xen version to emulate (default: 4.17).")
    String xenVersion;

    @Option(names = "--xenstore-socket", paramLabel = "PATH|none",
            description = "While guests run, the store listens here for Xen's tools (XENSTORED_PATH=PATH xenstore-ls, "
                    + "xenstore-read, ...), mode 0600. Default: xenstored in a fresh directory only you can enter, under "
                    + "$XDG_RUNTIME_DIR or the temporary directory (the path is said on stderr); none: no socket.")
    String xenstoreSocket;

    @Option(names = "--xenstore-dump", paramLabel = "FILE",
            description = "When the last guest ends, write the store to FILE, one node a line as xenstore-ls -f -p "
                    + "prints it: PATH = \"VALUE\"  (PERMS).")
    Path xenstoreDump;

    @Option(names = "--console-input", paramLabel = "ring|none", defaultValue = "none",
            description = "ring: what is typed on stdin goes into the first guest's PV console ring (its hvc0), as "
                    + "xenconsole passes it; none (default): stdin is not read. Guest output is shown either way.")
    String consoleInput;

    @Option(names = "--jfr", paramLabel = "FILE",
            description = "Record the run with JDK Flight Recorder (the JDK's default settings and xenshim's events: "
                    + "one xenshim.Hypercall per hypercall, xenshim.TableChange, xenshim.PluginLoad) and write it to "
                    + "FILE when the run ends, however it ends; open it in JDK Mission Control, or "
                    + "jfr print --events xenshim.Hypercall FILE.")
    Path jfr;

    @Option(names = "--record", paramLabel = "FILE",
            description = "Record every hypercall of the run, the guests' and dom0's, to FILE: arguments, the guest "
                    + "memory each handler read and wrote, results, and what the platform did between calls; "
                    + "xenshim replay FILE plays them again against a shim with no VM. Calls go through one at a "
                    + "time while recording.")
    Path record;

    @Option(names = "--fault", paramLabel = "RULE",
            description = "Fail chosen hypercalls, for testing a guest's error paths: HYPERCALL[:SUBOP] errno=ERRNO "
                    + "(rate=0..1 | nth=N [every]) [domain=ID], as 'xen_version:XENVER_extraversion errno=EINVAL nth=1'. "
                    + "Repeatable; the first rule that fires fails the call. A line per rule on stderr at the end says "
                    + "how many calls it failed.")
    List<String> faults = List.of();

    @Option(names = "--faults", paramLabel = "FILE",
            description = "Fault rules as --fault takes them, one per line; # starts a comment.")
    Path faultsFile;

    @Option(names = "--fault-seed", paramLabel = "N", defaultValue = "0",
            description = "The seed the rate= rules draw from (default: ${DEFAULT-VALUE}); a run with the same seed and "
                    + "the same calls fails the same calls.")
    long faultSeed;

    @Option(names = "--control", paramLabel = "PATH|none",
            description = "While guests run, listen for xenshim swap|unswap|shims|stats on a Unix socket only you can "
                    + "open. Default: PID.sock in $XDG_RUNTIME_DIR/xenshim, else in <tmp>/xenshim-<uid>, which --pid PID "
                    + "finds (stderr says the pid); PATH: there instead (the commands then take --control PATH); "
                    + "none: no control channel.")
    String control;

    @CommandLine.Mixin
    TableSource source = new TableSource();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static final class BundledNames implements Iterable<String> {
        @Override
        public java.util.Iterator<String> iterator() {
            return BUNDLED.iterator();
        }
    }

    @Override
    public Integer call() throws Exception {
        if (jfr == null) {
            return boot(null);
        }
        try (JfrRecording recording = JfrRecording.start(spec, jfr, spec.commandLine().getErr())) {
            return boot(recording);
        }
    }

    /** The run; {@code recording}, if any, is written before a Ctrl-C lets the JVM end. */
    private int boot(JfrRecording recording) throws Exception {
        FaultInjection injection = faultInjection();
        long memoryBytes = Sizes.memory(spec, memory);
        Duration limit = Sizes.duration(spec, "--timeout", timeout);
        Duration handlerLimit = Sizes.duration(spec, "--call-limit", callLimit);
        List<GuestGroup.Guest> images = loadImages();
        if (domid <= 0 || domid + images.size() - 1 >= 0x7FF0) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--domid must be 1..32751 for every guest (dom0 is the in-process backend)");
        }
        Accel backend = accel();
        XenVersionInfo version = XenVersionInfo.defaults();
        if (xenVersion != null) {
            version = Sizes.version(spec, version, xenVersion);
        }
        StdoutConsole console = StdoutConsole.stdout();
        if (images.size() > 1) {
            console.prefixDomains();
        }
        PrintWriter err = spec.commandLine().getErr();
        consoleInput(); // a bad value is refused before a recording is made
        CallRecording calls = record == null ? null : CallRecording.prepare(spec, record, err);
        Platform platform = calls == null ? new Platform(version, console) : new Platform(version, console, calls.time());
        HypercallPage page = new HypercallPage(source.table(platform));
        page.injectFaults(injection);
        if (calls != null) {
            calls.start(spec, platform, page);
        }
        HypercallTracer tracer = trace ? new HypercallTracer(err) : null;
        GuestGroup.Settings settings = new GuestGroup.Settings(memoryBytes, limit, domid, tracer, backend.factory(),
                handlerLimit);
        try {
            return run(platform, page, images, settings, console, injection, recording);
        } finally {
            if (calls != null) {
                calls.close(); // after the guests and what dom0 did for them are gone: their calls too
            }
        }
    }

    /** The guests, booted and run on {@code page} until each ends; the exit status. */
    private int run(Platform platform, HypercallPage page, List<GuestGroup.Guest> images, GuestGroup.Settings settings,
                    StdoutConsole console, FaultInjection injection, JfrRecording recording) throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        boolean typeToRing = consoleInput(); // checked before anything starts
        try (GuestGroup group = GuestGroup.create(platform, page, images, settings);
             StoreSocket socket = "none".equals(xenstoreSocket) ? null
                     : StoreSocket.open(platform.xenstore(), xenstoreSocket == null ? null : Path.of(xenstoreSocket));
             ControlServer controlServer = openControl(new ShimControl(platform, page, group::machines), err)) {
            if (socket != null) {
                err.println("xenshim: xenstore: XENSTORED_PATH=" + socket.path());
                err.flush();
            }
            if (xenstoreDump != null) {
                group.atLastEnd(() -> dumpStore(platform, err));
            }
            if (typeToRing) {
                ConsoleInput.start(System.in, group.backends().getFirst().console());
            }
            CountDownLatch reported = new CountDownLatch(1);
            Thread onCtrlC = new Thread(() -> {
                group.stop(new Outcome.Interrupted());
                try {
                    reported.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "xenshim-interrupt");
            Runtime.getRuntime().addShutdownHook(onCtrlC);
            try {
                List<Outcome> outcomes = group.run();
                console.flush();
                int status = 0;
                for (int i = 0; i < outcomes.size(); i++) {
                    Machine machine = group.machines().get(i);
                    String who = outcomes.size() > 1 ? "d" + machine.domain().domid() + " (" + images.get(i).name() + "): " : "";
                    err.println("xenshim: " + who + outcomes.get(i).describe());
                    machine.statsSnapshot().print(err);
                    if (status == 0) {
                        status = outcomes.get(i).exitStatus();
                    }
                }
                if (injection != null) {
                    injection.rules().forEach(rule -> err.println("xenshim: " + rule.report()));
                }
                return status;
            } finally {
                // also when run() or the report throws: a Ctrl-C hook must not wait 5 s for a
                // report that will not come, and a normal exit must not run the hook at all
                if (recording != null) {
                    recording.close();
                }
                if (controlServer != null) {
                    controlServer.close(); // before a Ctrl-C's hook lets the JVM end: no socket left behind
                }
                reported.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(onCtrlC);
                } catch (IllegalStateException shuttingDown) {
                    // Ctrl-C: the hook is running and ends the JVM with its own status
                }
            }
        }
    }

    /**
     * The control channel {@code --control} asks for, said in one line on stderr; null for {@code none}.
     * The default socket is found by the pid ({@code xenshim swap --pid N}).
     */
    private ControlServer openControl(ShimControl shims, PrintWriter err) throws IOException {
        if ("none".equals(control)) {
            return null;
        }
        long pid = ProcessHandle.current().pid();
        String commands = "xenshim swap|unswap|shims|stats ";
        try {
            if (control == null) {
                ControlPaths.makeDirectory();
                ControlServer server = ControlServer.start(ControlPaths.forPid(pid), shims);
                err.println("xenshim: control: pid " + pid + " (" + commands + "--pid " + pid + ")");
                err.flush();
                return server;
            }
            ControlServer server = ControlServer.start(Path.of(control), shims);
            err.println("xenshim: control: pid " + pid + " at " + server.path() + " (" + commands + "--control "
                    + server.path() + ")");
            err.flush();
            return server;
        } catch (IOException e) {
            throw new IOException(e.getMessage() + " (--control none runs without a control channel)", e);
        }
    }

    /** The rules of {@code --faults} then {@code --fault}, or null if there are none. */
    private FaultInjection faultInjection() {
        List<FaultInjection.Source> sources = new ArrayList<>();
        if (faultsFile != null) {
            try {
                sources.add(new FaultInjection.Source("--faults " + faultsFile, Files.readAllLines(faultsFile)));
            } catch (IOException e) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        "--faults " + faultsFile + ": cannot read: " + e.getMessage());
            }
        }
        if (!faults.isEmpty()) {
            sources.add(new FaultInjection.Source("--fault", faults));
        }
        try {
            FaultInjection injection = FaultInjection.parse(sources, faultSeed);
            return injection.rules().isEmpty() ? null : injection;
        } catch (FaultInjection.FaultRuleException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /**
     * The backend {@code --accel} names; for {@code auto}, the first usable one, said in one line on
     * stderr. A named backend that cannot run here fails when the machine opens it, with its own
     * message (as {@code --accel kvm} without KVM always has).
     */
    private Accel accel() {
        String choice = accel.toLowerCase(java.util.Locale.ROOT);
        for (Accel a : Accel.values()) {
            if (a.id().equals(choice)) {
                return a;
            }
        }
        if (!choice.equals("auto")) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--accel must be kvm, tcg or auto, not '" + accel + "'");
        }
        PrintWriter err = spec.commandLine().getErr();
        Optional<String> noKvm = Accel.KVM.unavailableReason();
        if (noKvm.isEmpty()) {
            err.println("xenshim: --accel auto: using KVM");
            return Accel.KVM;
        }
        Optional<String> noTcg = Accel.TCG.unavailableReason();
        if (noTcg.isPresent()) {
            throw new IllegalStateException("--accel auto: no CPU backend can run a guest here: KVM: " + noKvm.get()
                    + "; the software CPU: " + noTcg.get());
        }
        err.println("xenshim: --accel auto: KVM cannot be used (" + noKvm.get() + "); using the software CPU (tcg)");
        err.flush();
        return Accel.TCG;
    }

    /** Whether {@code --console-input} is {@code ring}. */
    private boolean consoleInput() {
        return switch (consoleInput.toLowerCase(java.util.Locale.ROOT)) {
            case "ring" -> true;
            case "none" -> false;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--console-input must be ring or none, not '" + consoleInput + "'");
        };
    }

    /** {@code --xenstore-dump}: the store as it is now; a failure is said, and loses nothing else. */
    private void dumpStore(Platform platform, PrintWriter err) {
        try (java.io.Writer out = Files.newBufferedWriter(xenstoreDump)) {
            platform.xenstore().dump(out);
        } catch (IOException e) {
            err.println("xenshim: --xenstore-dump " + xenstoreDump + ": " + e.getMessage());
            err.flush();
        }
    }

    /** The guests to boot, in order: the files given, or the bundled guests named, or the demo. */
    private List<GuestGroup.Guest> loadImages() throws IOException {
        if (!guests.isEmpty() && !bundled.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give GUEST.ELF files or --bundled, not both");
        }
        List<GuestGroup.Guest> images = new ArrayList<>();
        for (Path file : guests) {
            images.add(new GuestGroup.Guest(file.toString(), loadFile(file), cmdline));
        }
        for (String name : bundled.isEmpty() && guests.isEmpty() ? List.of("demo") : bundled) {
            images.add(new GuestGroup.Guest(name, loadBundled(name), cmdline));
        }
        return images;
    }

    private ElfImage loadBundled(String name) throws IOException {
        if (!BUNDLED.contains(name)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--bundled: no guest '" + name + "'; there are " + String.join(", ", BUNDLED));
        }
        try (InputStream in = RunCommand.class.getModule().getResourceAsStream("xenshim/guests/" + name + ".elf")) {
            if (in == null) {
                throw new IllegalStateException("the bundled guest " + name + ".elf is missing from the xenshim jar");
            }
            return ElfImage.parse("bundled " + name + ".elf", in.readAllBytes());
        }
    }

    private static ElfImage loadFile(Path guest) throws IOException {
        try {
            if (Files.size(guest) > 1L << 30) {
                throw new IllegalArgumentException(guest + ": larger than 1 GiB; not a guest kernel");
            }
            return ElfImage.parse(guest.toString(), Files.readAllBytes(guest));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(guest + ": no such file");
        } catch (IOException e) {
            throw new IOException(guest + ": cannot read: " + e.getMessage(), e);
        }
    }
}
