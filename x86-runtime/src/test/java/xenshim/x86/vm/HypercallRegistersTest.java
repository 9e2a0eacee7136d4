package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import xenshim.api.Abi;
import xenshim.x86.cpu.Reg;

/** The compat (32-bit) and native (64-bit) hypercall register conventions, decided per call. */
class HypercallRegistersTest {

    private static final long LMA = 1L << 10;
    private static final long LME = 1L << 8;

    /** Every register holds a distinct value with the upper half set, so a wrong register or a missing truncation shows. */
    private static HypercallRegisters.RegisterFile registers() {
        Map<Reg, Long> values = new EnumMap<>(Reg.class);
        for (Reg r : Reg.values()) {
            values.put(r, 0xDEAD_0000_0000_0000L | ((long) (r.ordinal() + 1) << 32) | (0x8000_1000L + r.ordinal()));
        }
        return values::get;
    }

    private static long value(Reg r) {
        return registers().get(r);
    }

    @ParameterizedTest(name = "EFER={0} CS.L={1} -> {2}")
    @CsvSource({
        "0,     false, X86_32",
        "0,     true,  X86_32",
        "256,   false, X86_32", // LME alone (not yet active)
        "256,   true,  X86_32",
        "1024,  false, X86_32", // compatibility mode of a 64-bit guest
        "1280,  false, X86_32",
        "1024,  true,  X86_64",
        "1280,  true,  X86_64",
        "3329,  true,  X86_64", // with SCE and NXE
        "3329,  false, X86_32",
    })
    void abiFromEferLmaAndCsL(long efer, boolean csL, Abi expected) {
        assertThat(HypercallRegisters.abi(efer, csL)).isEqualTo(expected);
    }

    @Test
    void abiNeedsBothLmaAndCsL() {
        assertThat(HypercallRegisters.abi(LMA | LME, true)).isEqualTo(Abi.X86_64);
        assertThat(HypercallRegisters.abi(LMA | LME, false)).isEqualTo(Abi.X86_32);
        assertThat(HypercallRegisters.abi(LME, true)).isEqualTo(Abi.X86_32);
        assertThat(HypercallRegisters.abi(~LMA, true)).isEqualTo(Abi.X86_32);
    }

    @Test
    void nativeArgumentsAreRdiRsiRdxR10R8InFull() {
        Reg[] order = {Reg.RDI, Reg.RSI, Reg.RDX, Reg.R10, Reg.R8};
        for (int i = 0; i < 5; i++) {
            assertThat(HypercallRegisters.argument(Abi.X86_64, i, registers())).as("arg %d", i).isEqualTo(value(order[i]));
            assertThat(value(order[i]) >>> 32).isNotZero();
        }
    }

    @Test
    void compatArgumentsAreEbxEcxEdxEsiEdiTruncated() {
        Reg[] order = {Reg.RBX, Reg.RCX, Reg.RDX, Reg.RSI, Reg.RDI};
        for (int i = 0; i < 5; i++) {
            long arg = HypercallRegisters.argument(Abi.X86_32, i, registers());
            assertThat(arg).as("arg %d", i).isEqualTo(value(order[i]) & 0xFFFF_FFFFL);
            assertThat(arg >>> 32).as("upper half of arg %d", i).isZero();
            assertThat(arg).as("zero-extended, not sign-extended").isPositive();
        }
    }

    @Test
    void compatPointerWithAllOnesUpperHalf() {
        HypercallRegisters.RegisterFile regs = r -> r == Reg.RBX ? 0xFFFF_FFFF_0010_2000L : -1L;
        assertThat(HypercallRegisters.argument(Abi.X86_32, 0, regs)).isEqualTo(0x0010_2000L);
        assertThat(HypercallRegisters.argument(Abi.X86_32, 1, regs)).isEqualTo(0xFFFF_FFFFL);
        assertThat(HypercallRegisters.argument(Abi.X86_64, 1, regs)).isEqualTo(-1L);
    }

    @Test
    void raxForResults() {
        assertThat(HypercallRegisters.rax(Abi.X86_64, -14)).isEqualTo(0xFFFF_FFFF_FFFF_FFF2L);
        assertThat(HypercallRegisters.rax(Abi.X86_32, -14)).isEqualTo(0xFFFF_FFF2L);
        assertThat(HypercallRegisters.rax(Abi.X86_64, -38)).isEqualTo(-38L);
        assertThat(HypercallRegisters.rax(Abi.X86_32, -38)).isEqualTo(0xFFFF_FFDAL);
        assertThat(HypercallRegisters.rax(Abi.X86_64, 0x40011)).isEqualTo(0x40011);
        assertThat(HypercallRegisters.rax(Abi.X86_32, 0x40011)).isEqualTo(0x40011);
        assertThat(HypercallRegisters.rax(Abi.X86_64, 0x1_2345_6789L)).isEqualTo(0x1_2345_6789L);
        assertThat(HypercallRegisters.rax(Abi.X86_32, 0x1_2345_6789L)).isEqualTo(0x2345_6789L);
        assertThat(HypercallRegisters.rax(Abi.X86_32, 0)).isZero();
    }
}
