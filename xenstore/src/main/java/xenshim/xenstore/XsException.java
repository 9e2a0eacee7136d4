package xenshim.xenstore;

/**
 * A request xenstored answered with an error: {@link #error()} is the
 * {@code XS_ERROR} string it sent.
 */
public final class XsException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient XsError error;

    public XsException(XsError error) {
        super(error.name(), null, false, false);
        this.error = error;
    }

    public XsError error() {
        return error;
    }
}
