package xenshim.x86.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where control sockets live, and the checks on that folder. */
class ControlPathsTest {

    @TempDir
    Path dir;

    @Test
    void aPidsSocketIsNamedByThePidInTheUsersFolder() {
        Path folder = ControlPaths.directory();
        String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
        if (runtimeDir != null && !runtimeDir.isBlank() && Files.isDirectory(Path.of(runtimeDir))) {
            assertThat(folder).isEqualTo(Path.of(runtimeDir, "xenshim"));
        } else {
            assertThat(folder).isEqualTo(Path.of(System.getProperty("java.io.tmpdir"), "xenshim-" + ControlPaths.uid()));
        }
        assertThat(ControlPaths.forPid(4711)).isEqualTo(folder.resolve("4711.sock"));
    }

    @Test
    void theFolderMustBeAPrivateDirectoryOfThisUser() throws Exception {
        Path good = Files.createDirectory(dir.resolve("good"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        ControlPaths.checkPrivate(good);

        Path open = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThatThrownBy(() -> ControlPaths.checkPrivate(open))
                .hasMessage("control directory " + open + " has mode 0755; it must be 0700 (chmod 700 " + open + ")");

        Path link = Files.createSymbolicLink(dir.resolve("link"), good);
        assertThatThrownBy(() -> ControlPaths.checkPrivate(link)).hasMessage("control directory " + link + " is not a directory");
        Path file = Files.writeString(dir.resolve("file"), "");
        assertThatThrownBy(() -> ControlPaths.checkPrivate(file)).hasMessage("control directory " + file + " is not a directory");
    }

    @Test
    void onlyLiveProcessesAreListed() throws Exception {
        Path folder = ControlPaths.makeDirectory();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(folder))).isEqualTo("rwx------");
        // a pid no process can have (past Linux's PID_MAX_LIMIT, 2^22): the next free pid was not safe,
        // since a thread started meanwhile takes it, and ProcessHandle sees threads' ids too
        long dead = (1L << 22) + 1;
        assertThat(ProcessHandle.of(dead)).isEmpty();
        Path stale = Files.writeString(folder.resolve(dead + ".sock"), "");
        Path mine = folder.resolve(ProcessHandle.current().pid() + ".sock");
        try (ControlServer server = ControlServer.start(mine, r -> ControlAnswer.ok(java.util.List.of()))) {
            assertThat(ControlPaths.livePids()).contains(ProcessHandle.current().pid()).doesNotContain(dead);
        } finally {
            Files.deleteIfExists(stale);
        }
        assertThat(ControlPaths.livePids()).doesNotContain(ProcessHandle.current().pid());
    }
}
