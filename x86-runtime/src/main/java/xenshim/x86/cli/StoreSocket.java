package xenshim.x86.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import xenshim.xenstore.XsSocketServer;
import xenshim.xenstore.Xenstored;

/**
 * The store's Unix-domain socket for Xen's own tools while guests run ({@code XENSTORED_PATH}), mode
 * 0600. By default it is made in a fresh directory of mode 0700, a path no other run uses. Closing it
 * removes the socket and that directory.
 */
final class StoreSocket implements AutoCloseable {

    private final XsSocketServer server;
    private final Path ownDirectory;

    private StoreSocket(XsSocketServer server, Path ownDirectory) {
        this.server = server;
        this.ownDirectory = ownDirectory;
    }

    /**
     * @param path where to listen; null for {@code xenstored} in a fresh private directory under
     *             {@code $XDG_RUNTIME_DIR}, else the temporary directory
     * @throws IOException naming the path, if the socket cannot be made
     */
    static StoreSocket open(Xenstored store, Path path) throws IOException {
        Path ownDirectory = null;
        if (path == null) {
            String runtimeDir = System.getenv("XDG_RUNTIME_DIR");
            Path parent = runtimeDir != null && Files.isDirectory(Path.of(runtimeDir)) ? Path.of(runtimeDir)
                    : Path.of(System.getProperty("java.io.tmpdir"));
            ownDirectory = Files.createTempDirectory(parent, "xenshim-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            path = ownDirectory.resolve("xenstored");
        }
        try {
            return new StoreSocket(XsSocketServer.start(store, path), ownDirectory);
        } catch (IOException e) {
            if (ownDirectory != null) {
                Files.deleteIfExists(ownDirectory);
            }
            throw new IOException("--xenstore-socket " + path + ": " + e.getMessage(), e);
        }
    }

    Path path() {
        return server.path();
    }

    @Override
    public void close() throws IOException {
        server.close();
        if (ownDirectory != null) {
            Files.deleteIfExists(ownDirectory);
        }
    }
}
