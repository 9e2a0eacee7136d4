package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** How an argument register reaches a handler in each ABI. */
class AbiTest {

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 0xFFFF_FFFFL, 0x1_0000_0000L, 0xDEAD_0001_8000_1000L, -1L, Long.MIN_VALUE})
    void aNativeArgumentIsTheWholeRegister(long register) {
        assertThat(Abi.X86_64.argument(register)).isEqualTo(register);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 0xFFFF_FFFFL, 0x1_0000_0000L, 0xDEAD_0001_8000_1000L, -1L, Long.MIN_VALUE})
    void aCompatArgumentIsTheLow32BitsZeroExtended(long register) {
        long argument = Abi.X86_32.argument(register);
        assertThat(argument).isEqualTo(register & 0xFFFF_FFFFL);
        assertThat(argument >>> 32).as("upper half").isZero();
        assertThat(argument).as("zero-extended, not sign-extended").isNotNegative();
    }

    @Test
    void aCompatPointerWithAnAllOnesUpperHalfKeepsOnlyItsLowHalf() {
        assertThat(Abi.X86_32.argument(0xFFFF_FFFF_0010_2000L)).isEqualTo(0x0010_2000L);
    }
}
