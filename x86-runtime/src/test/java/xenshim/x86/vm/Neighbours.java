package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Accel;
import xenshim.x86.GuestGroup;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;

/**
 * Guests that share one process, booted together as {@code xenshim run a.elf b.elf} boots them (domains
 * 1, 2, ...; dom0's backends for each), with their console captured, each line prefixed {@code (dN) }:
 * what the fault-containment tests run one misbehaving guest and its well-behaved neighbour in.
 */
public final class Neighbours {

    /** How each guest ended, in guest order, and what they printed. */
    public record Result(List<Outcome> outcomes, String console) {

        /**
         * The fields of the one line domain {@code domid} printed as {@code flood: <mode> k=v k=v ...}
         * (the flood guest's result line), in order.
         */
        public Map<String, String> flood(int domid, String mode) {
            List<Map<String, String>> lines = floods(domid, mode);
            assertThat(lines).as("d%d's 'flood: %s' line in:%n%s", domid, mode, console).hasSize(1);
            return lines.getFirst();
        }

        /** The fields of every line domain {@code domid} printed as {@code flood: <mode> k=v ...}. */
        public List<Map<String, String>> floods(int domid, String mode) {
            Matcher line = Pattern.compile("(?m)^\\(d" + domid + "\\) flood: " + mode + " (.*)$").matcher(console);
            List<Map<String, String>> all = new java.util.ArrayList<>();
            while (line.find()) {
                Map<String, String> fields = new LinkedHashMap<>();
                for (String word : line.group(1).split(" ")) {
                    int eq = word.indexOf('=');
                    if (eq > 0) {
                        fields.putIfAbsent(word.substring(0, eq), word.substring(eq + 1));
                    }
                }
                all.add(fields);
            }
            return all;
        }
    }

    final ByteArrayOutputStream captured = new ByteArrayOutputStream();
    final StdoutConsole console = new StdoutConsole(captured).prefixDomains();
    final Platform platform = new Platform(XenVersionInfo.defaults(), console);

    /** Boots the flood guest once per command line, all together. */
    public static List<GuestGroup.Guest> floods(String... cmdlines) throws Exception {
        var images = new java.util.ArrayList<GuestGroup.Guest>();
        for (String cmdline : cmdlines) {
            images.add(new GuestGroup.Guest("flood", BundledGuestsTest.bundled("flood"), cmdline));
        }
        return images;
    }

    /**
     * Runs {@code guests} on {@code page} until each has ended (at most {@code timeout} each), calling
     * {@code meanwhile} on another thread once they have been started.
     */
    public Result run(Accel accel, HypercallPage page, List<GuestGroup.Guest> guests, Duration timeout,
                      Consumer<GuestGroup> meanwhile) throws Exception {
        try (GuestGroup group = GuestGroup.create(platform, page, guests,
                new GuestGroup.Settings(128L << 20, timeout, 1, null, accel.factory()))) {
            Thread side = Thread.ofPlatform().name("meanwhile").start(() -> meanwhile.accept(group));
            List<Outcome> outcomes;
            try {
                outcomes = group.run();
            } finally {
                side.join(Duration.ofSeconds(30));
            }
            console.flush();
            return new Result(outcomes, captured.toString(StandardCharsets.UTF_8));
        }
    }

    /** {@link #run} with nothing done meanwhile. */
    public Result run(Accel accel, HypercallPage page, List<GuestGroup.Guest> guests, Duration timeout)
            throws Exception {
        return run(accel, page, guests, timeout, group -> { });
    }

    /** For messages: the lines of {@code console} of domain {@code domid}. */
    static String linesOf(String console, int domid) {
        return String.join("\n", Arrays.stream(console.split("\n")).filter(l -> l.startsWith("(d" + domid + ") "))
                .toList());
    }

    /** The platform the guests run on: its dom0, store, clock and tables. */
    public Platform platform() {
        return platform;
    }

    /** A fresh set of neighbours; the platform's dom0 and store are its own. */
    public static Neighbours create() {
        return new Neighbours();
    }

    /** The built-in table on a page of its own. */
    public HypercallPage builtIns() {
        return new HypercallPage(platform.table(null, Map.of()));
    }
}
