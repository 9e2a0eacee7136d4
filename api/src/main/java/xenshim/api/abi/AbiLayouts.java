package xenshim.api.abi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.List;
import xenshim.api.Abi;
import xenshim.api.xen.XenIoRings;

/**
 * The layouts of every Xen struct the api defines, for one ABI. Named as in
 * the Xen public headers (struct and member names), so the ABI probe test can
 * compare each size and offset with what {@code gcc -m64} / {@code gcc -m32}
 * make of the headers.
 */
public final class AbiLayouts {

    public static final AbiLayouts X86_64 = new AbiLayouts(Abi.X86_64);
    public static final AbiLayouts X86_32 = new AbiLayouts(Abi.X86_32);

    /** {@code struct xen_compile_info} (version.h). */
    public final StructLayout xen_compile_info;
    /** {@code struct xen_platform_parameters} (version.h). */
    public final StructLayout xen_platform_parameters;
    /** {@code struct xen_feature_info} (version.h). */
    public final StructLayout xen_feature_info;
    /** {@code struct xen_build_id} (version.h); {@code buf} is a flexible array after {@code len}. */
    public final StructLayout xen_build_id;

    /** {@code struct sched_shutdown} (sched.h). */
    public final StructLayout sched_shutdown;
    /** {@code struct xen_hvm_param} (hvm/hvm_op.h). */
    public final StructLayout xen_hvm_param;
    /** {@code struct xen_add_to_physmap} (memory.h). */
    public final StructLayout xen_add_to_physmap;
    /** {@code struct xen_memory_reservation} (memory.h). */
    public final StructLayout xen_memory_reservation;
    /** {@code struct xen_memory_map} (memory.h). */
    public final StructLayout xen_memory_map;
    /** {@code struct xen_memory_domain} (memory.h). */
    public final StructLayout xen_memory_domain;
    /** {@code struct hvm_start_info} (arch-x86/hvm/start_info.h). */
    public final StructLayout hvm_start_info;
    /** {@code struct hvm_memmap_table_entry} (arch-x86/hvm/start_info.h). */
    public final StructLayout hvm_memmap_table_entry;

    /** {@code struct sched_remote_shutdown} (sched.h). */
    public final StructLayout sched_remote_shutdown;
    /** {@code struct sched_watchdog} (sched.h). */
    public final StructLayout sched_watchdog;
    /** {@code struct sched_pin_override} (sched.h). */
    public final StructLayout sched_pin_override;

    /** {@code struct evtchn_alloc_unbound} (event_channel.h). */
    public final StructLayout evtchn_alloc_unbound;
    /** {@code struct evtchn_bind_interdomain} (event_channel.h). */
    public final StructLayout evtchn_bind_interdomain;
    /** {@code struct evtchn_bind_virq} (event_channel.h). */
    public final StructLayout evtchn_bind_virq;
    /** {@code struct evtchn_bind_pirq} (event_channel.h). */
    public final StructLayout evtchn_bind_pirq;
    /** {@code struct evtchn_bind_ipi} (event_channel.h). */
    public final StructLayout evtchn_bind_ipi;
    /** {@code struct evtchn_close} (event_channel.h). */
    public final StructLayout evtchn_close;
    /** {@code struct evtchn_send} (event_channel.h). */
    public final StructLayout evtchn_send;
    /**
     * {@code struct evtchn_status} (event_channel.h). Its union {@code u} is laid out as its largest member,
     * {@code interdomain}; {@code unbound.dom}, {@code pirq} and {@code virq} sit at the union's start, the
     * offset of {@code u.interdomain.dom}.
     */
    public final StructLayout evtchn_status;
    /** {@code struct evtchn_bind_vcpu} (event_channel.h). */
    public final StructLayout evtchn_bind_vcpu;
    /** {@code struct evtchn_unmask} (event_channel.h). */
    public final StructLayout evtchn_unmask;
    /** {@code struct evtchn_reset} (event_channel.h). */
    public final StructLayout evtchn_reset;
    /** {@code struct evtchn_init_control} (event_channel.h). */
    public final StructLayout evtchn_init_control;
    /** {@code struct evtchn_expand_array} (event_channel.h). */
    public final StructLayout evtchn_expand_array;
    /** {@code struct evtchn_set_priority} (event_channel.h). */
    public final StructLayout evtchn_set_priority;

    /** {@code struct vcpu_time_info} (xen.h). */
    public final StructLayout vcpu_time_info;
    /** {@code struct arch_vcpu_info} (arch-x86/xen-x86_64.h, xen-x86_32.h). */
    public final StructLayout arch_vcpu_info;
    /** {@code struct vcpu_info} (xen.h). */
    public final StructLayout vcpu_info;
    /** {@code struct arch_shared_info} (arch-x86/xen.h). */
    public final StructLayout arch_shared_info;
    /** {@code struct shared_info} (xen.h); {@code wc_sec_hi} is in {@code arch} on x86-32. */
    public final StructLayout shared_info;
    /** {@code struct vcpu_runstate_info} (vcpu.h). */
    public final StructLayout vcpu_runstate_info;
    /** {@code struct vcpu_register_runstate_memory_area} (vcpu.h); {@code addr} is a union of 8 bytes. */
    public final StructLayout vcpu_register_runstate_memory_area;
    /** {@code struct vcpu_set_periodic_timer} (vcpu.h). */
    public final StructLayout vcpu_set_periodic_timer;
    /** {@code struct vcpu_set_singleshot_timer} (vcpu.h). */
    public final StructLayout vcpu_set_singleshot_timer;
    /** {@code struct vcpu_register_vcpu_info} (vcpu.h). */
    public final StructLayout vcpu_register_vcpu_info;
    /** {@code struct sched_poll} (sched.h). */
    public final StructLayout sched_poll;
    /** {@code struct xen_hvm_evtchn_upcall_vector} (hvm/hvm_op.h). */
    public final StructLayout xen_hvm_evtchn_upcall_vector;
    /** {@code struct xen_hvm_get_time} (hvm/hvm_op.h). */
    public final StructLayout xen_hvm_get_time;
    /**
     * {@code struct vcpu_hvm_context} (hvm/hvm_vcpu.h), {@code VCPUOP_initialise}'s argument for an HVM vCPU;
     * the union {@code cpu_regs} is laid out as its bytes (its largest member is {@code x86_32}).
     */
    public final StructLayout vcpu_hvm_context;

    /** {@code struct grant_entry_v1} (grant_table.h): one v1 grant entry, 8 bytes, 512 to a frame. */
    public final StructLayout grant_entry_v1;
    /** {@code struct grant_entry_header} (grant_table.h): the flags and domid word of every grant entry. */
    public final StructLayout grant_entry_header;
    /** {@code struct gnttab_setup_table} (grant_table.h). */
    public final StructLayout gnttab_setup_table;
    /** {@code struct gnttab_query_size} (grant_table.h). */
    public final StructLayout gnttab_query_size;
    /** {@code struct gnttab_map_grant_ref} (grant_table.h). */
    public final StructLayout gnttab_map_grant_ref;
    /** {@code struct gnttab_unmap_grant_ref} (grant_table.h). */
    public final StructLayout gnttab_unmap_grant_ref;
    /**
     * {@code struct gnttab_copy_ptr} (grant_table.h, declared inside {@code gnttab_copy}). Its union
     * {@code u} is laid out as its larger member, {@code gmfn} (an ABI {@code xen_pfn_t}); {@code u.ref}
     * is the 4 bytes at the same offset.
     */
    public final StructLayout gnttab_copy_ptr;
    /** {@code struct gnttab_copy} (grant_table.h): {@code source} and {@code dest} are {@link #gnttab_copy_ptr}s. */
    public final StructLayout gnttab_copy;
    /** {@code struct gnttab_set_version} (grant_table.h). */
    public final StructLayout gnttab_set_version;
    /** {@code struct gnttab_get_version} (grant_table.h). */
    public final StructLayout gnttab_get_version;
    /** {@code struct gnttab_dump_table} (grant_table.h). */
    public final StructLayout gnttab_dump_table;
    /** {@code struct gnttab_unmap_and_replace} (grant_table.h). */
    public final StructLayout gnttab_unmap_and_replace;
    /** {@code struct gnttab_transfer} (grant_table.h). */
    public final StructLayout gnttab_transfer;
    /** {@code struct gnttab_swap_grant_ref} (grant_table.h). */
    public final StructLayout gnttab_swap_grant_ref;
    /**
     * {@code struct gnttab_cache_flush} (grant_table.h); its union {@code a} is laid out as its larger
     * member, {@code dev_bus_addr}; {@code a.ref} is the 4 bytes at the same offset.
     */
    public final StructLayout gnttab_cache_flush;
    /** {@code struct gnttab_get_status_frames} (grant_table.h). */
    public final StructLayout gnttab_get_status_frames;
    /** {@code struct xencons_interface} (io/console.h): the console ring page. */
    public final StructLayout xencons_interface;
    /** {@code struct xenstore_domain_interface} (io/xs_wire.h): the store ring page. */
    public final StructLayout xenstore_domain_interface;

    private AbiLayouts(Abi abi) {
        xen_compile_info = CStruct.of(abi, "xen_compile_info")
                .bytes("compiler", 64).bytes("compile_by", 16).bytes("compile_domain", 32).bytes("compile_date", 32)
                .build();
        xen_platform_parameters = CStruct.of(abi, "xen_platform_parameters").ulong("virt_start").build();
        xen_feature_info = CStruct.of(abi, "xen_feature_info").u32("submap_idx").u32("submap").build();
        xen_build_id = CStruct.of(abi, "xen_build_id").u32("len").bytes("buf", 0).build();
        sched_shutdown = CStruct.of(abi, "sched_shutdown").u32("reason").build();
        xen_hvm_param = CStruct.of(abi, "xen_hvm_param").u16("domid").u32("index").u64("value").build();
        xen_add_to_physmap = CStruct.of(abi, "xen_add_to_physmap")
                .u16("domid").u16("size").u32("space").ulong("idx").ulong("gpfn").build();
        xen_memory_reservation = CStruct.of(abi, "xen_memory_reservation")
                .handle("extent_start").ulong("nr_extents").u32("extent_order").u32("mem_flags").u16("domid").build();
        xen_memory_map = CStruct.of(abi, "xen_memory_map").u32("nr_entries").handle("buffer").build();
        xen_memory_domain = CStruct.of(abi, "xen_memory_domain").u16("domid").build();
        hvm_start_info = CStruct.of(abi, "hvm_start_info")
                .u32("magic").u32("version").u32("flags").u32("nr_modules")
                .u64("modlist_paddr").u64("cmdline_paddr").u64("rsdp_paddr").u64("memmap_paddr")
                .u32("memmap_entries").u32("reserved").build();
        hvm_memmap_table_entry = CStruct.of(abi, "hvm_memmap_table_entry")
                .u64("addr").u64("size").u32("type").u32("reserved").build();
        sched_remote_shutdown = CStruct.of(abi, "sched_remote_shutdown").u16("domain_id").u32("reason").build();
        sched_watchdog = CStruct.of(abi, "sched_watchdog").u32("id").u32("timeout").build();
        sched_pin_override = CStruct.of(abi, "sched_pin_override").u32("pcpu").build();
        evtchn_alloc_unbound = CStruct.of(abi, "evtchn_alloc_unbound").u16("dom").u16("remote_dom").u32("port").build();
        evtchn_bind_interdomain = CStruct.of(abi, "evtchn_bind_interdomain")
                .u16("remote_dom").u32("remote_port").u32("local_port").build();
        evtchn_bind_virq = CStruct.of(abi, "evtchn_bind_virq").u32("virq").u32("vcpu").u32("port").build();
        evtchn_bind_pirq = CStruct.of(abi, "evtchn_bind_pirq").u32("pirq").u32("flags").u32("port").build();
        evtchn_bind_ipi = CStruct.of(abi, "evtchn_bind_ipi").u32("vcpu").u32("port").build();
        evtchn_close = CStruct.of(abi, "evtchn_close").u32("port").build();
        evtchn_send = CStruct.of(abi, "evtchn_send").u32("port").build();
        evtchn_status = CStruct.of(abi, "evtchn_status").u16("dom").u32("port").u32("status").u32("vcpu")
                .u16("u.interdomain.dom").u32("u.interdomain.port").build();
        evtchn_bind_vcpu = CStruct.of(abi, "evtchn_bind_vcpu").u32("port").u32("vcpu").build();
        evtchn_unmask = CStruct.of(abi, "evtchn_unmask").u32("port").build();
        evtchn_reset = CStruct.of(abi, "evtchn_reset").u16("dom").build();
        evtchn_init_control = CStruct.of(abi, "evtchn_init_control")
                .u64("control_gfn").u32("offset").u32("vcpu").u8("link_bits").bytes("_pad", 7).build();
        evtchn_expand_array = CStruct.of(abi, "evtchn_expand_array").u64("array_gfn").build();
        evtchn_set_priority = CStruct.of(abi, "evtchn_set_priority").u32("port").u32("priority").build();
        vcpu_time_info = CStruct.of(abi, "vcpu_time_info").u32("version").u32("pad0").u64("tsc_timestamp")
                .u64("system_time").u32("tsc_to_system_mul").u8("tsc_shift").u8("flags").bytes("pad1", 2).build();
        arch_vcpu_info = abi == Abi.X86_64
                ? CStruct.of(abi, "arch_vcpu_info").ulong("cr2").ulong("pad").build()
                : CStruct.of(abi, "arch_vcpu_info").ulong("cr2").ulongs("pad", 5).build();
        vcpu_info = CStruct.of(abi, "vcpu_info").u8("evtchn_upcall_pending").u8("evtchn_upcall_mask")
                .ulong("evtchn_pending_sel").struct("arch", arch_vcpu_info, 1).struct("time", vcpu_time_info, 1)
                .build();
        CStruct archShared = CStruct.of(abi, "arch_shared_info").ulong("max_pfn")
                .ulong("pfn_to_mfn_frame_list_list").ulong("nmi_reason").ulong("p2m_cr3").ulong("p2m_vaddr")
                .ulong("p2m_generation");
        arch_shared_info = (abi == Abi.X86_64 ? archShared : archShared.u32("wc_sec_hi")).build();
        long words = abi == Abi.X86_64 ? 64 : 32;
        CStruct shared = CStruct.of(abi, "shared_info")
                .struct("vcpu_info", vcpu_info, xenshim.api.xen.XenVcpu.XEN_LEGACY_MAX_VCPUS)
                .ulongs("evtchn_pending", words).ulongs("evtchn_mask", words)
                .u32("wc_version").u32("wc_sec").u32("wc_nsec");
        shared_info = (abi == Abi.X86_64 ? shared.u32("wc_sec_hi") : shared)
                .struct("arch", arch_shared_info, 1).build();
        vcpu_runstate_info = CStruct.of(abi, "vcpu_runstate_info").u32("state").u64("state_entry_time")
                .u64s("time", 4).build();
        vcpu_register_runstate_memory_area = CStruct.of(abi, "vcpu_register_runstate_memory_area").u64("addr")
                .build();
        vcpu_set_periodic_timer = CStruct.of(abi, "vcpu_set_periodic_timer").u64("period_ns").build();
        vcpu_set_singleshot_timer = CStruct.of(abi, "vcpu_set_singleshot_timer").u64("timeout_abs_ns")
                .u32("flags").build();
        vcpu_register_vcpu_info = CStruct.of(abi, "vcpu_register_vcpu_info").u64("mfn").u32("offset")
                .u32("rsvd").build();
        sched_poll = CStruct.of(abi, "sched_poll").handle("ports").u32("nr_ports").u64("timeout").build();
        xen_hvm_evtchn_upcall_vector = CStruct.of(abi, "xen_hvm_evtchn_upcall_vector").u32("vcpu").u8("vector")
                .build();
        xen_hvm_get_time = CStruct.of(abi, "xen_hvm_get_time").u64("now").build();
        vcpu_hvm_context = CStruct.of(abi, "vcpu_hvm_context").u32("mode").u32("pad").bytes("cpu_regs", 120)
                .build();
        grant_entry_v1 = CStruct.of(abi, "grant_entry_v1").u16("flags").u16("domid").u32("frame").build();
        grant_entry_header = CStruct.of(abi, "grant_entry_header").u16("flags").u16("domid").build();
        gnttab_setup_table = CStruct.of(abi, "gnttab_setup_table").u16("dom").u32("nr_frames").u16("status")
                .handle("frame_list").build();
        gnttab_query_size = CStruct.of(abi, "gnttab_query_size").u16("dom").u32("nr_frames").u32("max_nr_frames")
                .u16("status").build();
        gnttab_map_grant_ref = CStruct.of(abi, "gnttab_map_grant_ref").u64("host_addr").u32("flags").u32("ref")
                .u16("dom").u16("status").u32("handle").u64("dev_bus_addr").build();
        gnttab_unmap_grant_ref = CStruct.of(abi, "gnttab_unmap_grant_ref").u64("host_addr").u64("dev_bus_addr")
                .u32("handle").u16("status").build();
        gnttab_copy_ptr = CStruct.of(abi, "gnttab_copy_ptr").ulong("u.gmfn").u16("domid").u16("offset").build();
        gnttab_copy = CStruct.of(abi, "gnttab_copy").struct("source", gnttab_copy_ptr, 1)
                .struct("dest", gnttab_copy_ptr, 1).u16("len").u16("flags").u16("status").build();
        gnttab_set_version = CStruct.of(abi, "gnttab_set_version").u32("version").build();
        gnttab_get_version = CStruct.of(abi, "gnttab_get_version").u16("dom").u16("pad").u32("version").build();
        gnttab_dump_table = CStruct.of(abi, "gnttab_dump_table").u16("dom").u16("status").build();
        gnttab_unmap_and_replace = CStruct.of(abi, "gnttab_unmap_and_replace").u64("host_addr").u64("new_addr")
                .u32("handle").u16("status").build();
        gnttab_transfer = CStruct.of(abi, "gnttab_transfer").ulong("mfn").u16("domid").u32("ref").u16("status")
                .build();
        gnttab_swap_grant_ref = CStruct.of(abi, "gnttab_swap_grant_ref").u32("ref_a").u32("ref_b").u16("status")
                .build();
        gnttab_cache_flush = CStruct.of(abi, "gnttab_cache_flush").u64("a.dev_bus_addr").u16("offset")
                .u16("length").u32("op").build();
        gnttab_get_status_frames = CStruct.of(abi, "gnttab_get_status_frames").u32("nr_frames").u16("dom")
                .u16("status").handle("frame_list").build();
        xencons_interface = CStruct.of(abi, "xencons_interface").bytes("in", XenIoRings.XENCONS_IN_SIZE)
                .bytes("out", XenIoRings.XENCONS_OUT_SIZE).u32("in_cons").u32("in_prod").u32("out_cons")
                .u32("out_prod").build();
        xenstore_domain_interface = CStruct.of(abi, "xenstore_domain_interface")
                .bytes("req", XenIoRings.XENSTORE_RING_SIZE).bytes("rsp", XenIoRings.XENSTORE_RING_SIZE)
                .u32("req_cons").u32("req_prod").u32("rsp_cons").u32("rsp_prod").u32("server_features")
                .u32("connection").u32("error").build();
    }

    /** Every struct layout of this ABI, for the ABI probe. */
    public List<StructLayout> all() {
        return List.of(xen_compile_info, xen_platform_parameters, xen_feature_info, xen_build_id,
                sched_shutdown, xen_hvm_param, xen_add_to_physmap, xen_memory_reservation, xen_memory_map,
                xen_memory_domain, hvm_start_info, hvm_memmap_table_entry, sched_remote_shutdown, sched_watchdog,
                sched_pin_override, evtchn_alloc_unbound, evtchn_bind_interdomain, evtchn_bind_virq,
                evtchn_bind_pirq, evtchn_bind_ipi, evtchn_close, evtchn_send, evtchn_status, evtchn_bind_vcpu,
                evtchn_unmask, evtchn_reset, evtchn_init_control, evtchn_expand_array, evtchn_set_priority,
                vcpu_time_info, arch_vcpu_info, vcpu_info, arch_shared_info, shared_info, vcpu_runstate_info,
                vcpu_register_runstate_memory_area, vcpu_set_periodic_timer, vcpu_set_singleshot_timer,
                vcpu_register_vcpu_info, sched_poll, xen_hvm_evtchn_upcall_vector, xen_hvm_get_time,
                vcpu_hvm_context, grant_entry_v1, grant_entry_header, gnttab_setup_table, gnttab_query_size,
                gnttab_map_grant_ref, gnttab_unmap_grant_ref, gnttab_copy_ptr, gnttab_copy, gnttab_set_version,
                gnttab_get_version, gnttab_dump_table, gnttab_unmap_and_replace, gnttab_transfer,
                gnttab_swap_grant_ref, gnttab_cache_flush, gnttab_get_status_frames, xencons_interface,
                xenstore_domain_interface);
    }

    /** The byte offset of {@code member} in {@code struct}. */
    public static long offset(StructLayout struct, String member) {
        return struct.byteOffset(MemoryLayout.PathElement.groupElement(member));
    }

    /** The byte size of {@code member} in {@code struct}. */
    public static long size(StructLayout struct, String member) {
        return struct.select(MemoryLayout.PathElement.groupElement(member)).byteSize();
    }
}
