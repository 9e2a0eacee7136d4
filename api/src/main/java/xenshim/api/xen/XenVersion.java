package xenshim.api.xen;

/** {@code xen_version} sub-ops and buffer sizes, from {@code xen/version.h}. */
public final class XenVersion {

    /** arg == NULL; returns major:minor (16:16). */
    public static final int XENVER_version = 0;
    /** arg == xen_extraversion_t (char[16]). */
    public static final int XENVER_extraversion = 1;
    /** arg == xen_compile_info_t. */
    public static final int XENVER_compile_info = 2;
    /** arg == xen_capabilities_info_t (char[1024]). */
    public static final int XENVER_capabilities = 3;
    /** arg == xen_changeset_info_t (char[64]). */
    public static final int XENVER_changeset = 4;
    /** arg == xen_platform_parameters_t. */
    public static final int XENVER_platform_parameters = 5;
    /** arg == xen_feature_info_t. */
    public static final int XENVER_get_features = 6;
    /** arg == NULL; returns host memory page size. */
    public static final int XENVER_pagesize = 7;
    /** arg == xen_domain_handle_t (uint8_t[16]). */
    public static final int XENVER_guest_handle = 8;
    /** arg == xen_commandline_t (char[1024]). */
    public static final int XENVER_commandline = 9;
    /** arg == xen_build_id_t; NULL returns the size. */
    public static final int XENVER_build_id = 10;

    public static final int XEN_EXTRAVERSION_LEN = 16;
    public static final int XEN_CAPABILITIES_INFO_LEN = 1024;
    public static final int XEN_CHANGESET_INFO_LEN = 64;

    /** {@code sizeof(xen_commandline_t)}: version.h has no macro for it. */
    @NotInHeaders
    public static final int XEN_COMMANDLINE_LEN = 1024;
    /** {@code sizeof(xen_domain_handle_t)}. */
    @NotInHeaders
    public static final int XEN_DOMAIN_HANDLE_LEN = 16;

    private XenVersion() {
    }
}
