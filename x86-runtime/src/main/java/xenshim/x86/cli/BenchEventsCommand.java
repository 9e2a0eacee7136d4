package xenshim.x86.cli;

import java.io.InputStream;
import java.io.PrintWriter;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Accel;
import xenshim.x86.Platform;
import xenshim.x86.boot.ElfImage;
import xenshim.x86.dom0.EchoBackend;
import xenshim.x86.dom0.GuestBackends;
import xenshim.x86.memory.GuestPhysMemory;
import xenshim.x86.vm.Machine;
import xenshim.x86.vm.Outcome;

/**
 * {@code xenshim bench-events}: event latency between a guest and a dom0 backend, beside the bare hypercall
 * round trip of the same run, and what an idle guest costs. A benchmark, not a test: it prints figures.
 *
 * <p>Latency: the bundled {@code evtchn} guest in {@code bench=N} mode sends N events to dom0's echo
 * backend, one at a time, each time waiting for the echo's upcall; it keeps the guest clock (Xen time, from
 * its {@code vcpu_time_info}) at each send and each upcall, then times N bare {@code xen_version} calls.
 * The backend keeps the platform clock (the same Xen time) at each wake and each send. Paired per event:
 * guest send → backend wake, backend send → guest upcall, and the round trip guest send → guest upcall.
 *
 * <p>Idle: the guest in {@code idle=MS} mode blocks in {@code SCHEDOP_block} until a timer MS ahead; the
 * process's CPU time and the vCPU thread's over that window, over the wall time, are the idle cost.
 */
@Command(name = "bench-events", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measures event latency (guest <-> dom0 backend, median and p99, beside the bare hypercall "
                + "round trip of the same run) and the CPU an idle guest blocked in SCHEDOP_block uses.")
final class BenchEventsCommand implements Callable<Integer> {

    private static final long SETTLE_MS = 1_000;
    private static final Pattern MEANS = Pattern.compile(
            "evtchn: bench means bare_ns=(\\d+) rtt_ns=(\\d+) self_ns=(\\d+) over (\\d+)");
    private static final Pattern ARRAYS = Pattern.compile(
            "evtchn: bench events=(\\d+) upcalls=(\\d+) send=0x(\\p{XDigit}+) upcall=0x(\\p{XDigit}+) bare=0x(\\p{XDigit}+)");

    @Option(names = "--accel", paramLabel = "kvm|tcg", defaultValue = "kvm", description = "The CPU backend (default: ${DEFAULT-VALUE}).")
    String accel;

    @Option(names = "--events", paramLabel = "N", defaultValue = "10000", description = "Events (and bare calls) to time (default: ${DEFAULT-VALUE}; at most 100000; 0 for the idle run only).")
    int events;

    @Option(names = "--backend", paramLabel = "inline|thread|both", defaultValue = "both",
            description = "How dom0's echo backend takes events: an inline listener, a blocked thread, or both, one run "
                    + "each (default: ${DEFAULT-VALUE}).")
    String backendMode;

    @Option(names = "--idle", paramLabel = "MS", defaultValue = "5000",
            description = "How long the idle guest blocks (default: ${DEFAULT-VALUE}; measured from 1 s in); 0 skips it.")
    long idleMillis;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (events < 0 || events > 100_000) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--events must be 0..100000 (0: no latency runs)");
        }
        Accel backend = Accel.valueOf(accel.toUpperCase(Locale.ROOT));
        PrintWriter out = spec.commandLine().getOut();
        out.printf("xenshim bench-events: %s, %d events, %s%n", backend.id(), events, Runtime.version());
        int status = 0;
        List<EchoBackend.Mode> modes = switch (backendMode.toLowerCase(Locale.ROOT)) {
            case "inline" -> List.of(EchoBackend.Mode.INLINE);
            case "thread" -> List.of(EchoBackend.Mode.THREAD);
            case "both" -> List.of(EchoBackend.Mode.INLINE, EchoBackend.Mode.THREAD);
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--backend must be inline, thread or both, not '" + backendMode + "'");
        };
        for (EchoBackend.Mode mode : events == 0 ? List.<EchoBackend.Mode>of() : modes) {
            status = Math.max(status, latency(backend, mode, out));
        }
        if (idleMillis > 0) {
            status = Math.max(status, idle(backend, out));
        }
        return status;
    }

    private static ElfImage evtchnGuest() throws java.io.IOException {
        try (InputStream in = RunCommand.class.getModule().getResourceAsStream("xenshim/guests/evtchn.elf")) {
            return ElfImage.parse("bundled evtchn.elf", in.readAllBytes());
        }
    }

    /** A console that hands each whole line to a listener. */
    private static GuestConsole lines(Consumer<String> listener) {
        StringBuilder line = new StringBuilder();
        return (domain, bytes, offset, length) -> {
            synchronized (line) {
                for (int i = offset; i < offset + length; i++) {
                    if (bytes[i] == '\n') {
                        listener.accept(line.toString());
                        line.setLength(0);
                    } else {
                        line.append((char) (bytes[i] & 0xFF));
                    }
                }
            }
        };
    }

    private int latency(Accel backend, EchoBackend.Mode mode, PrintWriter out) throws Exception {
        out.printf("  dom0 echo backend: %s%n", mode == EchoBackend.Mode.THREAD
                ? "a platform thread blocked in LocalEvents.await" : "an inline listener (LocalEvents.listenInline)");
        String[] arrays = new String[2];
        GuestConsole console = lines(line -> {
            if (ARRAYS.matcher(line).find()) {
                arrays[0] = line;
            } else if (MEANS.matcher(line).find()) {
                arrays[1] = line;
            } else if (line.contains("FAIL")) {
                out.println("  guest: " + line);
            }
        });
        Platform platform = new Platform(XenVersionInfo.defaults(), console);
        HypercallPage page = new HypercallPage(platform.table(null, java.util.Map.of()));
        Domain domain = platform.newGuest(1);
        try (Machine machine = Machine.create(new Machine.Config(128L << 20, "bench=" + events, Duration.ofMinutes(5),
                domain.domid(), platform.version()), evtchnGuest(), domain, page, console, null, backend.factory())) {
            Outcome outcome;
            EchoBackend.Recording backendTimes;
            try (GuestBackends dom0 = GuestBackends.start(platform.dom0Side(page), domain, "evtchn", 128L << 20, mode)) {
                backendTimes = dom0.echo().record(platform.time().clock(), events); // before the guest runs
                outcome = machine.run();
            }
            Matcher m = arrays[0] == null ? null : ARRAYS.matcher(arrays[0]);
            if (m == null || !m.find() || !(outcome instanceof Outcome.Shutdown)) {
                out.println("  the guest did not finish the run: " + outcome.describe());
                return 1;
            }
            int n = Math.min(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
            n = Math.min(n, backendTimes.count());
            if (n == 0) {
                out.println("  no event made the round trip");
                return 1;
            }
            long[] guestSend = read(machine.memory(), Long.parseUnsignedLong(m.group(3), 16), n);
            long[] guestUpcall = read(machine.memory(), Long.parseUnsignedLong(m.group(4), 16), n);
            long[] bare = read(machine.memory(), Long.parseUnsignedLong(m.group(5), 16), events);
            long[] toBackend = new long[n];
            long[] toGuest = new long[n];
            long[] roundTrip = new long[n];
            for (int i = 0; i < n; i++) {
                toBackend[i] = backendTimes.woke(i) - guestSend[i];
                toGuest[i] = guestUpcall[i] - backendTimes.sent(i);
                roundTrip[i] = guestUpcall[i] - guestSend[i];
            }
            out.printf("  %-40s %10s %10s %10s%n", "ns, " + n + " events", "median", "p99", "mean");
            row(out, "bare hypercall round trip (xen_version)", bare);
            row(out, "guest send -> backend wake", toBackend);
            row(out, "backend send -> guest upcall", toGuest);
            row(out, "event round trip (send -> echo -> upcall)", roundTrip);
            double ratio = (double) percentile(roundTrip, 50) / percentile(bare, 50);
            out.printf("  event round trip / bare hypercall (medians): %.2fx (target: within 3x)%n", ratio);
            Matcher means = arrays[1] == null ? null : MEANS.matcher(arrays[1]);
            if (means != null && means.find()) {
                long bareMean = Long.parseLong(means.group(1));
                long rttMean = Long.parseLong(means.group(2));
                long selfMean = Long.parseLong(means.group(3));
                out.printf("  without a clock read per event (%s loops, means): bare hypercall %d ns; event to itself "
                                + "(IPI port: send + upcall, no backend) %d ns; round trip via dom0 %d ns: %.2fx bare%n",
                        means.group(4), bareMean, selfMean, rttMean, (double) rttMean / bareMean);
            }
            return 0;
        }
    }

    /** {@code n} little-endian longs at guest-physical {@code gpa} (the guest maps itself 1:1). */
    private static long[] read(GuestPhysMemory memory, long gpa, int n) {
        long[] values = new long[n];
        for (int i = 0; i < n; i++) {
            long host = memory.translate(gpa + 8L * i);
            if (host < 0) {
                throw new IllegalStateException("the guest's array at 0x" + Long.toHexString(gpa) + " is not RAM");
            }
            values[i] = memory.host().get(ValueLayout.JAVA_LONG_UNALIGNED, host);
        }
        return values;
    }

    private static long percentile(long[] values, int p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    private static void row(PrintWriter out, String what, long[] values) {
        out.printf("  %-40s %10d %10d %10d%n", what, percentile(values, 50), percentile(values, 99),
                Math.round(Arrays.stream(values).average().orElse(0)));
    }

    private int idle(Accel backend, PrintWriter out) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        var threads = ManagementFactory.getThreadMXBean();
        long[] at = new long[6];
        GuestConsole console = lines(line -> {
            if (line.startsWith("evtchn: idle blocking")) {
                // measured from 1 s into the block: the JVM's own threads (a JIT compile queue, say) settle
                Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(SETTLE_MS);
                    } catch (InterruptedException e) {
                        return;
                    }
                    at[0] = System.nanoTime();
                    at[1] = os.getProcessCpuTime();
                    at[2] = vcpuCpuTime(threads);
                });
            } else if (line.startsWith("evtchn: idle woke")) {
                at[3] = System.nanoTime();
                at[4] = os.getProcessCpuTime();
                at[5] = vcpuCpuTime(threads);
            }
        });
        Platform platform = new Platform(XenVersionInfo.defaults(), console);
        HypercallPage page = new HypercallPage(platform.table(null, java.util.Map.of()));
        Domain domain = platform.newGuest(1);
        try (Machine machine = Machine.create(new Machine.Config(128L << 20, "idle=" + idleMillis,
                Duration.ofMillis(idleMillis + 60_000), domain.domid(), platform.version()), evtchnGuest(), domain, page,
                console, null, backend.factory())) {
            Outcome outcome = machine.run();
            if (at[3] == 0 || at[0] == 0) {
                out.println("  the idle guest did not finish: " + outcome.describe());
                return 1;
            }
            double wall = at[3] - at[0];
            out.printf("  idle guest blocked in SCHEDOP_block, measured over %.0f ms: its vCPU thread %.2f%% of a core, "
                    + "the whole JVM %.2f%%%n", wall / 1e6, 100 * (at[5] - at[2]) / wall, 100 * (at[4] - at[1]) / wall);
            return 0;
        }
    }

    private static long vcpuCpuTime(java.lang.management.ThreadMXBean threads) {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("vcpu0")) {
                return threads.getThreadCpuTime(t.threadId());
            }
        }
        return 0;
    }
}
