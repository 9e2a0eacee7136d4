package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import xenshim.api.Domain;

/** Port 0x12's per-domain budget, on a clock the test moves. */
class DebugPortTest {

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private long now = 1_000_000_000L;
    private final DebugPort port = new DebugPort(Domain.guest(1), (d, b, o, l) -> printed.write(b, o, l), () -> now);

    private void write(int bytes, byte b) {
        for (int i = 0; i < bytes; i++) {
            port.write(0, b);
        }
    }

    @Test
    void aDomainGetsItsBurstThenOnlyWhatTheRateRefills() {
        write((int) DebugPort.BURST + 1000, (byte) 'x');
        assertThat(printed.size()).isEqualTo(DebugPort.BURST);
        assertThat(port.dropped()).isEqualTo(1000);

        now += 500_000_000L; // half a second: 32 KiB more
        write(100_000, (byte) 'y');
        assertThat(printed.size()).isEqualTo(DebugPort.BURST + DebugPort.BYTES_PER_SECOND / 2);

        now += 3_600_000_000_000L; // an hour idle refills the burst, no more
        printed.reset();
        write((int) DebugPort.BURST + 5, (byte) 'z');
        assertThat(printed.size()).isEqualTo(DebugPort.BURST);
    }

    @Test
    void onlyPrintableBytesTabAndNewlineGoOutAndDroppedOnesCostNothing() {
        for (byte b : new byte[] {'o', 'k', 0x07, 0x1b, (byte) 0xff, '\t', '\n', '\r'}) {
            port.write(0, b);
        }
        assertThat(printed.toString(StandardCharsets.ISO_8859_1)).isEqualTo("ok\t\n");
        assertThat(port.dropped()).isZero();
    }

    @Test
    void aFailingConsoleIsSurvived() {
        DebugPort broken = new DebugPort(Domain.guest(2), (d, b, o, l) -> {
            throw new IllegalStateException("console is broken");
        }, () -> now);
        broken.write(0, (byte) 'a');
        broken.write(0, (byte) 'b');
        assertThat(broken.dropped()).isZero();
    }
}
