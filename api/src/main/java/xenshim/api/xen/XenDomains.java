package xenshim.api.xen;

/** Domain ids with a meaning of their own, from {@code xen/xen.h}. */
public final class XenDomains {

    /** Domain ids at and above this are reserved. */
    public static final int DOMID_FIRST_RESERVED = 0x7FF0;
    /** The calling domain. */
    public static final int DOMID_SELF = 0x7FF0;
    public static final int DOMID_IO = 0x7FF1;
    public static final int DOMID_XEN = 0x7FF2;
    public static final int DOMID_COW = 0x7FF3;
    public static final int DOMID_INVALID = 0x7FF4;
    public static final int DOMID_IDLE = 0x7FFF;

    private XenDomains() {
    }
}
