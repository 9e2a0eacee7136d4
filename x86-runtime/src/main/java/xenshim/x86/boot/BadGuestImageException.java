package xenshim.x86.boot;

/** A guest image xenshim refuses: the message names the file and the problem. */
public final class BadGuestImageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BadGuestImageException(String message) {
        super(message);
    }
}
