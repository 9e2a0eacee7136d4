package xenshim.x86.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.HypercallTable;
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
        for (HypercallTable.Slot slot : table.slots()) {
            out.printf("%3d  %-24s %-26s %s%n", slot.nr(), Hypercalls.name(slot.nr()),
                    slot.provider().module(), slot.provider().className());
        }
        out.printf("%d of %d slots filled%n", table.slots().size(), Hypercalls.NR_SLOTS);
        out.flush();
        return 0;
    }
}
