package xenshim.xenstore;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A listening Unix-domain socket file that only its owner can open: mode 0600 from the moment it
 * appears at its path. xenstored's socket for Xen's tools is one; the runtime's control channel
 * ({@code xenshim swap --pid N}) is another, which is why this is public: one place makes such a
 * socket, for both.
 *
 * <p>{@code bind(2)} makes the file with the umask's mode, and a {@code chmod} after it leaves a moment in
 * which another user could connect. So the socket is bound in a fresh directory of mode 0700 beside
 * the path, made 0600 there, and then renamed into place.
 */
public final class PrivateSocket {

    /** {@code st_mode}'s file type bits, and a socket's ({@code <sys/stat.h>}). */
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private PrivateSocket() {
    }

    /**
     * Listens on {@code path}, mode 0600. A socket already there that nobody listens on is a stale one (of
     * a run that ended without removing it) and is replaced; a socket a server listens on, and any other
     * file, is refused.
     *
     * @throws FileAlreadyExistsException if {@code path} is a file that is not a socket, or a live one
     * @throws IOException if the socket cannot be made
     */
    public static ServerSocketChannel bind(Path path) throws IOException {
        removeStaleSocket(path);
        Path parent = path.toAbsolutePath().getParent();
        Path staging = Files.createTempDirectory(parent, ".xenshim-socket-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path bound = staging.resolve("socket");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(bound));
            Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
            Files.move(bound, path, StandardCopyOption.ATOMIC_MOVE);
            return server;
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(bound);
            throw e;
        } finally {
            Files.deleteIfExists(staging);
        }
    }

    /** Whether {@code path} is a socket file (not following a link). */
    public static boolean isSocket(Path path) throws IOException {
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & S_IFMT) == S_IFSOCK;
    }

    /** Removes a socket left at {@code path} by a server that is gone; anything else there is not ours to remove. */
    private static void removeStaleSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!isSocket(path)) {
            throw new FileAlreadyExistsException(path.toString(), null, "exists and is not a socket");
        }
        try (SocketChannel live = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            throw new FileAlreadyExistsException(path.toString(), null, "a server listens on it");
        } catch (ConnectException refused) {
            // nobody listens: stale
        }
        Files.delete(path);
    }
}
