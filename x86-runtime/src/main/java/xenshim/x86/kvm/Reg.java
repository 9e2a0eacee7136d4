package xenshim.x86.kvm;

import java.lang.foreign.MemoryLayout.PathElement;

/** The general-purpose registers of {@code struct kvm_regs}, in its order. */
public enum Reg {
    RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP, R8, R9, R10, R11, R12, R13, R14, R15, RIP, RFLAGS;

    /** Byte offset of this register inside {@code struct kvm_regs}. */
    final long offset = Regs.LAYOUT.byteOffset(PathElement.groupElement(name().toLowerCase(java.util.Locale.ROOT)));

    private static final Reg[] VALUES = values();

    static Reg of(int ordinal) {
        return VALUES[ordinal];
    }
}
