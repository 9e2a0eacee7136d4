package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HypercallPageCodeTest {

    @Test
    void oneStubPerHypercallAndInt3Elsewhere() {
        byte[] page = HypercallPageCode.page();
        assertThat(page).hasSize(4096);
        assertThat(HypercallPageCode.PORT).isEqualTo(0xE4);
        for (int n = 0; n < 128; n++) {
            int at = n * 32;
            if (n == 23) {
                assertThat(page[at]).as("stub 23 ud2").isEqualTo((byte) 0x0F);
                assertThat(page[at + 1]).isEqualTo((byte) 0x0B);
                for (int i = 2; i < 32; i++) {
                    assertThat(page[at + i]).as("stub 23 byte %d", i).isEqualTo((byte) 0xCC);
                }
                continue;
            }
            byte[] expected = {(byte) 0xB8, (byte) n, 0, 0, 0, (byte) 0xE7, (byte) 0xE4, (byte) 0xC3};
            for (int i = 0; i < 8; i++) {
                assertThat(page[at + i]).as("stub %d byte %d", n, i).isEqualTo(expected[i]);
            }
            for (int i = 8; i < 32; i++) {
                assertThat(page[at + i]).as("stub %d padding byte %d", n, i).isEqualTo((byte) 0xCC);
            }
        }
    }

    @Test
    void pageIsACopy() {
        byte[] page = HypercallPageCode.page();
        page[0] = 0;
        assertThat(HypercallPageCode.page()[0]).isEqualTo((byte) 0xB8);
    }
}
