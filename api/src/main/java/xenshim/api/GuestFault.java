package xenshim.api;

/**
 * A guest address that the caller cannot access: unmapped, outside its
 * memory, or read-only for a write. The dispatcher turns it into
 * {@code -XEN_EFAULT} for the guest, as Xen's {@code copy_from_guest} does.
 * Carries no stack trace: it is an expected outcome of hostile input, not a
 * bug.
 */
public final class GuestFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long address;

    public GuestFault(long address, String what) {
        super(what + " at guest address 0x" + Long.toHexString(address), null, false, false);
        this.address = address;
    }

    /** The first address that could not be accessed. */
    public long address() {
        return address;
    }
}
