package xenshim.cprobe;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code gcc}, and only {@code gcc}: the one program the probe tests
 * start. The command always begins with {@code gcc}, so no test can run a
 * program gcc built (a 32-bit probe would fail with ENOEXEC on kernels
 * without 32-bit support).
 */
final class Gcc {

    static final long TIMEOUT_SECONDS = 60;

    private Gcc() {
    }

    /**
     * What one gcc run did: {@code started} is false if gcc could not be
     * started at all (not installed), {@code timedOut} if it was killed after
     * {@link #TIMEOUT_SECONDS}.
     */
    record Result(boolean started, boolean timedOut, int exitCode, String stderr) {

        boolean succeeded() {
            return started && !timedOut && exitCode == 0;
        }

        /** Why it did not succeed, for a skip or failure message. */
        String problem() {
            if (!started) {
                return "gcc could not be started (not installed?)";
            }
            if (timedOut) {
                return "gcc did not finish in " + TIMEOUT_SECONDS + " s";
            }
            return "gcc exited with " + exitCode + (stderr.isBlank() ? "" : ":\n" + stderr.strip());
        }
    }

    /**
     * Runs {@code gcc args...} in {@code dir}, with a timeout; stdout and
     * stderr go to files so neither pipe can fill up and block it.
     */
    static Result run(Path dir, List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("gcc");
        command.addAll(args);
        Path out = Files.createTempFile(dir, "gcc", ".out");
        Path err = Files.createTempFile(dir, "gcc", ".err");
        Process process;
        try {
            process = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).start();
        } catch (IOException cannotStart) {
            return new Result(false, false, -1, cannotStart.getMessage());
        }
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
            return new Result(true, true, -1, "");
        }
        return new Result(true, false, process.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    }
}
