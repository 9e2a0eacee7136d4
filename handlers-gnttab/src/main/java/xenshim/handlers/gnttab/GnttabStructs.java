package xenshim.handlers.gnttab;

import java.lang.foreign.StructLayout;
import java.util.function.Function;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.GuestMemory;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.abi.Member;

/** The {@code grant_table_op} argument structs' members ({@code xen/grant_table.h}), in both ABIs. */
final class GnttabStructs {

    static final Member SETUP_DOM = Member.of(l -> l.gnttab_setup_table, "dom");
    static final Member SETUP_NR_FRAMES = Member.of(l -> l.gnttab_setup_table, "nr_frames");
    static final Member SETUP_STATUS = Member.of(l -> l.gnttab_setup_table, "status");
    static final Member SETUP_FRAME_LIST = Member.of(l -> l.gnttab_setup_table, "frame_list");

    static final Member QUERY_DOM = Member.of(l -> l.gnttab_query_size, "dom");
    static final Member QUERY_NR_FRAMES = Member.of(l -> l.gnttab_query_size, "nr_frames");
    static final Member QUERY_MAX_NR_FRAMES = Member.of(l -> l.gnttab_query_size, "max_nr_frames");
    static final Member QUERY_STATUS = Member.of(l -> l.gnttab_query_size, "status");

    static final Member SET_VERSION_VERSION = Member.of(l -> l.gnttab_set_version, "version");
    static final Member GET_VERSION_DOM = Member.of(l -> l.gnttab_get_version, "dom");
    static final Member GET_VERSION_VERSION = Member.of(l -> l.gnttab_get_version, "version");

    static final Member STATUS_FRAMES_NR_FRAMES = Member.of(l -> l.gnttab_get_status_frames, "nr_frames");
    static final Member STATUS_FRAMES_DOM = Member.of(l -> l.gnttab_get_status_frames, "dom");
    static final Member STATUS_FRAMES_STATUS = Member.of(l -> l.gnttab_get_status_frames, "status");

    static final Member MAP_HOST_ADDR = Member.of(l -> l.gnttab_map_grant_ref, "host_addr");
    static final Member MAP_FLAGS = Member.of(l -> l.gnttab_map_grant_ref, "flags");
    static final Member MAP_REF = Member.of(l -> l.gnttab_map_grant_ref, "ref");
    static final Member MAP_DOM = Member.of(l -> l.gnttab_map_grant_ref, "dom");
    static final Member MAP_STATUS = Member.of(l -> l.gnttab_map_grant_ref, "status");
    static final Member MAP_HANDLE = Member.of(l -> l.gnttab_map_grant_ref, "handle");
    static final Member MAP_DEV_BUS_ADDR = Member.of(l -> l.gnttab_map_grant_ref, "dev_bus_addr");

    static final Member UNMAP_HOST_ADDR = Member.of(l -> l.gnttab_unmap_grant_ref, "host_addr");
    static final Member UNMAP_DEV_BUS_ADDR = Member.of(l -> l.gnttab_unmap_grant_ref, "dev_bus_addr");
    static final Member UNMAP_HANDLE = Member.of(l -> l.gnttab_unmap_grant_ref, "handle");
    static final Member UNMAP_STATUS = Member.of(l -> l.gnttab_unmap_grant_ref, "status");

    static final Member REPLACE_HOST_ADDR = Member.of(l -> l.gnttab_unmap_and_replace, "host_addr");
    static final Member REPLACE_NEW_ADDR = Member.of(l -> l.gnttab_unmap_and_replace, "new_addr");
    static final Member REPLACE_HANDLE = Member.of(l -> l.gnttab_unmap_and_replace, "handle");
    static final Member REPLACE_STATUS = Member.of(l -> l.gnttab_unmap_and_replace, "status");

    static final Member COPY_SOURCE = Member.of(l -> l.gnttab_copy, "source");
    static final Member COPY_DEST = Member.of(l -> l.gnttab_copy, "dest");
    static final Member COPY_LEN = Member.of(l -> l.gnttab_copy, "len");
    static final Member COPY_FLAGS = Member.of(l -> l.gnttab_copy, "flags");
    static final Member COPY_STATUS = Member.of(l -> l.gnttab_copy, "status");
    /** {@code u.gmfn}; {@code u.ref} is its first 4 bytes. */
    static final Member PTR_U = Member.of(l -> l.gnttab_copy_ptr, "u.gmfn");
    static final Member PTR_DOMID = Member.of(l -> l.gnttab_copy_ptr, "domid");
    static final Member PTR_OFFSET = Member.of(l -> l.gnttab_copy_ptr, "offset");

    static final Member TRANSFER_MFN = Member.of(l -> l.gnttab_transfer, "mfn");
    static final Member TRANSFER_STATUS = Member.of(l -> l.gnttab_transfer, "status");

    static final Member SWAP_REF_A = Member.of(l -> l.gnttab_swap_grant_ref, "ref_a");
    static final Member SWAP_REF_B = Member.of(l -> l.gnttab_swap_grant_ref, "ref_b");
    static final Member SWAP_STATUS = Member.of(l -> l.gnttab_swap_grant_ref, "status");

    /** {@code a.dev_bus_addr}; {@code a.ref} is its first 4 bytes. */
    static final Member FLUSH_A = Member.of(l -> l.gnttab_cache_flush, "a.dev_bus_addr");
    static final Member FLUSH_OFFSET = Member.of(l -> l.gnttab_cache_flush, "offset");
    static final Member FLUSH_LENGTH = Member.of(l -> l.gnttab_cache_flush, "length");
    static final Member FLUSH_OP = Member.of(l -> l.gnttab_cache_flush, "op");

    private GnttabStructs() {
    }

    /** The size of a struct in the caller's ABI: the stride of a batch. */
    static long size(Abi abi, Function<AbiLayouts, StructLayout> struct) {
        return struct.apply(abi.layouts()).byteSize();
    }

    /**
     * {@code copy_from_guest} of a whole struct: its first and last bytes are read, so a struct that runs
     * into an unmapped page faults ({@code -EFAULT}) before anything is done.
     */
    static GuestMemory copyIn(CallContext ctx, long address, Function<AbiLayouts, StructLayout> struct) {
        GuestMemory memory = ctx.memory();
        memory.read8(address);
        memory.read8(address + size(ctx.abi(), struct) - 1);
        return memory;
    }

    /** A 16-bit domid field. */
    static int domid(GuestMemory memory, long address) {
        return Short.toUnsignedInt(memory.read16(address));
    }

    /** A 16-bit {@code int16_t status} field. */
    static void status(GuestMemory memory, long address, int status) {
        memory.write16(address, (short) status);
    }
}
