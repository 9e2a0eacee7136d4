package xenshim.x86.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import xenshim.x86.control.ControlRequest;

/** {@code xenshim swap}: a new shim into a running xenshim. */
@Command(name = "swap", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Swaps a shim into a running xenshim while its guests run: the built-in handlers with the jars in DIR "
                    + "(as run --plugins DIR builds them), or only the built-in modules --builtin names. The shim installed "
                    + "now is saved (xenshim unswap restores it), or with --replace retired and released.",
            "A shim that cannot be built (a broken jar, two jars with one module, a missing requirement, two handlers "
                    + "for one slot without --prefer, a slot out of range, a handler whose constructor throws) is refused "
                    + "with the reason, naming the jar, and nothing changes.",
            "",
            "Exit status: 0 swapped; 1 refused, or no such xenshim (the reason on stderr); 2 bad command line."})
final class SwapCommand implements Callable<Integer> {

    @CommandLine.Mixin
    ControlTarget target = new ControlTarget();

    @Parameters(arity = "0..1", paramLabel = "DIR", description = "A folder of handler module jars.")
    Path dir;

    @Option(names = "--builtin", paramLabel = "MODULE[,MODULE...]", split = ",",
            description = "Instead of DIR: a shim of only these built-in handler modules (xenshim table lists them).")
    List<String> builtin = List.of();

    @Option(names = "--prefer", paramLabel = "NR=MODULE", split = ",",
            description = "Which provider wins a slot claimed twice, by module or class name.")
    List<String> prefer = List.of();

    @Option(names = "--replace",
            description = "Retire the installed shim instead of saving it, and wait (at most 10 s) for its calls to end.")
    boolean replace;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if ((dir == null) == builtin.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "give DIR or --builtin MODULE[,MODULE...], one of them");
        }
        ControlRequest request = ControlRequest.of("swap");
        if (dir != null) {
            if (!Files.isDirectory(dir)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "DIR " + dir + " is not a folder");
            }
            try {
                Preferences.winners(prefer);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            request = request.with("dir", dir.toAbsolutePath().normalize().toString());
            for (String p : prefer) {
                request = request.with("prefer", p);
            }
        } else {
            if (!prefer.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--prefer goes with DIR, not --builtin");
            }
            request = request.with("builtin", String.join(",", builtin));
        }
        if (replace) {
            request = request.with("replace", "");
        }
        return target.send(spec, request);
    }
}
