package xenshim.x86.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import xenshim.x86.control.ControlAnswer;
import xenshim.x86.control.ControlClient;
import xenshim.x86.control.ControlPaths;
import xenshim.x86.control.ControlRequest;

/**
 * Which running xenshim a control command talks to ({@code --pid N}, or {@code --control PATH} for a run
 * given that path), and the talking: one request, the answer on stdout (status 0) or its reason on
 * stderr (status 1).
 */
final class ControlTarget {

    @Option(names = "--pid", paramLabel = "N",
            description = "The xenshim run to control, by process id (xenshim run says it on stderr: xenshim: control: pid N).")
    Long pid;

    @Option(names = "--control", paramLabel = "PATH",
            description = "The control socket of a run started with --control PATH, instead of --pid.")
    Path socket;

    /** Sends {@code request}, prints the answer, and returns the exit status. */
    int send(CommandLine.Model.CommandSpec spec, ControlRequest request) {
        if ((pid == null) == (socket == null)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "say which xenshim: --pid N or --control PATH");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path path = socket != null ? socket : ControlPaths.forPid(pid);
        try {
            if (pid != null && Files.exists(path.getParent(), LinkOption.NOFOLLOW_LINKS)) {
                ControlPaths.checkPrivate(path.getParent()); // never send a request into someone else's folder
            }
            ControlAnswer answer = ControlClient.send(path, request);
            (answer.ok() ? out : err).print(text(answer));
            return answer.ok() ? 0 : 1;
        } catch (ControlClient.Unreachable e) {
            err.println("xenshim: " + unreachable(e, path));
            return 1;
        } catch (IOException e) {
            err.println("xenshim: " + e.getMessage());
            return 1;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static String text(ControlAnswer answer) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < answer.lines().size(); i++) {
            text.append(!answer.ok() && i == 0 ? "xenshim: " : "").append(answer.lines().get(i)).append('\n');
        }
        return text.toString();
    }

    /** Why no answer came, and, when it was looked for by pid, which processes could answer. */
    private String unreachable(ControlClient.Unreachable e, Path path) {
        if (pid == null) {
            return e.getMessage();
        }
        String why = switch (e.failure()) {
            case MISSING -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
                    ? "process " + pid + " has no control socket (" + path + " does not exist): it is not a xenshim "
                            + "run, or one started with --control none or --control PATH, or another user's"
                    : "no process " + pid + " is running (and " + path + " does not exist)";
            case STALE -> "xenshim process " + pid + " has ended: " + e.getMessage();
            case DENIED, OTHER -> e.getMessage();
        };
        if (e.failure() == ControlClient.Failure.MISSING || e.failure() == ControlClient.Failure.STALE) {
            List<Long> live = ControlPaths.livePids();
            why += live.isEmpty() ? "; no xenshim process of yours has a control socket"
                    : "; xenshim processes with one: " + String.join(", ", live.stream().map(String::valueOf).toList());
        }
        return why;
    }
}
