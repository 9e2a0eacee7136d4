package xenshim.x86;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;
import xenshim.api.Domain;

class StdoutConsoleTest {

    private static final Domain GUEST = Domain.guest(1);

    private static void write(StdoutConsole console, String s) {
        byte[] b = s.getBytes(US_ASCII);
        console.write(GUEST, b, 0, b.length);
    }

    @Test
    void aBufferedStreamIsFlushedAtEachNewlineAndOnFlush() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        StdoutConsole console = new StdoutConsole(new BufferedOutputStream(sink));
        write(console, "no newline yet");
        assertThat(sink.toString(US_ASCII)).isEmpty();
        write(console, "; done\npartial");
        assertThat(sink.toString(US_ASCII)).isEqualTo("no newline yet; done\npartial");
        write(console, " tail");
        assertThat(sink.toString(US_ASCII)).isEqualTo("no newline yet; done\npartial");
        console.flush();
        assertThat(sink.toString(US_ASCII)).isEqualTo("no newline yet; done\npartial tail");
    }

    @Test
    void aFailingStreamThrowsUncheckedIoException() {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("broken pipe");
            }
        };
        StdoutConsole console = new StdoutConsole(new BufferedOutputStream(broken));
        write(console, "buffered, not yet written");
        assertThatThrownBy(() -> write(console, "\n")).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining("broken pipe");
        assertThatThrownBy(console::flush).isInstanceOf(UncheckedIOException.class);
    }
}
