package xenshim.x86.unicorn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import xenshim.x86.kvm.DTable;
import xenshim.x86.cpu.Reg;
import xenshim.x86.kvm.Regs;

/**
 * The few instructions that take a {@code UC_MODE_64} engine from Unicorn's reset state (64-bit
 * code, paging off, EFER.LMA set: a state real hardware cannot be in) to Xen's PVH entry state.
 * Long mode can only be left by clearing CR0.PG from compatibility mode, and QEMU leaves it only
 * if paging was on; so the stub turns paging on over identity-mapped tables, far-jumps to a 32-bit
 * code segment, turns paging off (EFER.LMA clears), clears EFER.LME, CR4 and CR3, loads flat data
 * segments and a TSS, and halts.
 *
 * <p>Everything lives in 16 KiB of Unicorn-owned scratch memory just below 4 GiB (the stub's
 * 32-bit code must be below 4 GiB), mapped for the stub and unmapped after it: guest RAM is not
 * touched. Layout:
 * <pre>
 *   0xffffc000  PML4: [0] -> PDPT
 *   0xffffd000  PDPT: [3] -> PD                    (1 GiB at 0xc0000000)
 *   0xffffe000  PD:   [511] = 2 MiB page 0xffe00000 (identity: covers this scratch range)
 *   0xfffff000  GDT: null, 0x08 32-bit code, 0x10 data, 0x18 32-bit TSS (base 0, limit 0x67)
 *   0xfffff020  GDTR image (limit 31, base 0xfffff000), for lgdt
 *   0xfffff030  far pointer 0x08:compat, for ljmp
 *   0xfffff040  the code below
 * </pre>
 */
final class PvhEntryStub {
    private PvhEntryStub() {}

    static final long SCRATCH = 0xFFFF_C000L;
    static final long SCRATCH_SIZE = 0x4000;
    static final long PML4 = SCRATCH, PDPT = SCRATCH + 0x1000, PD = SCRATCH + 0x2000, PAGE = SCRATCH + 0x3000;
    static final long GDTR_IMAGE = PAGE + 0x20, FAR_POINTER = PAGE + 0x30, START = PAGE + 0x40;
    static final int CODE32 = 0x08, DATA = 0x10, TSS = 0x18;

    /** GDT entries: null, 32-bit code (base 0, 4 GiB, DPL 0), data, available 32-bit TSS (type 9). */
    static final long[] GDT = {0, 0x00CF_9B00_0000_FFFFL, 0x00CF_9300_0000_FFFFL, 0x0000_8900_0000_0067L};

    /** Offset of {@code compat:} in {@link #CODE}: the far pointer's target. */
    static final int COMPAT_OFFSET = 0x28;

    /** The stub, at {@link #START}. {@code as --64} output, annotated. */
    static final byte[] CODE = bytes(
            // 64-bit mode (Unicorn's reset state: paging off)
            0x0F, 0x01, 0x15, 0xD9, 0xFF, 0xFF, 0xFF, // lgdt  GDTR_IMAGE(%rip)      (rip-relative -0x27)
            0x0F, 0x20, 0xE0,                         // mov   %cr4, %rax
            0x83, 0xC8, 0x20,                         // or    $0x20, %eax          CR4.PAE
            0x0F, 0x22, 0xE0,                         // mov   %rax, %cr4
            0xB8, 0x00, 0xC0, 0xFF, 0xFF,             // mov   $0xffffc000, %eax    PML4
            0x0F, 0x22, 0xD8,                         // mov   %rax, %cr3
            0x0F, 0x20, 0xC0,                         // mov   %cr0, %rax
            0x0F, 0xBA, 0xE8, 0x1F,                   // bts   $31, %eax            CR0.PG: long mode with paging
            0x0F, 0x22, 0xC0,                         // mov   %rax, %cr0
            0xFF, 0x2D, 0xC8, 0xFF, 0xFF, 0xFF,       // ljmp  *FAR_POINTER(%rip)   (m16:32, -0x38): to CS 0x08
            // compat: (START + COMPAT_OFFSET), 32-bit code, still paged
            0x0F, 0x20, 0xC0,                         // mov   %cr0, %eax
            0x0F, 0xBA, 0xF0, 0x1F,                   // btr   $31, %eax
            0x0F, 0x22, 0xC0,                         // mov   %eax, %cr0           paging off: EFER.LMA = 0
            0xB9, 0x80, 0x00, 0x00, 0xC0,             // mov   $0xc0000080, %ecx    EFER
            0x0F, 0x32,                               // rdmsr
            0x0F, 0xBA, 0xF0, 0x08,                   // btr   $8, %eax             EFER.LME = 0
            0x0F, 0x30,                               // wrmsr
            0x31, 0xC0,                               // xor   %eax, %eax
            0x0F, 0x22, 0xE0,                         // mov   %eax, %cr4
            0x0F, 0x22, 0xD8,                         // mov   %eax, %cr3
            0xB8, 0x10, 0x00, 0x00, 0x00,             // mov   $0x10, %eax          flat data
            0x8E, 0xD8,                               // mov   %eax, %ds
            0x8E, 0xC0,                               // mov   %eax, %es
            0x8E, 0xD0,                               // mov   %eax, %ss
            0x8E, 0xE0,                               // mov   %eax, %fs
            0x8E, 0xE8,                               // mov   %eax, %gs
            0xB8, 0x18, 0x00, 0x00, 0x00,             // mov   $0x18, %eax
            0x0F, 0x00, 0xD8,                         // ltr   %ax
            0xF4);                                    // hlt

    /** Where RIP is once the stub has halted. */
    static final long END = START + CODE.length;

    /** QEMU's descriptor flags for a present, busy 32-bit TSS: P (bit 15) | type 11 (bits 8-11). */
    static final int TSS_BUSY_FLAGS = (1 << 15) | (11 << 8);

    private static final long CR0_PG = 1L << 31, EFER_LMA = 1L << 10;

    /** See {@link UnicornCpu#enterPvh}. */
    static void enter(UnicornCpu cpu, long entry, long startInfo) {
        long cr0 = cpu.cr0();
        long efer = cpu.efer();
        if ((cr0 & CR0_PG) != 0 || (efer & EFER_LMA) == 0) {
            throw new IllegalStateException("enterPvh needs a freshly opened engine (64-bit, paging off); this one has"
                    + " cr0 0x" + Long.toHexString(cr0) + " efer 0x" + Long.toHexString(efer));
        }
        cpu.mapScratch(SCRATCH, SCRATCH_SIZE);
        boolean kicked = false;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(0x1000, 8);
            page.set(JAVA_LONG, 0, PDPT | 0x3); // present, writable
            cpu.writePhys(PML4, page);
            page.fill((byte) 0);
            page.set(JAVA_LONG, 8 * 3, PD | 0x3);
            cpu.writePhys(PDPT, page);
            page.fill((byte) 0);
            page.set(JAVA_LONG, 8 * 511, 0xFFE0_0000L | 0x83); // present, writable, 2 MiB
            cpu.writePhys(PD, page);
            page.fill((byte) 0);
            for (int i = 0; i < GDT.length; i++) {
                page.set(JAVA_LONG, 8L * i, GDT[i]);
            }
            page.set(JAVA_SHORT, GDTR_IMAGE - PAGE, (short) (8 * GDT.length - 1));
            page.set(JAVA_LONG_UNALIGNED, GDTR_IMAGE - PAGE + 2, PAGE); // lgdt's 10-byte image: base at +2
            page.set(JAVA_INT, FAR_POINTER - PAGE, (int) (START + COMPAT_OFFSET));
            page.set(JAVA_SHORT, FAR_POINTER - PAGE + 4, (short) CODE32);
            MemorySegment.copy(CODE, 0, page, JAVA_BYTE, START - PAGE, CODE.length);
            cpu.writePhys(PAGE, page);

            cpu.setReg(Reg.RIP, START);
            UnicornExit exit;
            while ((exit = cpu.run()) instanceof UnicornExit.Stopped) {
                kicked = true; // not for the stub: kept for the caller's first run()
            }
            long rip = cpu.reg(Reg.RIP);
            if (!(exit instanceof UnicornExit.Hlt) || rip != END) {
                throw new UnicornException("the PVH entry stub stopped with " + exit + " at rip 0x"
                        + Long.toHexString(rip) + " instead of halting at 0x" + Long.toHexString(END - 1));
            }
        } finally {
            cpu.unmap(SCRATCH, SCRATCH_SIZE);
        }
        cpu.flushTranslations();
        cpu.setGdt(new DTable(0, 0)); // the scratch GDT is gone; PVH leaves GDTR to the guest
        cpu.setTr(TSS, 0, 0x67, TSS_BUSY_FLAGS); // ltr loaded it as available (type 9); PVH wants it busy
        cpu.setRegs(Regs.INITIAL.with(Reg.RIP, entry).with(Reg.RBX, startInfo));
        if (kicked) {
            cpu.kick();
        }
    }

    private static byte[] bytes(int... b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = (byte) b[i];
        }
        return r;
    }
}
