package xenshim.api.abi;

import java.lang.foreign.StructLayout;
import java.util.Objects;
import java.util.function.Function;
import xenshim.api.Abi;

/**
 * One member of a Xen struct, with its offset in both ABIs looked up once
 * from {@link AbiLayouts}. Handlers keep these in {@code static final}
 * fields, so finding a member for a call is a field read, not a layout walk:
 *
 * <pre>{@code
 * static final Member INDEX = Member.of(l -> l.xen_hvm_param, "index");
 * int index = memory.read32(arg + INDEX.offset(ctx.abi()));
 * }</pre>
 */
public final class Member {

    private final long native64;
    private final long compat32;

    private Member(long native64, long compat32) {
        this.native64 = native64;
        this.compat32 = compat32;
    }

    /** Member {@code name} of the struct {@code struct} picks from an ABI's layouts. */
    public static Member of(Function<AbiLayouts, StructLayout> struct, String name) {
        Objects.requireNonNull(name);
        return new Member(AbiLayouts.offset(struct.apply(AbiLayouts.X86_64), name),
                AbiLayouts.offset(struct.apply(AbiLayouts.X86_32), name));
    }

    /** The byte offset of the member in the struct, for a call with {@code abi}. */
    public long offset(Abi abi) {
        return abi == Abi.X86_64 ? native64 : compat32;
    }
}
