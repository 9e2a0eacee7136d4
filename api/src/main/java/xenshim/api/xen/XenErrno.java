package xenshim.api.xen;

/**
 * Xen's errno values ({@code xen/errno.h}). Handlers return them negated:
 * {@code return -XEN_EINVAL;}. The values are Xen's, which match Linux's on
 * x86 but are an ABI of their own.
 */
public final class XenErrno {

    /** Operation not permitted */
    public static final int XEN_EPERM = 1;
    /** No such file or directory */
    public static final int XEN_ENOENT = 2;
    /** No such process */
    public static final int XEN_ESRCH = 3;
    /** I/O error */
    public static final int XEN_EIO = 5;
    /** No such device or address */
    public static final int XEN_ENXIO = 6;
    /** Arg list too long */
    public static final int XEN_E2BIG = 7;
    /** Exec format error */
    public static final int XEN_ENOEXEC = 8;
    /** Bad file number */
    public static final int XEN_EBADF = 9;
    /** No child processes */
    public static final int XEN_ECHILD = 10;
    /** Try again */
    public static final int XEN_EAGAIN = 11;
    /** Operation would block.  Aliases EAGAIN */
    public static final int XEN_EWOULDBLOCK = 11;
    /** Out of memory */
    public static final int XEN_ENOMEM = 12;
    /** Permission denied */
    public static final int XEN_EACCES = 13;
    /** Bad address */
    public static final int XEN_EFAULT = 14;
    /** Device or resource busy */
    public static final int XEN_EBUSY = 16;
    /** File exists */
    public static final int XEN_EEXIST = 17;
    /** Cross-device link */
    public static final int XEN_EXDEV = 18;
    /** No such device */
    public static final int XEN_ENODEV = 19;
    /** Not a directory */
    public static final int XEN_ENOTDIR = 20;
    /** Is a directory */
    public static final int XEN_EISDIR = 21;
    /** Invalid argument */
    public static final int XEN_EINVAL = 22;
    /** File table overflow */
    public static final int XEN_ENFILE = 23;
    /** Too many open files */
    public static final int XEN_EMFILE = 24;
    /** No space left on device */
    public static final int XEN_ENOSPC = 28;
    /** Read-only file system */
    public static final int XEN_EROFS = 30;
    /** Too many links */
    public static final int XEN_EMLINK = 31;
    /** Math argument out of domain of func */
    public static final int XEN_EDOM = 33;
    /** Math result not representable */
    public static final int XEN_ERANGE = 34;
    /** Resource deadlock would occur */
    public static final int XEN_EDEADLK = 35;
    /** Resource deadlock would occur. Aliases EDEADLK */
    public static final int XEN_EDEADLOCK = 35;
    /** File name too long */
    public static final int XEN_ENAMETOOLONG = 36;
    /** No record locks available */
    public static final int XEN_ENOLCK = 37;
    /** Function not implemented */
    public static final int XEN_ENOSYS = 38;
    /** Directory not empty */
    public static final int XEN_ENOTEMPTY = 39;
    /** No data available */
    public static final int XEN_ENODATA = 61;
    /** Timer expired */
    public static final int XEN_ETIME = 62;
    /** Not a data message */
    public static final int XEN_EBADMSG = 74;
    /** Value too large for defined data type */
    public static final int XEN_EOVERFLOW = 75;
    /** Illegal byte sequence */
    public static final int XEN_EILSEQ = 84;
    /** Socket operation on non-socket */
    public static final int XEN_ENOTSOCK = 88;
    /** Message too large. */
    public static final int XEN_EMSGSIZE = 90;
    /** Operation not supported on transport endpoint */
    public static final int XEN_EOPNOTSUPP = 95;
    /** Address already in use */
    public static final int XEN_EADDRINUSE = 98;
    /** Cannot assign requested address */
    public static final int XEN_EADDRNOTAVAIL = 99;
    /** No buffer space available */
    public static final int XEN_ENOBUFS = 105;
    /** Transport endpoint is already connected */
    public static final int XEN_EISCONN = 106;
    /** Transport endpoint is not connected */
    public static final int XEN_ENOTCONN = 107;
    /** Connection timed out */
    public static final int XEN_ETIMEDOUT = 110;
    /** Connection refused */
    public static final int XEN_ECONNREFUSED = 111;

    private static final String[] NAMES = Constants.namesByValue(XenErrno.class, "XEN_", 128);

    private XenErrno() {
    }

    /** Whether {@code value} (positive) is one of Xen's errno values: what a negative hypercall result may be. */
    public static boolean isErrno(long value) {
        return value > 0 && value < NAMES.length && NAMES[(int) value] != null;
    }

    /**
     * Describes a hypercall result for logs and traces: {@code "-EINVAL"} for
     * a negative Xen errno, else the number.
    */
    public static String describe(long result) {
        if (result < 0 && result > -NAMES.length && NAMES[(int) -result] != null) {
            return "-" + NAMES[(int) -result];
        }
        return Long.toString(result);
    }
}
