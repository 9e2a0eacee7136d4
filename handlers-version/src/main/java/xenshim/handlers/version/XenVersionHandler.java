package xenshim.handlers.version;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOBUFS;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;

import jakarta.inject.Inject;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainType;
import xenshim.api.GuestMemory;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.PagedGuestMemory;
import xenshim.api.XenVersionInfo;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.abi.CString;
import xenshim.api.abi.Member;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenFeatures;
import xenshim.api.xen.XenVersion;

/**
 * {@code xen_version(cmd, arg)}, as Xen 4.17's {@code do_xen_version} answers
 * it under the default (dummy XSM) policy.
 *
 * <ul>
 * <li>{@code version}, {@code platform_parameters}, {@code get_features}:
 *     anyone.</li>
 * <li>{@code extraversion}, {@code compile_info}, {@code capabilities},
 *     {@code changeset}, {@code pagesize}, {@code guest_handle}: anyone
 *     ({@code XSM_HOOK}).</li>
 * <li>{@code commandline}: privileged domains get the command line; others
 *     get the 9 bytes {@code "<denied>\0"} ({@code XSM_PRIV}, deny).</li>
 * <li>{@code build_id}: privileged domains only; others get {@code -EPERM}.</li>
 * <li>anything else: {@code -ENOSYS}.</li>
 * </ul>
 * A buffer the caller cannot read or write is {@code -EFAULT}. The strings
 * and numbers come from the injected {@link XenVersionInfo}.
 */
@Hypercall(Hypercalls.__HYPERVISOR_xen_version)
public final class XenVersionHandler implements HypercallHandler {

    /**
     * Feature submap 0 for an HVM/PVH domU on x86 as Xen 4.17's
     * {@code do_xen_version} builds it: translated paging, the HVM callback
     * vector and safe pvclock, vNUMA memory_op, not direct-mapped; no
     * {@code hvm_pirqs}, since xenshim guests are PVH-style with no emulated
     * PIRQs. 0x12305. {@code XENFEAT_hvm_callback_vector} is Xen's for every
     * non-PV domain, and the upcall delivery xenshim has: the vector type of
     * {@code HVM_PARAM_CALLBACK_IRQ} and {@code HVMOP_set_evtchn_upcall_vector}.
     */
    static final int HVM_FEATURES = bit(XenFeatures.XENFEAT_memory_op_vnode_supported)
            | bit(XenFeatures.XENFEAT_writable_page_tables)
            | bit(XenFeatures.XENFEAT_auto_translated_physmap)
            | bit(XenFeatures.XENFEAT_hvm_safe_pvclock)
            | bit(XenFeatures.XENFEAT_hvm_callback_vector)
            | bit(XenFeatures.XENFEAT_not_direct_mapped);

    /** {@code HYPERVISOR_VIRT_START} on x86-64, what a 64-bit caller gets as {@code virt_start}. */
    static final long HYPERVISOR_VIRT_START = 0xFFFF_8000_0000_0000L;

    /** What {@code xen_deny()} returns; a domU asking for the command line gets these 9 bytes. */
    private static final byte[] DENIED = "<denied>\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** What the in-process dom0 sees: the pseudo-dom0 of the backend-hypercall patch. */
    static final int LOCAL_DOM0_FEATURES = bit(XenFeatures.XENFEAT_auto_translated_physmap);

    private static final Member BUILD_ID_LEN = Member.of(l -> l.xen_build_id, "len");
    private static final Member BUILD_ID_BUF = Member.of(l -> l.xen_build_id, "buf");
    private static final Member FEATURE_SUBMAP_IDX = Member.of(l -> l.xen_feature_info, "submap_idx");
    private static final Member FEATURE_SUBMAP = Member.of(l -> l.xen_feature_info, "submap");

    private final XenVersionInfo info;
    private final byte[] extraversion;
    private final byte[] compileInfo;
    private final byte[] capabilities;
    private final byte[] changeset;
    private final byte[] commandline;

    @Inject
    public XenVersionHandler(XenVersionInfo info) {
        this.info = info;
        this.extraversion = CString.encode(info.extraversion(), XenVersion.XEN_EXTRAVERSION_LEN);
        this.capabilities = CString.encode(info.capabilities(), XenVersion.XEN_CAPABILITIES_INFO_LEN);
        this.changeset = CString.encode(info.changeset(), XenVersion.XEN_CHANGESET_INFO_LEN);
        this.commandline = CString.encode(info.commandline(), XenVersion.XEN_COMMANDLINE_LEN);
        var layout = AbiLayouts.X86_64.xen_compile_info;
        this.compileInfo = new byte[(int) layout.byteSize()];
        put(compileInfo, layout, "compiler", info.compiler());
        put(compileInfo, layout, "compile_by", info.compileBy());
        put(compileInfo, layout, "compile_domain", info.compileDomain());
        put(compileInfo, layout, "compile_date", info.compileDate());
    }

    /**
     * For plain {@link java.util.ServiceLoader} use (javac wants a no-argument
     * way to make a provider): the default emulated Xen. The dispatcher never
     * calls this; it constructs the handler with Guice and the platform's
     * {@link XenVersionInfo}.
     */
    public static XenVersionHandler provider() {
        return new XenVersionHandler(XenVersionInfo.defaults());
    }

    @Override
    public long handle(CallContext ctx, long a0, long arg, long a2, long a3, long a4) {
        int cmd = (int) a0;
        GuestMemory memory = ctx.memory();
        return switch (cmd) {
            case XenVersion.XENVER_version -> info.packedVersion();
            case XenVersion.XENVER_extraversion -> copyOut(memory, arg, extraversion);
            case XenVersion.XENVER_compile_info -> copyOut(memory, arg, compileInfo);
            case XenVersion.XENVER_capabilities -> copyOut(memory, arg, capabilities);
            case XenVersion.XENVER_changeset -> copyOut(memory, arg, changeset);
            case XenVersion.XENVER_platform_parameters -> platformParameters(ctx, arg);
            case XenVersion.XENVER_get_features -> features(ctx, arg);
            case XenVersion.XENVER_pagesize -> arg != 0 ? -XEN_EINVAL : PagedGuestMemory.PAGE_SIZE;
            case XenVersion.XENVER_guest_handle -> copyOut(memory, arg, ctx.domain().handleBytes());
            case XenVersion.XENVER_commandline -> copyOut(memory, arg, ctx.domain().isPrivileged() ? commandline : DENIED);
            case XenVersion.XENVER_build_id -> ctx.domain().isPrivileged() ? buildId(ctx, arg) : -XEN_EPERM;
            default -> -XEN_ENOSYS;
        };
    }

    private static long copyOut(GuestMemory memory, long address, byte[] bytes) {
        memory.write(address, bytes, 0, bytes.length);
        return 0;
    }

    /**
     * One ABI long at offset 0: {@code HYPERVISOR_VIRT_START} for a 64-bit
     * caller; for a compat caller {@code hv_compat_vstart}, which is 0 on a
     * Xen built without 32-bit PV (the 4.17 default).
     */
    private static long platformParameters(CallContext ctx, long arg) {
        ctx.abi().writeULong(ctx.memory(), arg, ctx.abi() == Abi.X86_64 ? HYPERVISOR_VIRT_START : 0);
        return 0;
    }

    private static long features(CallContext ctx, long arg) {
        GuestMemory memory = ctx.memory();
        long idxAt = arg + FEATURE_SUBMAP_IDX.offset(ctx.abi());
        long submapAt = arg + FEATURE_SUBMAP.offset(ctx.abi());
        int submapIdx = memory.read32(idxAt);
        memory.read32(submapAt); // copy_from_guest reads the whole struct
        if (submapIdx != 0) {
            return -XEN_EINVAL;
        }
        memory.write32(idxAt, submapIdx);
        memory.write32(submapAt, featuresOf(ctx.domain()));
        return 0;
    }

    static int featuresOf(Domain domain) {
        if (domain.type() == DomainType.LOCAL) {
            return LOCAL_DOM0_FEATURES;
        }
        return domain.isPrivileged() ? HVM_FEATURES | bit(XenFeatures.XENFEAT_dom0) : HVM_FEATURES;
    }

    /** A NULL handle asks for the size; else {@code len} must be non-zero and big enough. */
    private long buildId(CallContext ctx, long arg) {
        GuestMemory memory = ctx.memory();
        Abi abi = ctx.abi();
        byte[] id = info.buildId();
        if (arg == 0) {
            return id.length;
        }
        long len = Integer.toUnsignedLong(memory.read32(arg + BUILD_ID_LEN.offset(abi)));
        if (len == 0) {
            return -XEN_EINVAL;
        }
        if (id.length > len) {
            return -XEN_ENOBUFS;
        }
        memory.write(arg + BUILD_ID_BUF.offset(abi), id, 0, id.length);
        return id.length;
    }

    private static int bit(int feature) {
        return 1 << feature;
    }

    private static void put(byte[] struct, java.lang.foreign.StructLayout layout, String member, String text) {
        byte[] field = CString.encode(text, (int) AbiLayouts.size(layout, member));
        System.arraycopy(field, 0, struct, (int) AbiLayouts.offset(layout, member), field.length);
    }
}
