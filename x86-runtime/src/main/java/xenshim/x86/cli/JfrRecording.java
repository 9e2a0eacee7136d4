package xenshim.x86.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.List;
import jdk.jfr.Configuration;
import jdk.jfr.Recording;
import picocli.CommandLine;

/**
 * {@code run --jfr FILE}: a flight recording of the run, with the JDK's default settings and
 * every xenshim event ({@code xenshim.Hypercall}, {@code xenshim.TableChange},
 * {@code xenshim.PluginLoad}), written to FILE when the run ends, however it ends.
 */
final class JfrRecording implements AutoCloseable {

    static final List<String> EVENTS = List.of("xenshim.Hypercall", "xenshim.TableChange", "xenshim.PluginLoad");

    private final Recording recording;
    private final Path file;
    private final PrintWriter err;
    private boolean closed;

    private JfrRecording(Recording recording, Path file, PrintWriter err) {
        this.recording = recording;
        this.file = file;
        this.err = err;
    }

    /**
     * Starts recording into {@code file}.
     *
     * @throws CommandLine.ParameterException if {@code file} cannot be written (status 2)
     */
    static JfrRecording start(CommandLine.Model.CommandSpec spec, Path file, PrintWriter err) {
        Path target = file.toAbsolutePath();
        if (Files.isDirectory(target) || (Files.exists(target) && !Files.isWritable(target))
                || target.getParent() == null || !Files.isDirectory(target.getParent())
                || !Files.isWritable(target.getParent())) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--jfr " + file + ": cannot write there (" + why(target) + ")");
        }
        Configuration defaults;
        try {
            defaults = Configuration.getConfiguration("default");
        } catch (IOException | ParseException e) {
            throw new IllegalStateException("--jfr: the JDK's default JFR settings cannot be read: " + e.getMessage(), e);
        }
        Recording recording = new Recording(defaults);
        recording.setName("xenshim run");
        for (String event : EVENTS) {
            recording.enable(event).withoutThreshold();
        }
        try {
            // also written by JFR's own shutdown hook if the JVM ends first (Ctrl-C)
            recording.setDestination(target);
        } catch (IOException e) {
            recording.close();
            throw new CommandLine.ParameterException(spec.commandLine(), "--jfr " + file + ": cannot write there ("
                    + e.getMessage() + ")");
        }
        recording.setDumpOnExit(true);
        recording.start();
        return new JfrRecording(recording, file, err);
    }

    private static String why(Path target) {
        if (Files.isDirectory(target)) {
            return "a folder";
        }
        Path parent = target.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return "no folder " + parent;
        }
        return "not writable";
    }

    /** Stops the recording, which writes FILE, and says where it went (or why it did not). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            recording.stop();
            if (Files.size(file) == 0) {
                err.println("xenshim: --jfr " + file + ": the recording was not written");
            } else {
                err.println("xenshim: --jfr: flight recording written to " + file
                        + " (JDK Mission Control, or: jfr print --events xenshim.Hypercall " + file + ")");
            }
        } catch (IOException | RuntimeException e) {
            err.println("xenshim: --jfr " + file + ": the recording was not written: " + e.getMessage());
        } finally {
            recording.close();
            err.flush();
        }
    }
}
