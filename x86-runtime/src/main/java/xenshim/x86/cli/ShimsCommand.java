package xenshim.x86.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import xenshim.x86.control.ControlRequest;

/** {@code xenshim shims}: what a running xenshim has installed and saved. */
@Command(name = "shims", mixinStandardHelpOptions = true,
        description = {"Lists the shim a running xenshim has installed (its name, then each slot's handler, as xenshim "
                + "table prints them), then the saved shims, the one xenshim unswap restores first.",
            "",
            "Exit status: 0 listed; 1 no such xenshim; 2 bad command line."})
final class ShimsCommand implements Callable<Integer> {

    @CommandLine.Mixin
    ControlTarget target = new ControlTarget();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return target.send(spec, ControlRequest.of("shims"));
    }
}
