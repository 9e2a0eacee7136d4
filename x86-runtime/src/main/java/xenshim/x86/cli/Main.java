package xenshim.x86.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code xenshim}: boot Xen guests on KVM with Java hypercall handlers. */
@Command(name = "xenshim", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "A Xen hypercall shim for the JVM: boots Xen PVH guests on KVM, every hypercall served by Java handlers.",
        subcommands = {RunCommand.class, ReplayCommand.class, TableCommand.class, SwapCommand.class, UnswapCommand.class,
                ShimsCommand.class, StatsCommand.class, BenchEventsCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit status, without exiting. */
    public static int execute(String... args) {
        return new CommandLine(new Main())
                .setExecutionExceptionHandler(new Errors())
                .execute(args);
    }

    /** {@link #execute(String...)} with picocli's output and error streams given (tests, embedding). */
    public static int execute(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        return new CommandLine(new Main())
                .setOut(out)
                .setErr(err)
                .setExecutionExceptionHandler(new Errors())
                .execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = Main.class.getModule().getDescriptor() != null
                    ? Main.class.getModule().getDescriptor().rawVersion().orElse("0.1.0") : "0.1.0";
            return new String[] {"xenshim " + version + " (Java " + Runtime.version() + ")"};
        }
    }

    /** A failure is one line on stderr and status 1, not a stack trace (usage errors are 2, from picocli). */
    static final class Errors implements CommandLine.IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception e, CommandLine commandLine, CommandLine.ParseResult parsed) {
            commandLine.getErr().println("xenshim: " + e.getMessage());
            commandLine.getErr().flush();
            return 1;
        }
    }
}
