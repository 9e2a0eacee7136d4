package xenshim.x86.unicorn;

import java.io.Serial;

/**
 * A Unicorn call failed, or the library is missing. Unchecked, like
 * {@link xenshim.x86.kvm.KvmException}: the message is one line for a human and names the call
 * and the {@code uc_err}, e.g. {@code "uc_mem_map_ptr failed: UC_ERR_MAP (11): Invalid memory
 * mapping (UC_ERR_MAP)"}.
 */
public final class UnicornException extends RuntimeException {
    @Serial
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int error;

    /** A failed call: {@code "<call> failed: <UC_ERR_NAME> (<n>): <uc_strerror>"}. */
    UnicornException(String call, int error, String strerror) {
        super(call + " failed: " + Unicorn.errorName(error) + " (" + error + "): " + strerror);
        this.call = call;
        this.error = error;
    }

    /** Any other failure, with a message already written for a human. */
    UnicornException(String message) {
        super(message);
        this.call = null;
        this.error = 0;
    }

    UnicornException(String message, Throwable cause) {
        super(message, cause);
        this.call = null;
        this.error = 0;
    }

    /** The C function that failed ({@code "uc_open"}), or null. */
    public String call() {
        return call;
    }

    /** The {@code uc_err} the call returned, or 0 ({@code UC_ERR_OK}) if this failure is not one. */
    public int error() {
        return error;
    }
}
