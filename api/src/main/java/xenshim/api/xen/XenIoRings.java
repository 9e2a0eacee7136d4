package xenshim.api.xen;

/**
 * The shared rings of the console ({@code xen/io/console.h}) and the store ({@code xen/io/xs_wire.h})
 * pages that dom0 maps through the reserved grant entries. Their layouts are {@code xencons_interface}
 * and {@code xenstore_domain_interface} in {@link xenshim.api.abi.AbiLayouts}.
 */
public final class XenIoRings {

    /** The size of each of the store page's rings; the protocol's own numbers are the xenstore module's. */
    public static final int XENSTORE_RING_SIZE = 1024;

    /**
     * The size of {@code xencons_interface.in} (guest input): the header has no name for it, only the
     * array; {@code XenGnttabTest} checks it against the probed layout.
     */
    @NotInHeaders
    public static final int XENCONS_IN_SIZE = 1024;
    /** The size of {@code xencons_interface.out} (guest output). */
    @NotInHeaders
    public static final int XENCONS_OUT_SIZE = 2048;

    private XenIoRings() {
    }
}
