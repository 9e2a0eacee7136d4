package xenshim.x86.kvm;

import xenshim.x86.cpu.Reg;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemorySegment;

/**
 * A tiny 64-bit guest for the KVM tests: 2 MiB of RAM, identity-mapped with one 2 MiB page,
 * long mode entered directly through KVM_SET_SREGS, code at {@link #CODE}.
 */
final class TinyGuest implements AutoCloseable {
    static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, GDT = 0x500;
    static final long CODE = 0x10000, STACK_TOP = 0x80000;
    static final long RAM_SIZE = 2L << 20;

    final Kvm kvm;
    final VmFd vm;
    final GuestRam ram;
    final VcpuFd cpu;

    TinyGuest(byte[] code) {
        this(code, null);
    }

    /** @param beforeVcpu run on the VM before the vCPU is created (e.g. MSR filter); may be null */
    TinyGuest(byte[] code, java.util.function.Consumer<VmFd> beforeVcpu) {
        kvm = Kvm.open();
        vm = kvm.createVm();
        ram = GuestRam.create(vm, RAM_SIZE);
        if (beforeVcpu != null) {
            beforeVcpu.accept(vm);
        }
        cpu = vm.createVcpu(0);
        MemorySegment m = ram.segment();
        // page tables: PML4[0] -> PDPT, PDPT[0] -> PD, PD[0] = 2 MiB page at 0 (P|RW|PS)
        m.set(JAVA_LONG, PML4, PDPT | 0x3);
        m.set(JAVA_LONG, PDPT, PD | 0x3);
        m.set(JAVA_LONG, PD, 0x83);
        // GDT: null, 64-bit code (0x08), data (0x10)
        m.set(JAVA_LONG, GDT, 0);
        m.set(JAVA_LONG, GDT + 8, 0x00af9b000000ffffL);
        m.set(JAVA_LONG, GDT + 16, 0x00cf93000000ffffL);
        MemorySegment.copy(code, 0, m, JAVA_BYTE, CODE, code.length);

        cpu.setCpuid2(kvm.supportedCpuid().stream().filter(e -> (e.function() & 0xF0000000) != 0x40000000).toList());
        Sregs s = cpu.getSregs()
                .withCs(Segment.code64(0x08))
                .withDataSegments(Segment.data(0x10))
                .withTr(Segment.busyTss(0, 0, 0x67))
                .withGdt(new DTable(GDT, 23))
                .withControl(Sregs.CR0_PE | Sregs.CR0_MP | Sregs.CR0_ET | Sregs.CR0_NE | Sregs.CR0_WP | Sregs.CR0_PG,
                        PML4, Sregs.CR4_PAE, Sregs.EFER_LME | Sregs.EFER_LMA);
        cpu.setSregs(s);
        cpu.setRegs(Regs.INITIAL.with(Reg.RIP, CODE).with(Reg.RSP, STACK_TOP));
    }

    static byte[] bytes(int... b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = (byte) b[i];
        }
        return r;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] r = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, r, at, p.length);
            at += p.length;
        }
        return r;
    }

    /** {@code mov $imm32, %eax}. */
    static byte[] movEax(int imm) {
        return bytes(0xB8, imm & 0xFF, (imm >>> 8) & 0xFF, (imm >>> 16) & 0xFF, imm >>> 24);
    }

    /** {@code mov $imm32, %ecx}. */
    static byte[] movEcx(int imm) {
        return bytes(0xB9, imm & 0xFF, (imm >>> 8) & 0xFF, (imm >>> 16) & 0xFF, imm >>> 24);
    }

    /** {@code mov $imm32, %edx}. */
    static byte[] movEdx(int imm) {
        return bytes(0xBA, imm & 0xFF, (imm >>> 8) & 0xFF, (imm >>> 16) & 0xFF, imm >>> 24);
    }

    /** {@code out %eax, $port}. */
    static byte[] outEax(int port) {
        return bytes(0xE7, port);
    }

    static final byte[] HLT = bytes(0xF4);
    static final byte[] WRMSR = bytes(0x0F, 0x30);
    static final byte[] RDMSR = bytes(0x0F, 0x32);
    static final byte[] UD2 = bytes(0x0F, 0x0B);

    @Override
    public void close() {
        cpu.close();
        vm.close();
        ram.close();
        kvm.close();
    }
}
