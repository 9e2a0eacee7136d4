package xenshim.x86.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.HypercallTable;
import xenshim.api.XenVersionInfo;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;

/** {@code xenshim table}: what serves each slot. */
@Command(name = "table", mixinStandardHelpOptions = true,
        description = "Lists the filled hypercall slots: number, Xen's name, and the module and class serving it.")
final class TableCommand implements Callable<Integer> {

    @Option(names = "--plugins", paramLabel = "DIR",
            description = "A folder of handler module jars layered over the built-in handlers.")
    Path plugins;

    @Option(names = "--prefer", paramLabel = "NR=MODULE", split = ",",
            description = "Which provider wins a slot claimed twice, by module or class name.")
    List<String> prefer = List.of();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        HypercallTable table = new Platform(XenVersionInfo.defaults(), StdoutConsole.stdout()).table(plugins, Preferences.parse(prefer));
        PrintWriter out = spec.commandLine().getOut();
        for (HypercallTable.Slot slot : table.slots()) {
            out.printf("%3d  %-24s %s  %s%n", slot.nr(), Hypercalls.name(slot.nr()),
                    slot.provider().module(), slot.provider().className());
        }
        out.printf("%d of %d slots filled%n", table.slots().size(), Hypercalls.NR_SLOTS);
        out.flush();
        return 0;
    }
}
