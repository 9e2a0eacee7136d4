package xenshim.x86;

import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;

/**
 * The guest console of {@code xenshim run}: what guests print goes to an
 * output stream (stdout), flushed at each newline so lines appear as the
 * guest writes them.
 */
public final class StdoutConsole implements GuestConsole {

    private final OutputStream out;

    public StdoutConsole(OutputStream out) {
        this.out = out;
    }

    public static StdoutConsole stdout() {
        return new StdoutConsole(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false));
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
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes out whatever is buffered. */
    public synchronized void flush() {
        try {
            out.flush();
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
