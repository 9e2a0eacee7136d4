package xenshim.x86.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import xenshim.api.HypercallHandler;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.PluginLayer;
import xenshim.dispatcher.TableBuildException;
import xenshim.x86.Platform;
import xenshim.x86.control.ControlAnswer;
import xenshim.x86.control.ControlRequest;
import xenshim.x86.control.ControlServer;
import xenshim.x86.vm.HypercallStats;
import xenshim.x86.vm.Machine;

/**
 * What a running xenshim does for its control channel ({@link ControlServer}): swap a shim in (the
 * built-in handlers with a plugins folder, as {@code run --plugins DIR} builds it, or some of the
 * built-in modules alone), swap it out, show what is installed and saved, show the guests' statistics.
 *
 * <p>A swap builds the whole table first; anything wrong with it (a broken jar, a conflict, a slot out
 * of range, a constructor that throws) fails the request before the page is touched, so a failed swap
 * changes nothing. Requests are served one at a time, so the answer's "before" is what the swap replaced.
 */
final class ShimControl implements ControlServer.Handler {

    /** How long a swap that retires a shim waits for the calls still running in it. */
    static final Duration DRAIN_WAIT = Duration.ofSeconds(10);

    private final Platform platform;
    private final HypercallPage page;
    private final Supplier<List<Machine>> machines;
    private final Duration drainWait;

    /**
     * @param machines the guests, for {@code stats}
     */
    ShimControl(Platform platform, HypercallPage page, Supplier<List<Machine>> machines) {
        this(platform, page, machines, DRAIN_WAIT);
    }

    ShimControl(Platform platform, HypercallPage page, Supplier<List<Machine>> machines, Duration drainWait) {
        this.platform = platform;
        this.page = page;
        this.machines = machines;
        this.drainWait = drainWait;
    }

    @Override
    public synchronized ControlAnswer handle(ControlRequest request) {
        return switch (request.command()) {
            case "swap" -> swap(request);
            case "unswap" -> unswap(request);
            case "shims" -> shims(request);
            case "stats" -> stats(request);
            default -> ControlAnswer.error("no command '" + request.command() + "'; there are swap, unswap, shims, stats");
        };
    }

    private ControlAnswer swap(ControlRequest request) {
        known(request, "dir", "builtin", "prefer", "replace");
        String dir = request.value("dir");
        String builtin = request.value("builtin");
        if ((dir == null) == (builtin == null)) {
            return ControlAnswer.error("swap wants a plugins folder (dir=) or built-in modules (builtin=), one of them");
        }
        HypercallTable table;
        try {
            table = dir != null ? pluginShim(Path.of(dir), request.values("prefer"))
                    : platform.builtinTable(Arrays.stream(builtin.split(",")).map(String::strip)
                            .filter(m -> !m.isEmpty()).toList());
        } catch (TableBuildException | IllegalArgumentException e) {
            return ControlAnswer.error("swap refused, nothing changed: " + e.getMessage());
        }
        HypercallTable before = page.current();
        List<String> lines = new ArrayList<>();
        if (request.flag("replace")) {
            HypercallPage.Retired retired = page.replaceLcall(table);
            lines.add("replaced " + before.name() + " with " + table.name() + " (saved shims: " + page.depth() + ")");
            lines.addAll(changes(before, table));
            lines.add(drained(retired));
        } else {
            page.registerLcall(table);
            lines.add("installed " + table.name() + " over " + before.name() + ", saved (saved shims: " + page.depth() + ")");
            lines.addAll(changes(before, table));
        }
        return ControlAnswer.ok(lines);
    }

    /**
     * The built-in handlers with the jars of {@code dir}, refused if no jar there serves a slot: a folder
     * of jars that are not handler modules (a plain jar is an automatic module with no handler) would
     * install the built-ins again and say nothing was wrong.
     */
    private HypercallTable pluginShim(Path dir, List<String> prefer) {
        if (!dir.isAbsolute()) {
            throw new IllegalArgumentException("dir " + dir + " is not an absolute path");
        }
        Map<Integer, String> winners = Preferences.winners(prefer);
        HypercallTable table = platform.table(dir, winners);
        boolean served = table.slots().stream()
                .anyMatch(slot -> PluginLayer.jarOf(slot.handler().getClass().getModule()).isPresent());
        if (!served) {
            throw new IllegalArgumentException("no jar in " + dir + " provides a hypercall handler (jars: "
                    + String.join(", ", jarNames(dir)) + ")");
        }
        return table;
    }

    private static List<String> jarNames(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            List<String> jars = files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".jar")).sorted().toList();
            return jars.isEmpty() ? List.of("none") : jars;
        } catch (IOException e) {
            return List.of("unreadable: " + e.getMessage());
        }
    }

    private ControlAnswer unswap(ControlRequest request) {
        known(request);
        List<HypercallTable> saved = page.savedTables();
        if (saved.isEmpty()) {
            return ControlAnswer.error("nothing to unswap: " + page.current().name() + " is installed and no shim is saved");
        }
        HypercallTable before = page.current();
        HypercallPage.Retired retired = page.unregisterLcall();
        List<String> lines = new ArrayList<>();
        lines.add("restored " + page.current().name() + ", retired " + before.name() + " (saved shims: " + page.depth() + ")");
        lines.addAll(changes(before, page.current()));
        lines.add(drained(retired));
        return ControlAnswer.ok(lines);
    }

    private ControlAnswer shims(ControlRequest request) {
        known(request);
        List<String> lines = new ArrayList<>();
        HypercallTable current = page.current();
        List<HypercallTable> saved = page.savedTables();
        lines.add("installed: " + current.name());
        TableCommand.lines(current).forEach(line -> lines.add("  " + line));
        if (saved.isEmpty()) {
            lines.add("saved: none");
        }
        for (int i = 0; i < saved.size(); i++) {
            lines.add("saved " + (i + 1) + " of " + saved.size() + (i == 0 ? " (unswap restores it)" : "") + ": "
                    + saved.get(i).name());
            TableCommand.lines(saved.get(i)).forEach(line -> lines.add("  " + line));
        }
        return ControlAnswer.ok(lines);
    }

    private ControlAnswer stats(ControlRequest request) {
        known(request);
        List<String> lines = new ArrayList<>();
        for (Machine machine : machines.get()) {
            lines.add("d" + machine.domain().domid() + ":");
            StringWriter table = new StringWriter();
            statsOf(machine).print(new PrintWriter(table));
            table.toString().lines().forEach(lines::add);
        }
        if (lines.isEmpty()) {
            lines.add("no guest");
        }
        return ControlAnswer.ok(lines);
    }

    /** A guest's statistics as they are now: the one place that asks a machine for them. */
    private static HypercallStats statsOf(Machine machine) {
        return machine.statsSnapshot();
    }

    /** A line per slot whose handler changes from {@code before} to {@code after}. */
    static List<String> changes(HypercallTable before, HypercallTable after) {
        HypercallTable.Slot[] was = bySlot(before);
        HypercallTable.Slot[] now = bySlot(after);
        List<String> lines = new ArrayList<>();
        for (int nr = 0; nr < Hypercalls.NR_SLOTS; nr++) {
            HypercallHandler old = was[nr] == null ? null : was[nr].handler();
            HypercallHandler next = now[nr] == null ? null : now[nr].handler();
            if (old == null && next == null || old != null && next != null && old.getClass() == next.getClass()) {
                continue;
            }
            lines.add(String.format("  %3d  %-24s %s -> %s", nr, Hypercalls.name(nr), describe(was[nr]), describe(now[nr])));
        }
        if (lines.isEmpty()) {
            lines.add("  no slot changes handler code");
        }
        return lines;
    }

    private static HypercallTable.Slot[] bySlot(HypercallTable table) {
        HypercallTable.Slot[] slots = new HypercallTable.Slot[Hypercalls.NR_SLOTS];
        table.slots().forEach(slot -> slots[slot.nr()] = slot);
        return slots;
    }

    private static String describe(HypercallTable.Slot slot) {
        if (slot == null) {
            return "(empty)";
        }
        String jar = PluginLayer.jarOf(slot.handler().getClass().getModule())
                .map(path -> " (" + path.getFileName() + ")").orElse(" (built-in)");
        return slot.provider().module() + jar;
    }

    private String drained(HypercallPage.Retired retired) {
        try {
            if (retired.await(drainWait)) {
                return "the retired shim " + retired.table().name() + " has no call running: it is released";
            }
            return "the retired shim " + retired.table().name() + " still runs " + retired.table().runningCalls()
                    + " call(s) after " + drainWait.toSeconds() + " s; it is released when they end";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "stopped waiting for the retired shim " + retired.table().name() + " to drain";
        }
    }

    /** Refuses arguments a command does not take (a typo, or a newer client). */
    private static void known(ControlRequest request, String... keys) {
        List<String> unknown = request.unknownKeys(List.of(keys));
        if (!unknown.isEmpty()) {
            throw new ControlRequest.BadRequest(request.command() + " takes no " + String.join(", ", unknown));
        }
    }
}
