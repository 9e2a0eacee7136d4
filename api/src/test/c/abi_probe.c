/*
 * ABI probe: records what gcc makes of the Xen public headers, for
 * AbiProbeTest to compare with the Java side (xenshim.api.xen constants and
 * xenshim.api.abi.AbiLayouts). Compiled twice, with gcc -m64 -c and
 * gcc -m32 -c, and never run: the table below is initialised data in the
 * object file, and the test reads it from there (xenshim.cprobe.CProbe), so
 * the 32-bit layouts are checked on kernels that cannot execute 32-bit
 * programs.
 *
 * Records, one name and one value each (xenshim_probe.h):
 *   const NAME             a constant, as a signed 64-bit number
 *   sizeof NAME            sizeof(struct NAME)
 *   offsetof STRUCT.MEMBER offsetof(struct STRUCT, MEMBER)
 *   sizeof STRUCT.MEMBER   the member's size (0 for a flexible array)
 *
 * Every record must match a Java constant or layout, and every Java constant
 * (not marked @NotInHeaders) and layout must have its record here: when you
 * add one on the Java side, add it here too.
 */

/* Ask for the latest interface, as Xen and its tools are built. */
#define __XEN_TOOLS__ 1

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/version.h>
#include <xen/features.h>
#include <xen/sched.h>
#include <xen/memory.h>
#include <xen/event_channel.h>
#include <xen/vcpu.h>
#include <xen/elfnote.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/hvm/hvm_vcpu.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>
#include <xen/grant_table.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>

#include "xenshim_probe.h"

#if __XEN_INTERFACE_VERSION__ != __XEN_LATEST_INTERFACE_VERSION__
#error "the probe must see the latest Xen interface"
#endif

#define C(x) PROBE("const " #x, x)
#define S(s) PROBE("sizeof " #s, sizeof(struct s))
#define F(s, m) PROBE("offsetof " #s "." #m, offsetof(struct s, m)) \
        PROBE("sizeof " #s "." #m, sizeof(((struct s *)0)->m))
/* A flexible array member: its offset, and size 0. */
#define FLEX(s, m) PROBE("offsetof " #s "." #m, offsetof(struct s, m)) PROBE("sizeof " #s "." #m, 0)

const struct xenshim_probe_record xenshim_probe[] = {
    /* xen.h: Hypercalls */
    C(__HYPERVISOR_set_trap_table)
    C(__HYPERVISOR_mmu_update)
    C(__HYPERVISOR_set_gdt)
    C(__HYPERVISOR_stack_switch)
    C(__HYPERVISOR_set_callbacks)
    C(__HYPERVISOR_fpu_taskswitch)
    C(__HYPERVISOR_sched_op_compat)
    C(__HYPERVISOR_platform_op)
    C(__HYPERVISOR_set_debugreg)
    C(__HYPERVISOR_get_debugreg)
    C(__HYPERVISOR_update_descriptor)
    C(__HYPERVISOR_memory_op)
    C(__HYPERVISOR_multicall)
    C(__HYPERVISOR_update_va_mapping)
    C(__HYPERVISOR_set_timer_op)
    C(__HYPERVISOR_event_channel_op_compat)
    C(__HYPERVISOR_xen_version)
    C(__HYPERVISOR_console_io)
    C(__HYPERVISOR_physdev_op_compat)
    C(__HYPERVISOR_grant_table_op)
    C(__HYPERVISOR_vm_assist)
    C(__HYPERVISOR_update_va_mapping_otherdomain)
    C(__HYPERVISOR_iret)
    C(__HYPERVISOR_vcpu_op)
    C(__HYPERVISOR_set_segment_base)
    C(__HYPERVISOR_mmuext_op)
    C(__HYPERVISOR_xsm_op)
    C(__HYPERVISOR_nmi_op)
    C(__HYPERVISOR_sched_op)
    C(__HYPERVISOR_callback_op)
    C(__HYPERVISOR_xenoprof_op)
    C(__HYPERVISOR_event_channel_op)
    C(__HYPERVISOR_physdev_op)
    C(__HYPERVISOR_hvm_op)
    C(__HYPERVISOR_sysctl)
    C(__HYPERVISOR_domctl)
    C(__HYPERVISOR_kexec_op)
    C(__HYPERVISOR_tmem_op)
    C(__HYPERVISOR_argo_op)
    C(__HYPERVISOR_xenpmu_op)
    C(__HYPERVISOR_dm_op)
    C(__HYPERVISOR_hypfs_op)
    C(__HYPERVISOR_arch_0)
    C(__HYPERVISOR_arch_1)
    C(__HYPERVISOR_arch_2)
    C(__HYPERVISOR_arch_3)
    C(__HYPERVISOR_arch_4)
    C(__HYPERVISOR_arch_5)
    C(__HYPERVISOR_arch_6)
    C(__HYPERVISOR_arch_7)

    /* xen.h: XenDomains */
    C(DOMID_FIRST_RESERVED)
    C(DOMID_SELF)
    C(DOMID_IO)
    C(DOMID_XEN)
    C(DOMID_COW)
    C(DOMID_INVALID)
    C(DOMID_IDLE)

    /*
     * errno.h: XenErrno. errno.h lists its values through XEN_ERRNO(); an
     * includer that defines XEN_ERRNO gets the list expanded in place (no
     * include guard), so every guest-visible errno is recorded, and one added
     * to the header shows up here without editing the probe.
     */
#define XEN_ERRNO(name, value) PROBE("const XEN_" #name, value)
#include <xen/errno.h>

    /* version.h: XenVersion */
    C(XENVER_version)
    C(XENVER_extraversion)
    C(XENVER_compile_info)
    C(XENVER_capabilities)
    C(XENVER_changeset)
    C(XENVER_platform_parameters)
    C(XENVER_get_features)
    C(XENVER_pagesize)
    C(XENVER_guest_handle)
    C(XENVER_commandline)
    C(XENVER_build_id)
    C(XEN_EXTRAVERSION_LEN)
    C(XEN_CAPABILITIES_INFO_LEN)
    C(XEN_CHANGESET_INFO_LEN)

    /* features.h: XenFeatures */
    C(XENFEAT_writable_page_tables)
    C(XENFEAT_writable_descriptor_tables)
    C(XENFEAT_auto_translated_physmap)
    C(XENFEAT_supervisor_mode_kernel)
    C(XENFEAT_pae_pgdir_above_4gb)
    C(XENFEAT_mmu_pt_update_preserve_ad)
    C(XENFEAT_highmem_assist)
    C(XENFEAT_gnttab_map_avail_bits)
    C(XENFEAT_hvm_callback_vector)
    C(XENFEAT_hvm_safe_pvclock)
    C(XENFEAT_hvm_pirqs)
    C(XENFEAT_dom0)
    /* XENFEAT_grant_map_identity (12) is only in a comment: deprecated, not in the headers. */
    C(XENFEAT_memory_op_vnode_supported)
    C(XENFEAT_ARM_SMCCC_supported)
    C(XENFEAT_linux_rsdp_unrestricted)
    C(XENFEAT_not_direct_mapped)
    C(XENFEAT_direct_mapped)
    C(XENFEAT_NR_SUBMAPS)

    /* xen.h: XenConsole */
    C(CONSOLEIO_write)
    C(CONSOLEIO_read)

    /* sched.h: XenSched */
    C(SCHEDOP_yield)
    C(SCHEDOP_block)
    C(SCHEDOP_shutdown)
    C(SCHEDOP_poll)
    C(SCHEDOP_remote_shutdown)
    C(SCHEDOP_shutdown_code)
    C(SCHEDOP_watchdog)
    C(SCHEDOP_pin_override)
    C(SHUTDOWN_poweroff)
    C(SHUTDOWN_reboot)
    C(SHUTDOWN_suspend)
    C(SHUTDOWN_crash)
    C(SHUTDOWN_watchdog)
    C(SHUTDOWN_soft_reset)
    C(SHUTDOWN_MAX)

    /* event_channel.h, xen.h (VIRQs): XenEvtchn */
    C(EVTCHNOP_bind_interdomain)
    C(EVTCHNOP_bind_virq)
    C(EVTCHNOP_bind_pirq)
    C(EVTCHNOP_close)
    C(EVTCHNOP_send)
    C(EVTCHNOP_status)
    C(EVTCHNOP_alloc_unbound)
    C(EVTCHNOP_bind_ipi)
    C(EVTCHNOP_bind_vcpu)
    C(EVTCHNOP_unmask)
    C(EVTCHNOP_reset)
    C(EVTCHNOP_init_control)
    C(EVTCHNOP_expand_array)
    C(EVTCHNOP_set_priority)
    C(EVTCHNSTAT_closed)
    C(EVTCHNSTAT_unbound)
    C(EVTCHNSTAT_interdomain)
    C(EVTCHNSTAT_pirq)
    C(EVTCHNSTAT_virq)
    C(EVTCHNSTAT_ipi)
    C(BIND_PIRQ__WILL_SHARE)
    C(VIRQ_TIMER)
    C(VIRQ_DEBUG)
    C(VIRQ_CONSOLE)
    C(VIRQ_DOM_EXC)
    C(VIRQ_TBUF)
    C(VIRQ_DEBUGGER)
    C(VIRQ_XENOPROF)
    C(VIRQ_CON_RING)
    C(VIRQ_PCPU_STATE)
    C(VIRQ_MEM_EVENT)
    C(VIRQ_ARGO)
    C(VIRQ_ENOMEM)
    C(VIRQ_XENPMU)
    C(VIRQ_ARCH_0)
    C(VIRQ_ARCH_7)
    C(NR_VIRQS)
    C(EVTCHN_FIFO_PRIORITY_MAX)
    C(EVTCHN_FIFO_PRIORITY_DEFAULT)
    C(EVTCHN_FIFO_PRIORITY_MIN)
    C(EVTCHN_FIFO_LINK_BITS)

    /* memory.h: XenMemory */
    C(XENMEM_increase_reservation)
    C(XENMEM_decrease_reservation)
    C(XENMEM_maximum_ram_page)
    C(XENMEM_current_reservation)
    C(XENMEM_maximum_reservation)
    C(XENMEM_machphys_mfn_list)
    C(XENMEM_populate_physmap)
    C(XENMEM_add_to_physmap)
    C(XENMEM_memory_map)
    C(XENMEM_machine_memory_map)
    C(XENMEM_exchange)
    C(XENMEM_machphys_mapping)
    C(XENMEM_set_memory_map)
    C(XENMEM_maximum_gpfn)
    C(XENMEM_remove_from_physmap)
    C(XENMEM_add_to_physmap_batch)
    C(XENMAPSPACE_shared_info)
    C(XENMAPSPACE_grant_table)
    C(XENMAPSPACE_gmfn)
    C(XENMAPSPACE_gmfn_range)
    C(XENMAPSPACE_gmfn_foreign)
    C(XENMAPSPACE_dev_mmio)
    C(XENMAPIDX_grant_table_status)
    C(XENMEMF_populate_on_demand)

    /* hvm/hvm_op.h, hvm/params.h: XenHvm */
    C(HVMOP_set_param)
    C(HVMOP_get_param)
    /*
     * HVMOP_set_pci_intx_level (2), HVMOP_set_isa_irq_level (3) and
     * HVMOP_set_pci_link_route (4) are only defined for
     * __XEN_INTERFACE_VERSION__ < 0x00040900 (they moved to dm_op in 4.9),
     * and HVM_PARAM_CALLBACK_TYPE_PPI (2) only on Arm: not in these headers.
     */
    C(HVMOP_flush_tlbs)
    C(HVMOP_pagetable_dying)
    C(HVMOP_get_time)
    C(HVMOP_xentrace)
    C(HVMOP_set_mem_access)
    C(HVMOP_get_mem_access)
    C(HVMOP_get_mem_type)
    C(HVMOP_set_evtchn_upcall_vector)
    C(HVMOP_guest_request_vm_event)
    C(HVM_PARAM_PAE_ENABLED)
    C(HVM_PARAM_DM_DOMAIN)
    C(HVM_PARAM_MEMORY_EVENT_CR0)
    C(HVM_PARAM_MEMORY_EVENT_CR3)
    C(HVM_PARAM_MEMORY_EVENT_CR4)
    C(HVM_PARAM_MEMORY_EVENT_INT3)
    C(HVM_PARAM_NESTEDHVM)
    C(HVM_PARAM_MEMORY_EVENT_SINGLE_STEP)
    C(HVM_PARAM_BUFIOREQ_EVTCHN)
    C(HVM_PARAM_MEMORY_EVENT_MSR)
    C(HVM_PARAM_CALLBACK_IRQ)
    C(HVM_PARAM_CALLBACK_TYPE_GSI)
    C(HVM_PARAM_CALLBACK_TYPE_PCI_INTX)
    C(HVM_PARAM_CALLBACK_TYPE_VECTOR)
    C(HVM_PARAM_STORE_PFN)
    C(HVM_PARAM_STORE_EVTCHN)
    C(HVM_PARAM_IOREQ_PFN)
    C(HVM_PARAM_BUFIOREQ_PFN)
    C(HVM_PARAM_VIRIDIAN)
    C(HVM_PARAM_TIMER_MODE)
    C(HVM_PARAM_HPET_ENABLED)
    C(HVM_PARAM_IDENT_PT)
    C(HVM_PARAM_ACPI_S_STATE)
    C(HVM_PARAM_VM86_TSS)
    C(HVM_PARAM_VPT_ALIGN)
    C(HVM_PARAM_CONSOLE_PFN)
    C(HVM_PARAM_CONSOLE_EVTCHN)
    C(HVM_PARAM_ACPI_IOPORTS_LOCATION)
    C(HVM_PARAM_PAGING_RING_PFN)
    C(HVM_PARAM_MONITOR_RING_PFN)
    C(HVM_PARAM_SHARING_RING_PFN)
    C(HVM_PARAM_TRIPLE_FAULT_REASON)
    C(HVM_PARAM_IOREQ_SERVER_PFN)
    C(HVM_PARAM_NR_IOREQ_SERVER_PAGES)
    C(HVM_PARAM_VM_GENERATION_ID_ADDR)
    C(HVM_PARAM_ALTP2M)
    C(HVM_PARAM_X87_FIP_WIDTH)
    C(HVM_PARAM_VM86_TSS_SIZED)
    C(HVM_PARAM_MCA_CAP)
    C(HVM_NR_PARAMS)

    /* arch-x86/cpuid.h: XenCpuid */
    C(XEN_CPUID_FIRST_LEAF)
    C(XEN_CPUID_SIGNATURE_EBX)
    C(XEN_CPUID_SIGNATURE_ECX)
    C(XEN_CPUID_SIGNATURE_EDX)
    C(XEN_HVM_CPUID_APIC_ACCESS_VIRT)
    C(XEN_HVM_CPUID_X2APIC_VIRT)
    C(XEN_HVM_CPUID_IOMMU_MAPPINGS)
    C(XEN_HVM_CPUID_VCPU_ID_PRESENT)
    C(XEN_HVM_CPUID_DOMID_PRESENT)
    C(XEN_HVM_CPUID_EXT_DEST_ID)
    C(XEN_HVM_CPUID_UPCALL_VECTOR)
    C(XEN_CPUID_MAX_NUM_LEAVES)

    /* arch-x86/hvm/start_info.h, elfnote.h: XenStartInfo */
    C(XEN_HVM_START_MAGIC_VALUE)
    C(XEN_HVM_MEMMAP_TYPE_RAM)
    C(XEN_HVM_MEMMAP_TYPE_RESERVED)
    C(XEN_HVM_MEMMAP_TYPE_ACPI)
    C(XEN_HVM_MEMMAP_TYPE_NVS)
    C(XEN_HVM_MEMMAP_TYPE_UNUSABLE)
    C(XEN_HVM_MEMMAP_TYPE_DISABLED)
    C(XEN_HVM_MEMMAP_TYPE_PMEM)
    C(XEN_ELFNOTE_PHYS32_ENTRY)

    /* version.h: AbiLayouts */
    S(xen_compile_info)
    F(xen_compile_info, compiler)
    F(xen_compile_info, compile_by)
    F(xen_compile_info, compile_domain)
    F(xen_compile_info, compile_date)

    S(xen_platform_parameters)
    F(xen_platform_parameters, virt_start)

    S(xen_feature_info)
    F(xen_feature_info, submap_idx)
    F(xen_feature_info, submap)

    S(xen_build_id)
    F(xen_build_id, len)
    FLEX(xen_build_id, buf)

    /* sched.h */
    S(sched_shutdown)
    F(sched_shutdown, reason)

    /* hvm/hvm_op.h */
    S(xen_hvm_param)
    F(xen_hvm_param, domid)
    F(xen_hvm_param, index)
    F(xen_hvm_param, value)

    /* memory.h */
    S(xen_add_to_physmap)
    F(xen_add_to_physmap, domid)
    F(xen_add_to_physmap, size)
    F(xen_add_to_physmap, space)
    F(xen_add_to_physmap, idx)
    F(xen_add_to_physmap, gpfn)

    S(xen_memory_reservation)
    F(xen_memory_reservation, extent_start)
    F(xen_memory_reservation, nr_extents)
    F(xen_memory_reservation, extent_order)
    F(xen_memory_reservation, mem_flags)
    F(xen_memory_reservation, domid)

    S(xen_memory_map)
    F(xen_memory_map, nr_entries)
    F(xen_memory_map, buffer)

    S(xen_memory_domain)
    F(xen_memory_domain, domid)

    /* arch-x86/hvm/start_info.h */
    S(hvm_start_info)
    F(hvm_start_info, magic)
    F(hvm_start_info, version)
    F(hvm_start_info, flags)
    F(hvm_start_info, nr_modules)
    F(hvm_start_info, modlist_paddr)
    F(hvm_start_info, cmdline_paddr)
    F(hvm_start_info, rsdp_paddr)
    F(hvm_start_info, memmap_paddr)
    F(hvm_start_info, memmap_entries)
    F(hvm_start_info, reserved)

    S(hvm_memmap_table_entry)
    F(hvm_memmap_table_entry, addr)
    F(hvm_memmap_table_entry, size)
    F(hvm_memmap_table_entry, type)
    F(hvm_memmap_table_entry, reserved)

    S(sched_remote_shutdown)
    F(sched_remote_shutdown, domain_id)
    F(sched_remote_shutdown, reason)

    S(sched_watchdog)
    F(sched_watchdog, id)
    F(sched_watchdog, timeout)

    S(sched_pin_override)
    F(sched_pin_override, pcpu)

    /* event_channel.h */
    S(evtchn_alloc_unbound)
    F(evtchn_alloc_unbound, dom)
    F(evtchn_alloc_unbound, remote_dom)
    F(evtchn_alloc_unbound, port)

    S(evtchn_bind_interdomain)
    F(evtchn_bind_interdomain, remote_dom)
    F(evtchn_bind_interdomain, remote_port)
    F(evtchn_bind_interdomain, local_port)

    S(evtchn_bind_virq)
    F(evtchn_bind_virq, virq)
    F(evtchn_bind_virq, vcpu)
    F(evtchn_bind_virq, port)

    S(evtchn_bind_pirq)
    F(evtchn_bind_pirq, pirq)
    F(evtchn_bind_pirq, flags)
    F(evtchn_bind_pirq, port)

    S(evtchn_bind_ipi)
    F(evtchn_bind_ipi, vcpu)
    F(evtchn_bind_ipi, port)

    S(evtchn_close)
    F(evtchn_close, port)

    S(evtchn_send)
    F(evtchn_send, port)

    S(evtchn_status)
    F(evtchn_status, dom)
    F(evtchn_status, port)
    F(evtchn_status, status)
    F(evtchn_status, vcpu)
    F(evtchn_status, u.interdomain.dom)
    F(evtchn_status, u.interdomain.port)

    S(evtchn_bind_vcpu)
    F(evtchn_bind_vcpu, port)
    F(evtchn_bind_vcpu, vcpu)

    S(evtchn_unmask)
    F(evtchn_unmask, port)

    S(evtchn_reset)
    F(evtchn_reset, dom)

    S(evtchn_init_control)
    F(evtchn_init_control, control_gfn)
    F(evtchn_init_control, offset)
    F(evtchn_init_control, vcpu)
    F(evtchn_init_control, link_bits)
    F(evtchn_init_control, _pad)

    S(evtchn_expand_array)
    F(evtchn_expand_array, array_gfn)

    S(evtchn_set_priority)
    F(evtchn_set_priority, port)
    F(evtchn_set_priority, priority)
    /* vcpu.h, xen.h: XenVcpu */
    C(VCPUOP_initialise)
    C(VCPUOP_up)
    C(VCPUOP_down)
    C(VCPUOP_is_up)
    C(VCPUOP_get_runstate_info)
    C(VCPUOP_register_runstate_memory_area)
    C(VCPUOP_set_periodic_timer)
    C(VCPUOP_stop_periodic_timer)
    C(VCPUOP_set_singleshot_timer)
    C(VCPUOP_stop_singleshot_timer)
    C(VCPUOP_register_vcpu_info)
    C(VCPUOP_send_nmi)
    C(VCPUOP_get_physid)
    C(VCPUOP_register_vcpu_time_memory_area)
    C(VCPU_SSHOTTMR_future)
    C(RUNSTATE_running)
    C(RUNSTATE_runnable)
    C(RUNSTATE_blocked)
    C(RUNSTATE_offline)
    C(XEN_RUNSTATE_UPDATE)
    C(XEN_LEGACY_MAX_VCPUS)
    C(VMASST_TYPE_runstate_update_flag)

    S(vcpu_time_info)
    F(vcpu_time_info, version)
    F(vcpu_time_info, pad0)
    F(vcpu_time_info, tsc_timestamp)
    F(vcpu_time_info, system_time)
    F(vcpu_time_info, tsc_to_system_mul)
    F(vcpu_time_info, tsc_shift)
    F(vcpu_time_info, flags)
    F(vcpu_time_info, pad1)

    S(arch_vcpu_info)
    F(arch_vcpu_info, cr2)
    F(arch_vcpu_info, pad)

    S(vcpu_info)
    F(vcpu_info, evtchn_upcall_pending)
    F(vcpu_info, evtchn_upcall_mask)
    F(vcpu_info, evtchn_pending_sel)
    F(vcpu_info, arch)
    F(vcpu_info, time)

    S(arch_shared_info)
    F(arch_shared_info, max_pfn)
    F(arch_shared_info, pfn_to_mfn_frame_list_list)
    F(arch_shared_info, nmi_reason)
    F(arch_shared_info, p2m_cr3)
    F(arch_shared_info, p2m_vaddr)
    F(arch_shared_info, p2m_generation)
#ifdef __i386__
    F(arch_shared_info, wc_sec_hi)
#endif

    S(shared_info)
    F(shared_info, vcpu_info)
    F(shared_info, evtchn_pending)
    F(shared_info, evtchn_mask)
    F(shared_info, wc_version)
    F(shared_info, wc_sec)
    F(shared_info, wc_nsec)
#ifndef __i386__
    F(shared_info, wc_sec_hi)
#endif
    F(shared_info, arch)

    S(vcpu_runstate_info)
    F(vcpu_runstate_info, state)
    F(vcpu_runstate_info, state_entry_time)
    F(vcpu_runstate_info, time)

    S(vcpu_register_runstate_memory_area)
    F(vcpu_register_runstate_memory_area, addr)

    S(vcpu_set_periodic_timer)
    F(vcpu_set_periodic_timer, period_ns)

    S(vcpu_set_singleshot_timer)
    F(vcpu_set_singleshot_timer, timeout_abs_ns)
    F(vcpu_set_singleshot_timer, flags)

    S(vcpu_register_vcpu_info)
    F(vcpu_register_vcpu_info, mfn)
    F(vcpu_register_vcpu_info, offset)
    F(vcpu_register_vcpu_info, rsvd)

    S(sched_poll)
    F(sched_poll, ports)
    F(sched_poll, nr_ports)
    F(sched_poll, timeout)

    S(xen_hvm_evtchn_upcall_vector)
    F(xen_hvm_evtchn_upcall_vector, vcpu)
    F(xen_hvm_evtchn_upcall_vector, vector)

    S(xen_hvm_get_time)
    F(xen_hvm_get_time, now)

    S(vcpu_hvm_context)
    F(vcpu_hvm_context, mode)
    F(vcpu_hvm_context, pad)
    F(vcpu_hvm_context, cpu_regs)

    /* grant_table.h: XenGnttab */
    C(GNTTABOP_map_grant_ref)
    C(GNTTABOP_unmap_grant_ref)
    C(GNTTABOP_setup_table)
    C(GNTTABOP_dump_table)
    C(GNTTABOP_transfer)
    C(GNTTABOP_copy)
    C(GNTTABOP_query_size)
    C(GNTTABOP_unmap_and_replace)
    C(GNTTABOP_set_version)
    C(GNTTABOP_get_status_frames)
    C(GNTTABOP_get_version)
    C(GNTTABOP_swap_grant_ref)
    C(GNTTABOP_cache_flush)
    C(GNTTAB_NR_RESERVED_ENTRIES)
    C(GNTTAB_RESERVED_CONSOLE)
    C(GNTTAB_RESERVED_XENSTORE)
    C(GTF_invalid)
    C(GTF_permit_access)
    C(GTF_accept_transfer)
    C(GTF_transitive)
    C(GTF_type_mask)
    C(GTF_readonly)
    C(GTF_reading)
    C(GTF_writing)
    C(GTF_PWT)
    C(GTF_PCD)
    C(GTF_PAT)
    C(GTF_sub_page)
    C(GTF_transfer_committed)
    C(GTF_transfer_completed)
    C(GNTMAP_device_map)
    C(GNTMAP_host_map)
    C(GNTMAP_readonly)
    C(GNTMAP_application_map)
    C(GNTMAP_contains_pte)
    C(GNTMAP_guest_avail_mask)
    C(GNTCOPY_source_gref)
    C(GNTCOPY_dest_gref)
    C(GNTTAB_CACHE_CLEAN)
    C(GNTTAB_CACHE_INVAL)
    C(GNTTAB_CACHE_SOURCE_GREF)
    C(GNTST_okay)
    C(GNTST_general_error)
    C(GNTST_bad_domain)
    C(GNTST_bad_gntref)
    C(GNTST_bad_handle)
    C(GNTST_bad_virt_addr)
    C(GNTST_bad_dev_addr)
    C(GNTST_no_device_space)
    C(GNTST_permission_denied)
    C(GNTST_bad_page)
    C(GNTST_bad_copy_arg)
    C(GNTST_address_too_big)
    C(GNTST_eagain)
    C(GNTST_no_space)

    /* io/xs_wire.h: XenIoRings (the console ring sizes have no names in io/console.h) */
    C(XENSTORE_RING_SIZE)

    /* grant_table.h, io/console.h, io/xs_wire.h */
    S(grant_entry_v1)
    F(grant_entry_v1, flags)
    F(grant_entry_v1, domid)
    F(grant_entry_v1, frame)

    S(grant_entry_header)
    F(grant_entry_header, flags)
    F(grant_entry_header, domid)

    S(gnttab_setup_table)
    F(gnttab_setup_table, dom)
    F(gnttab_setup_table, nr_frames)
    F(gnttab_setup_table, status)
    F(gnttab_setup_table, frame_list)

    S(gnttab_query_size)
    F(gnttab_query_size, dom)
    F(gnttab_query_size, nr_frames)
    F(gnttab_query_size, max_nr_frames)
    F(gnttab_query_size, status)

    S(gnttab_map_grant_ref)
    F(gnttab_map_grant_ref, host_addr)
    F(gnttab_map_grant_ref, flags)
    F(gnttab_map_grant_ref, ref)
    F(gnttab_map_grant_ref, dom)
    F(gnttab_map_grant_ref, status)
    F(gnttab_map_grant_ref, handle)
    F(gnttab_map_grant_ref, dev_bus_addr)

    S(gnttab_unmap_grant_ref)
    F(gnttab_unmap_grant_ref, host_addr)
    F(gnttab_unmap_grant_ref, dev_bus_addr)
    F(gnttab_unmap_grant_ref, handle)
    F(gnttab_unmap_grant_ref, status)

    S(gnttab_copy_ptr)
    F(gnttab_copy_ptr, u.gmfn)
    F(gnttab_copy_ptr, domid)
    F(gnttab_copy_ptr, offset)

    S(gnttab_copy)
    F(gnttab_copy, source)
    F(gnttab_copy, dest)
    F(gnttab_copy, len)
    F(gnttab_copy, flags)
    F(gnttab_copy, status)

    S(gnttab_set_version)
    F(gnttab_set_version, version)

    S(gnttab_get_version)
    F(gnttab_get_version, dom)
    F(gnttab_get_version, pad)
    F(gnttab_get_version, version)

    S(gnttab_dump_table)
    F(gnttab_dump_table, dom)
    F(gnttab_dump_table, status)

    S(gnttab_unmap_and_replace)
    F(gnttab_unmap_and_replace, host_addr)
    F(gnttab_unmap_and_replace, new_addr)
    F(gnttab_unmap_and_replace, handle)
    F(gnttab_unmap_and_replace, status)

    S(gnttab_transfer)
    F(gnttab_transfer, mfn)
    F(gnttab_transfer, domid)
    F(gnttab_transfer, ref)
    F(gnttab_transfer, status)

    S(gnttab_swap_grant_ref)
    F(gnttab_swap_grant_ref, ref_a)
    F(gnttab_swap_grant_ref, ref_b)
    F(gnttab_swap_grant_ref, status)

    S(gnttab_cache_flush)
    F(gnttab_cache_flush, a.dev_bus_addr)
    F(gnttab_cache_flush, offset)
    F(gnttab_cache_flush, length)
    F(gnttab_cache_flush, op)

    S(gnttab_get_status_frames)
    F(gnttab_get_status_frames, nr_frames)
    F(gnttab_get_status_frames, dom)
    F(gnttab_get_status_frames, status)
    F(gnttab_get_status_frames, frame_list)

    S(xencons_interface)
    F(xencons_interface, in)
    F(xencons_interface, out)
    F(xencons_interface, in_cons)
    F(xencons_interface, in_prod)
    F(xencons_interface, out_cons)
    F(xencons_interface, out_prod)

    S(xenstore_domain_interface)
    F(xenstore_domain_interface, req)
    F(xenstore_domain_interface, rsp)
    F(xenstore_domain_interface, req_cons)
    F(xenstore_domain_interface, req_prod)
    F(xenstore_domain_interface, rsp_cons)
    F(xenstore_domain_interface, rsp_prod)
    F(xenstore_domain_interface, server_features)
    F(xenstore_domain_interface, connection)
    F(xenstore_domain_interface, error)
};
