package xenshim.x86.kvm;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.Locale;
import xenshim.x86.cpu.Reg;

/** {@code struct kvm_regs} (asm/kvm.h): the general-purpose registers, rip and rflags. */
public record Regs(
        long rax, long rbx, long rcx, long rdx, long rsi, long rdi, long rsp, long rbp,
        long r8, long r9, long r10, long r11, long r12, long r13, long r14, long r15,
        long rip, long rflags) {

    /** {@code struct kvm_regs}: 18 {@code __u64}, 144 bytes. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("rax"), JAVA_LONG.withName("rbx"), JAVA_LONG.withName("rcx"), JAVA_LONG.withName("rdx"),
            JAVA_LONG.withName("rsi"), JAVA_LONG.withName("rdi"), JAVA_LONG.withName("rsp"), JAVA_LONG.withName("rbp"),
            JAVA_LONG.withName("r8"), JAVA_LONG.withName("r9"), JAVA_LONG.withName("r10"), JAVA_LONG.withName("r11"),
            JAVA_LONG.withName("r12"), JAVA_LONG.withName("r13"), JAVA_LONG.withName("r14"), JAVA_LONG.withName("r15"),
            JAVA_LONG.withName("rip"), JAVA_LONG.withName("rflags")).withName("kvm_regs");

    /** Byte offset of each register inside {@code struct kvm_regs}, by {@link Reg} ordinal. */
    private static final long[] OFFSETS = java.util.Arrays.stream(Reg.values())
            .mapToLong(r -> LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement(r.name().toLowerCase(Locale.ROOT))))
            .toArray();

    /** Byte offset of {@code r} inside {@code struct kvm_regs}. */
    static long offset(Reg r) {
        return OFFSETS[r.ordinal()];
    }

    /** All registers zero except rflags bit 1 (always set on x86). */
    public static final Regs INITIAL = new Regs(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);

    /** The value of one register. */
    public long get(Reg r) {
        return switch (r) {
            case RAX -> rax; case RBX -> rbx; case RCX -> rcx; case RDX -> rdx;
            case RSI -> rsi; case RDI -> rdi; case RSP -> rsp; case RBP -> rbp;
            case R8 -> r8; case R9 -> r9; case R10 -> r10; case R11 -> r11;
            case R12 -> r12; case R13 -> r13; case R14 -> r14; case R15 -> r15;
            case RIP -> rip; case RFLAGS -> rflags;
        };
    }

    /** A copy with one register changed. */
    public Regs with(Reg r, long value) {
        long[] v = new long[Reg.values().length];
        for (Reg x : Reg.values()) {
            v[x.ordinal()] = x == r ? value : get(x);
        }
        return new Regs(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11],
                v[12], v[13], v[14], v[15], v[16], v[17]);
    }

    static Regs read(MemorySegment s) {
        long[] v = new long[Reg.values().length];
        for (Reg x : Reg.values()) {
            v[x.ordinal()] = s.get(JAVA_LONG, offset(x));
        }
        return new Regs(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11],
                v[12], v[13], v[14], v[15], v[16], v[17]);
    }

    void write(MemorySegment s) {
        for (Reg x : Reg.values()) {
            s.set(JAVA_LONG, offset(x), get(x));
        }
    }
}
