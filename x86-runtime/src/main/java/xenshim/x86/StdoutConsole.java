package xenshim.x86;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;

/**
 * The guest console of {@code xenshim run}: what guests print goes to an
 * output stream (stdout, buffered), flushed at each newline so lines appear as
 * the guest writes them, and by {@link #flush()} for a last unterminated line.
 * A failing stream throws {@link UncheckedIOException} (the callers contain it).
 */
public final class StdoutConsole implements GuestConsole {

    private final OutputStream out;

    /** @param out where the bytes go; buffer it if it is not (the flush at each newline is then real) */
    public StdoutConsole(OutputStream out) {
        this.out = out;
    }

    /** The process's standard output (file descriptor 1), buffered. */
    public static StdoutConsole stdout() {
        return new StdoutConsole(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)));
    }

    @Override
    public synchronized void write(Domain domain, byte[] bytes, int offset, int length) {
        try {
            out.write(bytes, offset, length);
            for (int i = offset; i < offset + length; i++) {
                if (bytes[i] == '\n') {
                    out.flush();
                    break;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes out whatever is buffered. */
    public synchronized void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
