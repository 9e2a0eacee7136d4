package xenshim.xenstore;

/**
 * The errors xenstored sends, as the strings of {@code xsd_errors} in
 * {@code xs_wire.h}, in the header's order (the first, EINVAL, is what an
 * untranslatable error becomes). An {@code XS_ERROR} reply carries the name
 * and a NUL.
 */
public enum XsError {
    EINVAL, EACCES, EEXIST, EISDIR, ENOENT, ENOMEM, ENOSPC, EIO, ENOTEMPTY, ENOSYS, EROFS, EBUSY, EAGAIN, EISCONN,
    E2BIG, EPERM;

    /** The error a reply names, or {@code null} if the name is not in the table. */
    public static XsError byName(String name) {
        for (XsError error : values()) {
            if (error.name().equals(name)) {
                return error;
            }
        }
        return null;
    }
}
