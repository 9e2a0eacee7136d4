package xenshim.x86.vm;

import xenshim.api.xen.Hypercalls;

/**
 * The 4096 bytes written at the guest page named by the hypercall MSR: 128
 * stubs of 32 bytes, stub {@code n} being {@code mov $n,%eax; out %eax,$0xe4;
 * ret} and the rest of the page {@code int3}, as Xen lays out its own page
 * (with {@code out} where Xen has {@code vmcall}, which cannot reach user
 * space on KVM without in-kernel Xen support). Stub 23 ({@code iret}) is
 * {@code ud2}, as on Xen.
 *
 * <p>For a software CPU, which stops only between translated blocks, each
 * stub is {@code mov $n,%eax; out %eax,$0xe4; jmp 1f; 1: ret}: the
 * {@code jmp} ends the block right after the {@code out}, so the exit comes
 * with RIP at the {@code ret} and nothing of the caller run yet.
 */
public final class HypercallPageCode {

    /** The I/O port the stubs trap on: unused by PC hardware and by the guests' debug console (0x12). */
    public static final int PORT = 0xE4;
    /** Xen's hypercall-page MSR for HVM guests without Viridian (CPUID leaf 0x40000002 ebx). */
    public static final int MSR = 0x40000000;
    public static final int STUB_SIZE = 32;
    public static final int PAGE_SIZE = 4096;
    /** Bytes of a stub's {@code out %eax,$PORT} (E7 ib). */
    public static final int OUT_LENGTH = 2;
    /** Bytes of the {@code jmp 1f} (EB 00) that ends a software CPU's block after the {@code out}. */
    private static final int JMP_LENGTH = 2;

    private static final byte[] PAGE = build(false);
    private static final byte[] BLOCK_END_PAGE = build(true);

    private HypercallPageCode() {
    }

    /** A copy of the page (the KVM layout). */
    public static byte[] page() {
        return PAGE.clone();
    }

    /** A copy of the page, with a block-ending {@code jmp} after each {@code out} if {@code endBlockAfterOut}. */
    public static byte[] page(boolean endBlockAfterOut) {
        return (endBlockAfterOut ? BLOCK_END_PAGE : PAGE).clone();
    }

    /**
     * How far RIP is past the stub's {@code out} when the exit for it comes: moving it back this
     * far (with eax = the hypercall number) re-enters the call, as Xen moves RIP back over
     * {@code vmcall} for a continuation.
     */
    public static int rewind(boolean endBlockAfterOut) {
        return endBlockAfterOut ? OUT_LENGTH + JMP_LENGTH : OUT_LENGTH;
    }

    private static byte[] build(boolean endBlockAfterOut) {
        byte[] page = new byte[PAGE_SIZE];
        java.util.Arrays.fill(page, (byte) 0xCC);
        for (int nr = 0; nr < Hypercalls.NR_SLOTS; nr++) {
            int at = nr * STUB_SIZE;
            if (nr == Hypercalls.__HYPERVISOR_iret) {
                page[at] = 0x0F;
                page[at + 1] = 0x0B;
                continue;
            }
            page[at] = (byte) 0xB8; // mov $nr, %eax
            page[at + 1] = (byte) nr;
            page[at + 2] = 0;
            page[at + 3] = 0;
            page[at + 4] = 0;
            page[at + 5] = (byte) 0xE7; // out %eax, $PORT
            page[at + 6] = (byte) PORT;
            int ret = at + 7;
            if (endBlockAfterOut) {
                page[ret++] = (byte) 0xEB; // jmp 1f
                page[ret++] = 0;
            }
            page[ret] = (byte) 0xC3; // 1: ret
        }
        return page;
    }
}
