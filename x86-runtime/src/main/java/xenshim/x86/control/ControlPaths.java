package xenshim.x86.control;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where a {@code xenshim run} listens for control requests, so that {@code xenshim swap --pid N} finds
 * it from the pid alone: {@code N.sock} in one directory per user, {@code $XDG_RUNTIME_DIR/xenshim}
 * (a directory the login session made for this user alone) or else
 * {@code <java.io.tmpdir>/xenshim-<uid>}.
 *
 * <p>That directory is mode 0700 and owned by the user, and both ends check it: in a shared temporary
 * directory another user could have made {@code xenshim-<uid>} first, to plant a socket of their own
 * where a client would send its requests, or to read them.
 */
public final class ControlPaths {

    private static final String SUFFIX = ".sock";

    private ControlPaths() {
    }

    /** The user's control directory (it may not exist yet). */
    public static Path directory() {
        String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
        if (runtimeDir != null && !runtimeDir.isBlank() && Files.isDirectory(Path.of(runtimeDir))) {
            return Path.of(runtimeDir, "xenshim");
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "xenshim-" + uid());
    }

    /** Where process {@code pid} listens, by default. */
    public static Path forPid(long pid) {
        return directory().resolve(pid + SUFFIX);
    }

    /** This process's user id. */
    public static long uid() {
        return new UnixSystem().getUid();
    }

    /**
     * Makes the control directory if it is missing (mode 0700) and checks it as {@link #checkPrivate}
     * does.
     *
     * @return the directory
     */
    public static Path makeDirectory() throws IOException {
        Path dir = directory();
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException exists) {
            // made by an earlier run, or by someone else: checked next
        }
        checkPrivate(dir);
        return dir;
    }

    /**
     * Checks that {@code dir} is a directory (not a link to one), owned by this user, that no one else
     * may enter or write.
     *
     * @throws IOException naming the directory and what is wrong with it
     */
    public static void checkPrivate(Path dir) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("control directory " + dir + " is not a directory");
        }
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if (owner != uid()) {
            throw new IOException("control directory " + dir + " belongs to uid " + owner + ", not to you (uid " + uid()
                    + "); remove it, or give --control PATH");
        }
        if ((mode & 077) != 0) {
            throw new IOException("control directory " + dir + " has mode " + String.format("%04o", mode & 07777)
                    + "; it must be 0700 (chmod 700 " + dir + ")");
        }
    }

    /** The pids of the live processes with a socket in the control directory, in order. */
    public static List<Long> livePids() {
        Path dir = directory();
        List<Long> pids = new ArrayList<>();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return pids;
        }
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.sorted().toList()) {
                String name = file.getFileName().toString();
                if (!name.endsWith(SUFFIX)) {
                    continue;
                }
                try {
                    long pid = Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
                    if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                        pids.add(pid);
                    }
                } catch (NumberFormatException notOurs) {
                    // not a pid's socket
                }
            }
        } catch (IOException e) {
            return pids;
        }
        pids.sort(null);
        return pids;
    }
}
