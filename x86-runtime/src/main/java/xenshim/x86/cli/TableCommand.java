package xenshim.x86.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.PluginLayer;
import xenshim.api.XenVersionInfo;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;

/** {@code xenshim table}: what serves each slot. */
@Command(name = "table", mixinStandardHelpOptions = true,
        description = "Lists the filled hypercall slots: number, Xen's name, and the module and class serving it.")
final class TableCommand implements Callable<Integer> {

    @CommandLine.Mixin
    TableSource source = new TableSource();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        HypercallTable table = source.table(new Platform(XenVersionInfo.defaults(), StdoutConsole.stdout()));
        PrintWriter out = spec.commandLine().getOut();
        lines(table).forEach(out::println);
        out.flush();
        return 0;
    }

    /** The table as {@code xenshim table} prints it: a line per filled slot, then how many are filled. */
    static List<String> lines(HypercallTable table) {
        List<String> lines = new ArrayList<>();
        for (HypercallTable.Slot slot : table.slots()) {
            lines.add(line(slot));
        }
        lines.add(table.slots().size() + " of " + Hypercalls.NR_SLOTS + " slots filled");
        return lines;
    }

    /**
     * One slot: number, Xen's name, module, class, and for a handler from a plugin jar, the jar (a new
     * version of a built-in module has the built-in's names; the jar tells them apart).
     */
    static String line(HypercallTable.Slot slot) {
        String jar = PluginLayer.jarOf(slot.handler().getClass().getModule())
                .map(path -> "  (" + path.getFileName() + ")").orElse("");
        return String.format("%3d  %-24s %-26s %s%s", slot.nr(), Hypercalls.name(slot.nr()),
                slot.provider().module(), slot.provider().className(), jar);
    }
}
