package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.x86.Platform;
import xenshim.x86.control.ControlPaths;
import xenshim.x86.control.ControlServer;

/**
 * Another user's {@code xenshim swap}, in a process of that user ({@code setpriv} to uid 65534), is
 * refused: by the socket's folder and mode (the kernel says EACCES), and, where those were opened up,
 * by the server's check of the peer's credentials ({@code SO_PEERCRED}). Needs root, to become another
 * user, and util-linux's {@code setpriv}; skipped, saying which, without them.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ControlOtherUserTest {

    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    private static final String NOBODY = "65534";

    @TempDir
    Path work;

    private Path shared;
    private String[] readablePaths;
    private Platform platform;
    private HypercallPage page;

    @BeforeEach
    void setUp() throws Exception {
        Assumptions.assumeTrue(ControlPaths.uid() == 0, "needs root, to run a client as another user (uid 65534)");
        Assumptions.assumeTrue(Files.isExecutable(SETPRIV), "needs setpriv (util-linux) to run a client as another user");
        // the other user cannot read the build's folders or the Maven repository: a copy it can
        shared = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "xenshim-other-user-");
        readablePaths = XenshimProcess.readableCopy(shared);
        platform = new Platform(XenVersionInfo.defaults(), (d, b, o, l) -> { });
        page = new HypercallPage(platform.table(null, Map.of()));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (shared != null) {
            try (Stream<Path> walk = Files.walk(shared)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /** {@code xenshim ARGS} as uid 65534: its status and stderr. */
    private String[] asAnotherUser(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(SETPRIV.toString(), "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups"));
        command.addAll(XenshimProcess.commandOn(readablePaths[0], readablePaths[1], args));
        try (XenshimProcess client = XenshimProcess.start(command, work)) {
            int status = client.waitFor(Duration.ofSeconds(120));
            return new String[] {String.valueOf(status), client.stderr(), client.stdout()};
        }
    }

    private void assertUnchanged(HypercallTable installed) {
        assertThat(page.current()).isSameAs(installed);
        assertThat(page.depth()).isZero();
    }

    @Test
    void anotherUserCannotReachTheSocketInItsPrivateFolder() throws Exception {
        Path folder = Files.createDirectory(work.resolve("private"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x")); // only the folder keeps it out
        Path plugins = Files.createDirectories(shared.resolve("plugins"));
        HypercallTable installed = page.current();
        try (ControlServer server = ControlServer.start(folder.resolve("1.sock"), new ShimControl(platform, page, List::of))) {
            String[] swap = asAnotherUser("swap", "--control", server.path().toString(), plugins.toString());
            assertThat(swap[1]).isEqualTo("xenshim: " + server.path() + ": permission denied: only the user who runs that "
                    + "xenshim may use its control socket\n");
            assertThat(swap[0]).isEqualTo("1");
            assertUnchanged(installed);
        }
    }

    @Test
    void anotherUserThatReachesAnOpenedSocketIsRefusedByItsCredentials() throws Exception {
        Path folder = Files.createDirectory(work.resolve("opened"));
        HypercallTable installed = page.current();
        try (ControlServer server = ControlServer.start(folder.resolve("1.sock"), new ShimControl(platform, page, List::of))) {
            // someone widened the modes: the kernel lets the other user connect, the server does not
            Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(server.path(), PosixFilePermissions.fromString("rw-rw-rw-"));
            String[] unswap = asAnotherUser("unswap", "--control", server.path().toString());
            String owner = Files.getOwner(server.path()).getName();
            assertThat(unswap[1]).isEqualTo("xenshim: refused: user nobody may not control xenshim process "
                    + ProcessHandle.current().pid() + ", which runs as " + owner + "; only the same user may\n");
            assertThat(unswap[0]).isEqualTo("1");
            assertThat(unswap[2]).isEmpty();
            assertUnchanged(installed);
            // and its owner still may
            assertThat(Main.execute(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), "swap",
                    "--control", server.path().toString(), "--builtin", "xenshim.handlers.version")).isZero();
            assertThat(page.depth()).isEqualTo(1);
        }
    }
}
