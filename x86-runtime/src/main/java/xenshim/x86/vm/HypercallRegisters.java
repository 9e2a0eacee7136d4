package xenshim.x86.vm;

import xenshim.api.Abi;
import xenshim.x86.cpu.Reg;

/**
 * Xen's hypercall register convention, decided per call from the live CPU
 * mode as Xen's {@code hvm_hypercall} does: a vCPU in 64-bit mode (EFER.LMA
 * and CS.L) uses the native ABI, with arguments in rdi, rsi, rdx, r10, r8;
 * anything else — a 32-bit guest, or a 64-bit guest calling from a
 * compatibility-mode segment — uses the compat ABI with ebx, ecx, edx, esi,
 * edi. The result goes to rax, or to eax (zero-extended) for compat.
 */
public final class HypercallRegisters {

    /** Reads one register of the calling vCPU. */
    @FunctionalInterface
    public interface RegisterFile {
        long get(Reg register);
    }

    private static final long EFER_LMA = 1L << 10;
    private static final Reg[] NATIVE = {Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8};
    private static final Reg[] COMPAT = {Reg.RBX, Reg.RCX, Reg.RDX, Reg.RSI, Reg.RDI};

    private HypercallRegisters() {
    }

    /** The ABI of a call made with this EFER and this CS.L bit. */
    public static Abi abi(long efer, boolean csLong) {
        return (efer & EFER_LMA) != 0 && csLong ? Abi.X86_64 : Abi.X86_32;
    }

    /**
     * Argument {@code index} (0..4) as the handler gets it: this ABI's register,
     * cut to the ABI's width by {@link Abi#argument} (compat arguments are the
     * low 32 bits).
     */
    public static long argument(Abi abi, int index, RegisterFile registers) {
        return abi.argument(registers.get(abi == Abi.X86_64 ? NATIVE[index] : COMPAT[index]));
    }

    /** The register argument {@code index} (0..4) travels in: where a continuation writes it back. */
    public static Reg argumentRegister(Abi abi, int index) {
        return abi == Abi.X86_64 ? NATIVE[index] : COMPAT[index];
    }

    /** What goes to rax (or an argument register) for {@code result}: compat registers hold 32 bits. */
    public static long rax(Abi abi, long result) {
        return abi == Abi.X86_64 ? result : result & 0xFFFF_FFFFL;
    }
}
