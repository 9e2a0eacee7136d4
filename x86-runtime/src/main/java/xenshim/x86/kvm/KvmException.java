package xenshim.x86.kvm;

import java.io.Serial;

/**
 * A KVM system call failed. Unchecked: there is nothing sensible a caller can do
 * but report it. The message is one line, for a human, and names the ioctl and the
 * errno, e.g. {@code "KVM_CREATE_VM failed: EACCES (13)"}; callers print
 * {@link #getMessage()} and need no stack trace.
 */
public final class KvmException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Linux errno names, indexed by number (asm-generic/errno-base.h, errno.h). */
    private static final String[] ERRNO_NAMES = {
        null, "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF",
        "ECHILD", "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV",
        "ENOTDIR", "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE",
        "EROFS", "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS", "ENOTEMPTY",
        "ELOOP", null, "ENOMSG", "EIDRM", "ECHRNG", "EL2NSYNC", "EL3HLT", "EL3RST", "ELNRNG", "EUNATCH",
        "ENOCSI", "EL2HLT", "EBADE", "EBADR", "EXFULL", "ENOANO", "EBADRQC", "EBADSLT", null, "EBFONT",
        "ENOSTR", "ENODATA", "ETIME", "ENOSR", "ENONET", "ENOPKG", "EREMOTE", "ENOLINK", "EADV", "ESRMNT",
        "ECOMM", "EPROTO", "EMULTIHOP", "EDOTDOT", "EBADMSG", "EOVERFLOW", "ENOTUNIQ", "EBADFD", "EREMCHG", "ELIBACC",
        "ELIBBAD", "ELIBSCN", "ELIBMAX", "ELIBEXEC", "EILSEQ", "ERESTART", "ESTRPIPE", "EUSERS", "ENOTSOCK", "EDESTADDRREQ",
        "EMSGSIZE", "EPROTOTYPE", "ENOPROTOOPT", "EPROTONOSUPPORT", "ESOCKTNOSUPPORT", "EOPNOTSUPP", "EPFNOSUPPORT", "EAFNOSUPPORT", "EADDRINUSE", "EADDRNOTAVAIL",
        "ENETDOWN", "ENETUNREACH", "ENETRESET", "ECONNABORTED", "ECONNRESET", "ENOBUFS", "EISCONN", "ENOTCONN", "ESHUTDOWN", "ETOOMANYREFS",
        "ETIMEDOUT", "ECONNREFUSED", "EHOSTDOWN", "EHOSTUNREACH", "EALREADY", "EINPROGRESS", "ESTALE", "EUCLEAN", "ENOTNAM", "ENAVAIL",
        "EISNAM", "EREMOTEIO", "EDQUOT", "ENOMEDIUM", "EMEDIUMTYPE", "ECANCELED", "ENOKEY", "EKEYEXPIRED", "EKEYREVOKED", "EKEYREJECTED",
        "EOWNERDEAD", "ENOTRECOVERABLE", "ERFKILL", "EHWPOISON",
    };

    /** errno values this package tests for. */
    static final int EPERM = 1, ENOENT = 2, EINTR = 4, ENXIO = 6, E2BIG = 7, EAGAIN = 11, EACCES = 13,
            EEXIST = 17, ENODEV = 19, EINVAL = 22;

    private final String call;
    private final int errno;

    /** A failed call: {@code "<call> failed: <ENAME> (<n>)"}. */
    KvmException(String call, int errno) {
        super(call + " failed: " + errnoName(errno) + " (" + errno + ")");
        this.call = call;
        this.errno = errno;
    }

    /** Any other failure, with a message already written for a human. */
    KvmException(String message) {
        super(message);
        this.call = null;
        this.errno = 0;
    }

    /** The ioctl or libc call that failed ({@code "KVM_RUN"}, {@code "mmap"}), or null. */
    public String call() {
        return call;
    }

    /** The errno the call failed with, or 0 if this failure is not an errno. */
    public int errno() {
        return errno;
    }

    /** The symbolic name of a Linux errno, e.g. {@code EEXIST}; {@code "errno <n>"} if unknown. */
    public static String errnoName(int errno) {
        if (errno > 0 && errno < ERRNO_NAMES.length && ERRNO_NAMES[errno] != null) {
            return ERRNO_NAMES[errno];
        }
        return "errno " + errno;
    }
}
