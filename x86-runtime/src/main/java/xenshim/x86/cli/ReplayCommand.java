package xenshim.x86.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import xenshim.dispatcher.record.CallLog;
import xenshim.dispatcher.record.CallLogReader;
import xenshim.x86.record.Replay;

/** {@code xenshim replay}: plays a recording's hypercalls against a shim, with no VM, and says what differs. */
@Command(name = "replay", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Plays the hypercalls of a recording (run --record FILE), in order, against the built-in handlers or a "
                    + "plugins folder over them (as run builds its table), with no VM, and prints a line for each "
                    + "difference: call number (from 1), domain, vCPU, hypercall and sub-op, what differs (the "
                    + "result, or the bytes written to the caller's memory, expected and got), then a summary.",
            "",
            "Each call reads the guest memory the recorded call read; the clock is pinned to the readings the "
                    + "recorded call made and timers do not fire; preemption checks are answered as they were; "
                    + "domains come and go and their shared_info and grant frames are set as they were recorded. "
                    + "A read of memory the recording does not have is a difference (the handler gets -EFAULT). "
                    + "Calls that fault injection failed in the recorded run are not played. What the platform "
                    + "writes outside the caller's memory (event bits) is not compared.",
            "",
            "Exit status: 0 no call differs; 3 some call differs; 1 FILE is not a complete recording, cannot "
                    + "be read or cannot be played, or the plugins cannot be loaded; 2 a bad command line."})
final class ReplayCommand implements Callable<Integer> {

    /** What a replay gives as recorded rather than compare, said before the report. */
    static final String NOT_COMPARED = "replay: as recorded, not compared: the clock (each call reads what the "
            + "recorded one read; timers do not fire), preemption, the guest memory read, shared_info and grant "
            + "frames (set before and after each call); not compared: what the platform writes outside a call's "
            + "memory (event bits)";

    /** The exit status when some call differs. */
    static final int DIFFERS = 3;

    @Parameters(paramLabel = "FILE", description = "A recording written by xenshim run --record FILE.")
    Path file;

    @CommandLine.Mixin
    TableSource source = new TableSource();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CallLog.Recording recording = CallLogReader.read(file);
        PrintWriter out = spec.commandLine().getOut();
        CallLog.Platform recorded = recording.platform();
        try (Replay replay = new Replay(recording, source::table)) {
            out.println("replay: " + file + ": recorded " + Instant.ofEpochMilli(recorded.startedMillis())
                    + " with Xen " + recorded.version().major() + "." + recorded.version().minor() + " against "
                    + recorded.table() + "; playing against " + replay.table().name());
            out.println(NOT_COMPARED);
            out.flush();
            Replay.Summary summary;
            try {
                summary = replay.run(out);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(file + ": " + e.getMessage(), e);
            }
            out.println(summary.line(replay.table().name(), recorded.table()));
            out.flush();
            return summary.differing() == 0 ? 0 : DIFFERS;
        }
    }
}
