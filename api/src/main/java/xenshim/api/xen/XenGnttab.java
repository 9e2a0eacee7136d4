package xenshim.api.xen;

/**
 * {@code grant_table_op} commands, grant entry flags, mapping flags, copy flags and status codes, from
 * {@code xen/grant_table.h}; and the few numbers of Xen 4.17's {@code common/grant_table.c} a guest can
 * observe (marked {@link NotInHeaders}).
 */
public final class XenGnttab {

    public static final int GNTTABOP_map_grant_ref = 0;
    public static final int GNTTABOP_unmap_grant_ref = 1;
    public static final int GNTTABOP_setup_table = 2;
    public static final int GNTTABOP_dump_table = 3;
    public static final int GNTTABOP_transfer = 4;
    public static final int GNTTABOP_copy = 5;
    public static final int GNTTABOP_query_size = 6;
    public static final int GNTTABOP_unmap_and_replace = 7;
    public static final int GNTTABOP_set_version = 8;
    public static final int GNTTABOP_get_status_frames = 9;
    public static final int GNTTABOP_get_version = 10;
    public static final int GNTTABOP_swap_grant_ref = 11;
    public static final int GNTTABOP_cache_flush = 12;

    public static final int GNTTAB_NR_RESERVED_ENTRIES = 8;
    public static final int GNTTAB_RESERVED_CONSOLE = 0;
    public static final int GNTTAB_RESERVED_XENSTORE = 1;

    public static final int GTF_invalid = 0;
    public static final int GTF_permit_access = 1;
    public static final int GTF_accept_transfer = 2;
    public static final int GTF_transitive = 3;
    public static final int GTF_type_mask = 3;
    public static final int GTF_readonly = 1 << 2;
    public static final int GTF_reading = 1 << 3;
    public static final int GTF_writing = 1 << 4;
    public static final int GTF_PWT = 1 << 5;
    public static final int GTF_PCD = 1 << 6;
    public static final int GTF_PAT = 1 << 7;
    public static final int GTF_sub_page = 1 << 8;
    public static final int GTF_transfer_committed = 1 << 2;
    public static final int GTF_transfer_completed = 1 << 3;

    public static final int GNTMAP_device_map = 1 << 0;
    public static final int GNTMAP_host_map = 1 << 1;
    public static final int GNTMAP_readonly = 1 << 2;
    public static final int GNTMAP_application_map = 1 << 3;
    public static final int GNTMAP_contains_pte = 1 << 4;
    public static final int GNTMAP_guest_avail_mask = 0xFFFF_0000;

    public static final int GNTCOPY_source_gref = 1 << 0;
    public static final int GNTCOPY_dest_gref = 1 << 1;

    public static final int GNTTAB_CACHE_CLEAN = 1 << 0;
    public static final int GNTTAB_CACHE_INVAL = 1 << 1;
    public static final int GNTTAB_CACHE_SOURCE_GREF = 1 << 31;

    public static final int GNTST_okay = 0;
    public static final int GNTST_general_error = -1;
    public static final int GNTST_bad_domain = -2;
    public static final int GNTST_bad_gntref = -3;
    public static final int GNTST_bad_handle = -4;
    public static final int GNTST_bad_virt_addr = -5;
    public static final int GNTST_bad_dev_addr = -6;
    public static final int GNTST_no_device_space = -7;
    public static final int GNTST_permission_denied = -8;
    public static final int GNTST_bad_page = -9;
    public static final int GNTST_bad_copy_arg = -10;
    public static final int GNTST_address_too_big = -11;
    public static final int GNTST_eagain = -12;
    public static final int GNTST_no_space = -13;

    /**
     * {@code GNTTABOP_CONTINUATION_ARG_SHIFT}: {@code cmd}'s low 12 bits are the op; the bits above carry
     * {@code cache_flush}'s progress and must be zero for every other op. Part of the ABI in effect
     * (a guest migrated mid-continuation depends on it), though not in the public headers.
     */
    @NotInHeaders
    public static final int GNTTABOP_CONTINUATION_ARG_SHIFT = 12;
    /** {@code GNTTABOP_CMD_MASK}. */
    @NotInHeaders
    public static final int GNTTABOP_CMD_MASK = (1 << GNTTABOP_CONTINUATION_ARG_SHIFT) - 1;

    /** {@code INITIAL_NR_GRANT_FRAMES}: the frames a new table has. */
    @NotInHeaders
    public static final int INITIAL_NR_GRANT_FRAMES = 1;
    /** {@code opt_max_grant_frames}: Xen's default (and the toolstack's) {@code max_grant_frames}. */
    @NotInHeaders
    public static final int DEFAULT_MAX_GRANT_FRAMES = 64;
    /** {@code opt_max_maptrack_frames}: Xen's default {@code max_maptrack_frames}. */
    @NotInHeaders
    public static final int DEFAULT_MAX_MAPTRACK_FRAMES = 1024;
    /** {@code MAPTRACK_PER_PAGE}: handles per maptrack frame ({@code PAGE_SIZE / sizeof(struct grant_mapping)}). */
    @NotInHeaders
    public static final int MAPTRACK_PER_PAGE = 4096 / 16;

    private XenGnttab() {
    }

    /** The {@code GNTST_*} name of a status, for messages; a negative errno or an unknown status as a number. */
    public static String statusName(int status) {
        return switch (status) {
            case GNTST_okay -> "GNTST_okay";
            case GNTST_general_error -> "GNTST_general_error";
            case GNTST_bad_domain -> "GNTST_bad_domain";
            case GNTST_bad_gntref -> "GNTST_bad_gntref";
            case GNTST_bad_handle -> "GNTST_bad_handle";
            case GNTST_bad_virt_addr -> "GNTST_bad_virt_addr";
            case GNTST_bad_dev_addr -> "GNTST_bad_dev_addr";
            case GNTST_no_device_space -> "GNTST_no_device_space";
            case GNTST_permission_denied -> "GNTST_permission_denied";
            case GNTST_bad_page -> "GNTST_bad_page";
            case GNTST_bad_copy_arg -> "GNTST_bad_copy_arg";
            case GNTST_address_too_big -> "GNTST_address_too_big";
            case GNTST_eagain -> "GNTST_eagain";
            case GNTST_no_space -> "GNTST_no_space";
            default -> "status " + status;
        };
    }
}
