package xenshim.x86.cpu;

import java.util.function.ToLongFunction;

/** The registers of a stopped vCPU as one block of text for a message, the same for every backend. */
public final class RegisterDump {

    private RegisterDump() {
    }

    /**
     * @param gpr       the general registers, RIP and RFLAGS
     * @param mode      "64-bit", "compat", "32-bit protected", ...
     * @param segments  the backend's line about segments and descriptor tables
     */
    public static String format(ToLongFunction<Reg> gpr, String mode, int cpl, long cr0, long cr2, long cr3,
                                long cr4, long efer, String segments) {
        return String.format("""
                  rip=%016x rsp=%016x rflags=%08x mode=%s cpl=%d
                  rax=%016x rbx=%016x rcx=%016x rdx=%016x
                  rsi=%016x rdi=%016x rbp=%016x r8 =%016x
                  r9 =%016x r10=%016x r11=%016x r12=%016x
                  r13=%016x r14=%016x r15=%016x
                  cr0=%016x cr2=%016x cr3=%016x cr4=%016x efer=%016x
                  %s""",
                gpr.applyAsLong(Reg.RIP), gpr.applyAsLong(Reg.RSP), gpr.applyAsLong(Reg.RFLAGS), mode, cpl,
                gpr.applyAsLong(Reg.RAX), gpr.applyAsLong(Reg.RBX), gpr.applyAsLong(Reg.RCX), gpr.applyAsLong(Reg.RDX),
                gpr.applyAsLong(Reg.RSI), gpr.applyAsLong(Reg.RDI), gpr.applyAsLong(Reg.RBP), gpr.applyAsLong(Reg.R8),
                gpr.applyAsLong(Reg.R9), gpr.applyAsLong(Reg.R10), gpr.applyAsLong(Reg.R11), gpr.applyAsLong(Reg.R12),
                gpr.applyAsLong(Reg.R13), gpr.applyAsLong(Reg.R14), gpr.applyAsLong(Reg.R15),
                cr0, cr2, cr3, cr4, efer, segments);
    }
}
