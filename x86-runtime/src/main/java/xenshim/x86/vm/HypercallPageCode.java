package xenshim.x86.vm;

import xenshim.api.xen.Hypercalls;

/**
 * The 4096 bytes written at the guest page named by the hypercall MSR: 128
 * stubs of 32 bytes, stub {@code n} being {@code mov $n,%eax; out %eax,$0xe4;
 * ret} and the rest of the page {@code int3}, as Xen lays out its own page
 * (with {@code out} where Xen has {@code vmcall}, which cannot reach user
 * space on KVM without in-kernel Xen support). Stub 23 ({@code iret}) is
 * {@code ud2}, as on Xen.
 */
public final class HypercallPageCode {

    /** The I/O port the stubs trap on: unused by PC hardware and by the guests' debug console (0x12). */
    public static final int PORT = 0xE4;
    /** Xen's hypercall-page MSR for HVM guests without Viridian (CPUID leaf 0x40000002 ebx). */
    public static final int MSR = 0x40000000;
    public static final int STUB_SIZE = 32;
    public static final int PAGE_SIZE = 4096;
    /** Bytes of a stub's {@code out %eax,$PORT} (E7 ib): how far RIP goes back to re-enter a continued call. */
    public static final int OUT_LENGTH = 2;

    private static final byte[] PAGE = build();

    private HypercallPageCode() {
    }

    /** A copy of the page. */
    public static byte[] page() {
        return PAGE.clone();
    }

    private static byte[] build() {
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
            page[at + 7] = (byte) 0xC3; // ret
        }
        return page;
    }
}
