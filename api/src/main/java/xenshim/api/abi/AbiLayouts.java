package xenshim.api.abi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.List;
import xenshim.api.Abi;

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

    private AbiLayouts(Abi abi) {
        xen_compile_info = CStruct.of(abi, "xen_compile_info")
                .bytes("compiler", 64).bytes("compile_by", 16).bytes("compile_domain", 32).bytes("compile_date", 32)
                .build();
        xen_platform_parameters = CStruct.of(abi, "xen_platform_parameters").ulong("virt_start").build();
        xen_feature_info = CStruct.of(abi, "xen_feature_info").u32("submap_idx").u32("submap").build();
        xen_build_id = CStruct.of(abi, "xen_build_id").u32("len").bytes("buf", 0).build();
    }

    /** Every struct layout of this ABI, for the ABI probe. */
    public List<StructLayout> all() {
        return List.of(xen_compile_info, xen_platform_parameters, xen_feature_info, xen_build_id);
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
