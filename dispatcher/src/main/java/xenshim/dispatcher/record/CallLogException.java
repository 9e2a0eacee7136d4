package xenshim.dispatcher.record;

import java.io.IOException;

/**
 * A file that is not a complete {@link CallLog} recording, or cannot be read: the message names
 * the file and says what is wrong with it (and where), for one line on stderr.
 */
public final class CallLogException extends IOException {
    private static final long serialVersionUID = 1L;

    public CallLogException(String message) {
        super(message);
    }

    public CallLogException(String message, Throwable cause) {
        super(message, cause);
    }
}
