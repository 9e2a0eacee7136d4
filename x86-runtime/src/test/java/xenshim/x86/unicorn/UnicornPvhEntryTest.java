package xenshim.x86.unicorn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static xenshim.x86.unicorn.TestGuest.bytes;

import java.lang.foreign.Arena;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import xenshim.x86.kvm.DTable;
import xenshim.x86.cpu.Reg;
import xenshim.x86.kvm.Regs;
import xenshim.x86.kvm.SegmentRegister;

/**
 * {@link UnicornCpu#enterPvh}: from Unicorn's 64-bit reset state to Xen's PVH entry state, then a
 * 32-bit program that does what a PVH kernel's head does: report %ebx, halt, build page tables,
 * enable PAE and long mode, far-jump to 64-bit code and report again.
 */
class UnicornPvhEntryTest extends OnTestGuest {

    static final long ENTRY = 0x10000, START_INFO = 0x6000;

    /**
     * The 32-bit program, at {@link #ENTRY} ({@code as --32}, linked at 0x10000). Its page tables go
     * to 0x1000 (PML4), 0x2000 (PDPT), 0x3000 (PD: one 2 MiB page, identity), its GDT to 0x10068.
     */
    static final byte[] PROGRAM = bytes(
            0x89, 0xD8,                                     // 0x00 mov %ebx, %eax
            0xE7, 0xE4,                                     // 0x02 out %eax, $0xe4         exit: %ebx as the entry had it
            0xEB, 0x00,                                     // 0x04 jmp 0x06                (ends the block)
            0xF4,                                           // 0x06 hlt
            0xC7, 0x05, 0x00, 0x10, 0, 0, 0x03, 0x20, 0, 0, // 0x07 movl $0x2003, 0x1000    PML4[0] -> PDPT
            0xC7, 0x05, 0x00, 0x20, 0, 0, 0x03, 0x30, 0, 0, // 0x11 movl $0x3003, 0x2000    PDPT[0] -> PD
            0xC7, 0x05, 0x00, 0x30, 0, 0, 0x83, 0x00, 0, 0, // 0x1b movl $0x83, 0x3000      PD[0]: 2 MiB at 0
            0x0F, 0x20, 0xE0,                               // 0x25 mov %cr4, %eax
            0x83, 0xC8, 0x20,                               // 0x28 or $0x20, %eax          CR4.PAE
            0x0F, 0x22, 0xE0,                               // 0x2b mov %eax, %cr4
            0xB8, 0x00, 0x10, 0x00, 0x00,                   // 0x2e mov $0x1000, %eax
            0x0F, 0x22, 0xD8,                               // 0x33 mov %eax, %cr3
            0xB9, 0x80, 0x00, 0x00, 0xC0,                   // 0x36 mov $0xc0000080, %ecx   EFER
            0x0F, 0x32,                                     // 0x3b rdmsr
            0x0D, 0x00, 0x01, 0x00, 0x00,                   // 0x3d or $0x100, %eax         EFER.LME
            0x0F, 0x30,                                     // 0x42 wrmsr
            0x0F, 0x20, 0xC0,                               // 0x44 mov %cr0, %eax
            0x0D, 0x00, 0x00, 0x00, 0x80,                   // 0x47 or $0x80000000, %eax    CR0.PG: long mode
            0x0F, 0x22, 0xC0,                               // 0x4c mov %eax, %cr0
            0x0F, 0x01, 0x15, 0x78, 0x00, 0x01, 0x00,       // 0x4f lgdtl 0x10078
            0xEA, 0x5D, 0x00, 0x01, 0x00, 0x08, 0x00,       // 0x56 ljmp $0x08, $0x1005d
            0xB8, 0x64, 0x00, 0x00, 0x00,                   // 0x5d mov $0x64, %eax         (64-bit code)
            0xE7, 0xE4,                                     // 0x62 out %eax, $0xe4
            0xEB, 0x00,                                     // 0x64 jmp 0x66
            0xF4,                                           // 0x66 hlt
            0x90,                                           // 0x67 (padding)
            0, 0, 0, 0, 0, 0, 0, 0,                         // 0x68 GDT: null
            0xFF, 0xFF, 0, 0, 0, 0x9B, 0xAF, 0x00,          // 0x70      0x08: 64-bit code
            0x0F, 0x00, 0x68, 0x00, 0x01, 0x00);            // 0x78 GDTR image: limit 15, base 0x10068

    @Test
    void theStubLeavesTheCpuInPvhsEntryStateAndGuestRamUntouched() {
        guest.load(ENTRY, PROGRAM);
        byte[] before = guest.ram.toArray(JAVA_BYTE);

        cpu.enterPvh(ENTRY, START_INFO);

        assertThat(Arrays.equals(guest.ram.toArray(JAVA_BYTE), before)).as("guest RAM untouched").isTrue();
        assertThat(cpu.regs()).isEqualTo(Regs.INITIAL.with(Reg.RIP, ENTRY).with(Reg.RBX, START_INFO));
        assertThat(cpu.cr0()).as("PE|ET").isEqualTo(0x11);
        assertThat(cpu.cr3()).isZero();
        assertThat(cpu.cr4()).isZero();
        assertThat(cpu.efer()).isZero();
        assertThat(cpu.selector(SegmentRegister.CS)).isEqualTo(PvhEntryStub.CODE32);
        for (SegmentRegister data : new SegmentRegister[] {SegmentRegister.DS, SegmentRegister.ES, SegmentRegister.FS,
                SegmentRegister.GS, SegmentRegister.SS}) {
            assertThat(cpu.selector(data)).as(data.name()).isEqualTo(PvhEntryStub.DATA);
        }
        assertThat(cpu.selector(SegmentRegister.TR)).isEqualTo(PvhEntryStub.TSS);
        assertThat(cpu.trFlags()).as("busy 32-bit TSS").isEqualTo(PvhEntryStub.TSS_BUSY_FLAGS);
        assertThat(cpu.gdt()).isEqualTo(new DTable(0, 0));
        try (Arena arena = Arena.ofConfined()) {
            assertThatThrownBy(() -> cpu.readPhys(PvhEntryStub.SCRATCH, arena.allocate(8)))
                    .as("the scratch pages are gone").isInstanceOf(UnicornException.class)
                    .hasMessageContaining("UC_ERR_READ_UNMAPPED");
        }
    }

    @Test
    void aPvhKernelHeadRunsFromThereIntoLongMode() {
        guest.load(ENTRY, PROGRAM);
        cpu.enterPvh(ENTRY, START_INFO);

        UnicornExit exit = cpu.run();
        assertThat(exit).isInstanceOfSatisfying(UnicornExit.Io.class, io -> {
            assertThat(io.port()).isEqualTo(0xE4);
            assertThat(io.value()).as("%ebx at the entry").isEqualTo(START_INFO);
        });
        assertThat(cpu.reg(Reg.RIP)).isEqualTo(ENTRY + 0x06);
        assertThat(cpu.run()).isSameAs(UnicornExit.Hlt.INSTANCE);
        assertThat(cpu.efer() & (1L << 10)).as("not in long mode yet").isZero();

        exit = cpu.run();
        assertThat(exit).isInstanceOfSatisfying(UnicornExit.Io.class, io -> assertThat(io.value()).isEqualTo(0x64));
        assertThat(cpu.reg(Reg.RIP)).isEqualTo(ENTRY + 0x66);
        assertThat(cpu.efer()).as("LME|LMA").isEqualTo(0x500);
        assertThat(cpu.cr0()).isEqualTo(0x8000_0011L);
        assertThat(cpu.cr3()).isEqualTo(0x1000);
        assertThat(cpu.selector(SegmentRegister.CS)).isEqualTo(0x08);
        assertThat(cpu.run()).isSameAs(UnicornExit.Hlt.INSTANCE);
    }

    @Test
    void onlyAFreshEngineCanBeTakenThere() {
        cpu.enterPvh(ENTRY, START_INFO);
        assertThatThrownBy(() -> cpu.enterPvh(ENTRY, START_INFO)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("freshly opened");
    }

    @Test
    void theScratchRangeMustBeFree() {
        cpu.mapUnbacked(PvhEntryStub.SCRATCH, PvhEntryStub.SCRATCH_SIZE);
        assertThatThrownBy(() -> cpu.enterPvh(ENTRY, START_INFO)).isInstanceOf(UnicornException.class)
                .hasMessageStartingWith("uc_mem_map failed: UC_ERR_MAP");
    }
}
