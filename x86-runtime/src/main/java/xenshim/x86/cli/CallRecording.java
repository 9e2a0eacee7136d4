package xenshim.x86.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import xenshim.api.XenClock;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.record.CallLog;
import xenshim.dispatcher.record.CallLogWriter;
import xenshim.dispatcher.record.HypercallRecorder;
import xenshim.x86.Platform;
import xenshim.x86.record.PlatformCapture;
import xenshim.x86.record.RecordingClock;
import xenshim.x86.time.PlatformTime;

/**
 * {@code run --record FILE}: every hypercall of the run, the guests' and dom0's, written to FILE in
 * the {@link CallLog} format for {@code xenshim replay}. The platform's clock tells the recording
 * what each call read; the page's tap records each call; the file is finished when the run ends,
 * however it ends.
 */
final class CallRecording implements AutoCloseable {

    private final Path file;
    private final PrintWriter err;
    private final RecordingClock clock = new RecordingClock(XenClock.startingNow());
    private HypercallPage page;
    private HypercallRecorder recorder;
    private boolean closed;

    private CallRecording(Path file, PrintWriter err) {
        this.file = file;
        this.err = err;
    }

    /**
     * A recording into {@code file}, not started yet; its {@link #time} goes into the platform.
     *
     * @throws CommandLine.ParameterException if {@code file} cannot be written (status 2)
     */
    static CallRecording prepare(CommandLine.Model.CommandSpec spec, Path file, PrintWriter err) {
        Path target = file.toAbsolutePath();
        Path parent = target.getParent();
        if (Files.isDirectory(target) || parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)
                || (Files.exists(target) && !Files.isWritable(target))) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--record " + file + ": cannot write there ("
                    + (Files.isDirectory(target) ? "a folder" : parent == null || !Files.isDirectory(parent)
                    ? "no folder " + parent : "not writable") + ")");
        }
        return new CallRecording(file, err);
    }

    /** The platform's time for a recorded run: its clock's readings are recorded. */
    PlatformTime time() {
        return new PlatformTime(clock);
    }

    /**
     * Starts recording every call through {@code page}, made on {@code platform}: call it before
     * anything calls.
     */
    void start(CommandLine.Model.CommandSpec spec, Platform platform, HypercallPage onPage) {
        CallLogWriter writer;
        try {
            writer = CallLogWriter.create(file, new CallLog.Platform(platform.version(), clock.wallclockAtZero(),
                    onPage.current().name(), System.currentTimeMillis()));
        } catch (IOException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--record " + file + ": cannot write: "
                    + e.getMessage());
        }
        recorder = new HypercallRecorder(writer, new PlatformCapture(platform.domains()));
        clock.tell(recorder::clockRead);
        page = onPage;
        page.tap(recorder);
    }

    /** Stops recording and finishes the file; says on stderr what was written, or why not. */
    @Override
    public void close() {
        if (closed || recorder == null) {
            return;
        }
        closed = true;
        page.tap(null);
        clock.tell(null);
        try {
            recorder.close();
            err.println("xenshim: --record: " + recorder.calls() + " hypercalls written to " + file + " ("
                    + Files.size(file) + " bytes); play them again with: xenshim replay " + file);
        } catch (IOException e) {
            err.println("xenshim: --record " + file + ": the recording is incomplete: " + e.getMessage());
        } finally {
            err.flush();
        }
    }
}
