package xenshim.x86.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import xenshim.x86.control.ControlRequest;

/** {@code xenshim stats}: the live hypercall statistics of a running xenshim. */
@Command(name = "stats", mixinStandardHelpOptions = true,
        description = {"Prints each guest's hypercall statistics of a running xenshim so far, the table xenshim run "
                + "prints at the end.",
            "",
            "Exit status: 0 printed; 1 no such xenshim; 2 bad command line."})
final class StatsCommand implements Callable<Integer> {

    @CommandLine.Mixin
    ControlTarget target = new ControlTarget();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return target.send(spec, ControlRequest.of("stats"));
    }
}
