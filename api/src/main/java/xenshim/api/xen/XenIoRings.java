package xenshim.api.xen;

/**
 * The shared rings of the console ({@code xen/io/console.h}) and the store ({@code xen/io/xs_wire.h})
 * pages that dom0 maps through the reserved grant entries. Their layouts are {@code xencons_interface}
 * and {@code xenstore_domain_interface} in {@link xenshim.api.abi.AbiLayouts}.
 */
public final class XenIoRings {

    public static final int XENSTORE_RING_SIZE = 1024;
    public static final int XENSTORE_PAYLOAD_MAX = 4096;
    public static final int XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
    public static final int XENSTORE_SERVER_FEATURE_ERROR = 2;
    public static final int XENSTORE_CONNECTED = 0;
    public static final int XENSTORE_RECONNECT = 1;

    /**
     * The size of {@code xencons_interface.in} (guest input): the header has no name for it, only the
     * array; {@code XenIoRingsTest} checks it against the probed layout.
     */
    @NotInHeaders
    public static final int XENCONS_IN_SIZE = 1024;
    /** The size of {@code xencons_interface.out} (guest output). */
    @NotInHeaders
    public static final int XENCONS_OUT_SIZE = 2048;

    private XenIoRings() {
    }
}
