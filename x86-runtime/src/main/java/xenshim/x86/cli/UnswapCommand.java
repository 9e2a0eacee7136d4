package xenshim.x86.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import xenshim.x86.control.ControlRequest;

/** {@code xenshim unswap}: the saved shim back. */
@Command(name = "unswap", mixinStandardHelpOptions = true,
        description = {"Restores the shim the last xenshim swap saved in a running xenshim, retires the installed one "
                + "and waits (at most 10 s) for its calls to end.",
            "",
            "Exit status: 0 restored; 1 nothing is saved, or no such xenshim; 2 bad command line."})
final class UnswapCommand implements Callable<Integer> {

    @CommandLine.Mixin
    ControlTarget target = new ControlTarget();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        return target.send(spec, ControlRequest.of("unswap"));
    }
}
