package xenshim.api;

import xenshim.api.abi.AbiLayouts;

/**
 * The hypercall ABI of one call: native 64-bit, or the 32-bit compat ABI
 * (a 32-bit guest, or a 64-bit guest calling from compatibility mode). Xen
 * decides it per call, from the CPU mode of the caller, and so must we.
 */
public enum Abi {
    /** x86-64: arguments in rdi, rsi, rdx, r10, r8; 8-byte longs and handles. */
    X86_64(8),
    /** x86-32 compat: arguments in ebx, ecx, edx, esi, edi; 4-byte longs and handles. */
    X86_32(4);

    private final int longSize;

    Abi(int longSize) {
        this.longSize = longSize;
    }

    /** Size in bytes of the guest's {@code unsigned long}, {@code xen_ulong_t} and guest handles. */
    public int longSize() {
        return longSize;
    }

    /** The struct layouts of this ABI. */
    public AbiLayouts layouts() {
        return this == X86_64 ? AbiLayouts.X86_64 : AbiLayouts.X86_32;
    }

    /** Reads an {@code unsigned long} (or a guest handle) of this ABI, zero-extended. */
    public long readULong(GuestMemory memory, long address) {
        return this == X86_64 ? memory.read64(address) : Integer.toUnsignedLong(memory.read32(address));
    }

    /** Writes an {@code unsigned long} of this ABI (truncated to 32 bits for compat). */
    public void writeULong(GuestMemory memory, long address, long value) {
        if (this == X86_64) {
            memory.write64(address, value);
        } else {
            memory.write32(address, (int) value);
        }
    }

    /**
     * An argument register as the handler should see it: a native register in
     * full, a compat one zero-extended from its low 32 bits (ebx..edi). The
     * one place this rule lives: the runtime's register decoding and the
     * testkit's harness both use it.
     */
    public long argument(long register) {
        return this == X86_64 ? register : register & 0xFFFF_FFFFL;
    }
}
