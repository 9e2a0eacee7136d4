package xenshim.xenstore;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.ByteOrder;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.XenIoRings;

/**
 * The xenstore wire protocol, as {@code xen/include/public/io/xs_wire.h}
 * defines it (and the permission bits of {@code xenstore_lib.h}). Every
 * number here is checked against the headers by {@code XsWireProbeTest}.
 */
public final class XsWire {

    private XsWire() {
    }

    // ---- enum xsd_sockmsg_type ------------------------------------------------

    public static final int XS_CONTROL = 0;
    /** An old name of {@link #XS_CONTROL}. */
    public static final int XS_DEBUG = XS_CONTROL;
    public static final int XS_DIRECTORY = 1;
    public static final int XS_READ = 2;
    public static final int XS_GET_PERMS = 3;
    public static final int XS_WATCH = 4;
    public static final int XS_UNWATCH = 5;
    public static final int XS_TRANSACTION_START = 6;
    public static final int XS_TRANSACTION_END = 7;
    public static final int XS_INTRODUCE = 8;
    public static final int XS_RELEASE = 9;
    public static final int XS_GET_DOMAIN_PATH = 10;
    public static final int XS_WRITE = 11;
    public static final int XS_MKDIR = 12;
    public static final int XS_RM = 13;
    public static final int XS_SET_PERMS = 14;
    public static final int XS_WATCH_EVENT = 15;
    public static final int XS_ERROR = 16;
    public static final int XS_IS_DOMAIN_INTRODUCED = 17;
    public static final int XS_RESUME = 18;
    public static final int XS_SET_TARGET = 19;
    /* 20 was XS_RESTRICT, removed: xenstored answers ENOSYS. */
    public static final int XS_RESET_WATCHES = 21;
    public static final int XS_DIRECTORY_PART = 22;
    /** The number of valid types: anything at or above is answered ENOSYS. */
    public static final int XS_TYPE_COUNT = 23;
    public static final int XS_INVALID = 0xffff;

    // ---- enum xs_watch_type: the strings of an XS_WATCH_EVENT ----------------

    public static final int XS_WATCH_PATH = 0;
    public static final int XS_WATCH_TOKEN = 1;

    // ---- XS_WRITE flags (strings; checked against the header's text) ----------

    public static final String XS_WRITE_NONE = "NONE";
    public static final String XS_WRITE_CREATE = "CREATE";
    public static final String XS_WRITE_CREATE_EXCL = "CREATE|EXCL";

    // ---- the ring page --------------------------------------------------------

    /** The api's number, which its ring-page layout is built with. */
    public static final int XENSTORE_RING_SIZE = XenIoRings.XENSTORE_RING_SIZE;
    /** The largest payload of one message; a longer one is a protocol violation. */
    public static final int XENSTORE_PAYLOAD_MAX = 4096;
    /** A longer absolute path is answered EINVAL. */
    public static final int XENSTORE_ABS_PATH_MAX = 3072;
    /** A longer relative path (and a longer {@code @} watch path) is answered EINVAL. */
    public static final int XENSTORE_REL_PATH_MAX = 2048;

    public static final int XENSTORE_SERVER_FEATURE_RECONNECTION = 1;
    public static final int XENSTORE_SERVER_FEATURE_ERROR = 2;

    public static final int XENSTORE_CONNECTED = 0;
    public static final int XENSTORE_RECONNECT = 1;

    public static final int XENSTORE_ERROR_NONE = 0;
    public static final int XENSTORE_ERROR_COMM = 1;
    public static final int XENSTORE_ERROR_RINGIDX = 2;
    public static final int XENSTORE_ERROR_PROTO = 3;

    // ---- enum xs_perm_type (xenstore_lib.h) -----------------------------------

    public static final int XS_PERM_NONE = 0x00;
    public static final int XS_PERM_READ = 0x01;
    public static final int XS_PERM_WRITE = 0x02;
    public static final int XS_PERM_ENOENT_OK = 0x04;
    public static final int XS_PERM_OWNER = 0x08;
    public static final int XS_PERM_IGNORE = 0x10;

    // ---- layouts (little-endian x86) --------------------------------------------

    private static final MemoryLayout U32 = JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** {@code struct xsd_sockmsg}: the 16-byte header of every message. */
    public static final StructLayout XSD_SOCKMSG = MemoryLayout.structLayout(
            U32.withName("type"),
            U32.withName("req_id"),
            U32.withName("tx_id"),
            U32.withName("len")).withName("xsd_sockmsg");

    /** {@code struct xenstore_domain_interface}: the guest's ring page, as the api's probe checked it. */
    public static final StructLayout XENSTORE_DOMAIN_INTERFACE = AbiLayouts.X86_64.xenstore_domain_interface;

    /** The header's size, {@code sizeof(struct xsd_sockmsg)}. */
    public static final int HEADER_SIZE = (int) XSD_SOCKMSG.byteSize();

    /** The byte offset of a member of {@link #XENSTORE_DOMAIN_INTERFACE}. */
    static long interfaceOffset(String member) {
        return AbiLayouts.offset(XENSTORE_DOMAIN_INTERFACE, member);
    }
}
