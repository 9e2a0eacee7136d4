package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Assumptions;
import xenshim.x86.Accel;

/**
 * {@code xenshim run} paths that refuse the image before any guest starts (so nothing reaches
 * stdout), on whichever CPU backend {@code --accel auto} picks here.
 */
class RunCommandImageTest {

    @BeforeEach
    void needABackend() {
        Assumptions.assumeTrue(Accel.KVM.unavailableReason().isEmpty() || Accel.TCG.unavailableReason().isEmpty(),
                () -> "needs /dev/kvm or the software CPU (libunicorn2): KVM: " + Accel.KVM.unavailableReason().orElse("")
                        + "; software CPU: " + Accel.TCG.unavailableReason().orElse(""));
    }

    /** An ELF64 x86-64 image with one 4 KiB PT_LOAD segment at {@code paddr}. */
    private static byte[] elfAt(long paddr) {
        ByteBuffer b = ByteBuffer.allocate(64 + 56 + 16).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2).putShort(18, (short) 62).putInt(20, 1).putLong(24, paddr).putLong(32, 64)
                .putShort(52, (short) 64).putShort(54, (short) 56).putShort(56, (short) 1);
        b.putInt(64, 1).putLong(64 + 8, 120).putLong(64 + 24, paddr).putLong(64 + 32, 16).putLong(64 + 40, 4096);
        b.put(120, (byte) 0xF4);
        return b.array();
    }

    @Test
    void segmentBeyondRamIsStatus1SuggestingMoreMemory(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("high.elf");
        Files.write(file, elfAt(0x300000));
        MainTest.Result r = MainTest.run("run", "--memory", "2M", file.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains(file.toString()).contains("outside guest RAM").contains("--memory");
        assertThat(r.err()).doesNotContain("\tat ");
    }

    @Test
    void cmdlineTooLongIsRefused(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ok.elf");
        Files.write(file, elfAt(0x100000));
        MainTest.Result r = MainTest.run("run", "--cmdline", "x".repeat(5000), file.toString());
        assertThat(r.status()).isIn(1, 2);
        assertThat(r.err()).contains("--cmdline").contains("4095");
    }
}
