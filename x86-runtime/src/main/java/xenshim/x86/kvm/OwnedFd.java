package xenshim.x86.kvm;

/**
 * A file descriptor one object of this package owns ({@link Kvm}, {@link VmFd},
 * {@link VcpuFd}): handed out only while open, closed once.
 */
final class OwnedFd {

    private final String owner;
    private final int fd;
    private boolean closed;

    OwnedFd(String owner, int fd) {
        this.owner = owner;
        this.fd = fd;
    }

    /** The descriptor, for an ioctl. */
    int get() {
        if (closed) {
            throw new IllegalStateException(owner + " is closed");
        }
        return fd;
    }

    boolean isClosed() {
        return closed;
    }

    /** Closes the descriptor; false if it was closed already. */
    boolean close() {
        if (closed) {
            return false;
        }
        closed = true;
        Native.close(fd);
        return true;
    }
}
