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
    /** With several guests: each line starts with its domain, {@code (d1) }, as Xen's console shows guests. */
    private boolean prefixDomains;
    private int lastDomain = -1;
    private boolean atLineStart = true;

    /** @param out where the bytes go; buffer it if it is not (the flush at each newline is then real) */
    public StdoutConsole(OutputStream out) {
        this.out = out;
    }

    /** From now on, each line is prefixed with its domain ({@code (d1) }); for runs of several guests. */
    public synchronized StdoutConsole prefixDomains() {
        prefixDomains = true;
        return this;
    }

    /** The process's standard output (file descriptor 1), buffered. */
    public static StdoutConsole stdout() {
        return new StdoutConsole(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out)));
    }

    @Override
    public synchronized void write(Domain domain, byte[] bytes, int offset, int length) {
        try {
            if (prefixDomains) {
                writePrefixed(domain, bytes, offset, length);
                return;
            }
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

    /**
     * Each line with its domain in front; a line one domain left unfinished is ended when another
     * domain writes, so lines never interleave.
     */
    private void writePrefixed(Domain domain, byte[] bytes, int offset, int length) throws IOException {
        if (domain.domid() != lastDomain && !atLineStart) {
            out.write('\n');
            atLineStart = true;
        }
        lastDomain = domain.domid();
        for (int i = offset; i < offset + length; i++) {
            if (atLineStart) {
                out.write(("(d" + domain.domid() + ") ").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                atLineStart = false;
            }
            out.write(bytes[i]);
            if (bytes[i] == '\n') {
                atLineStart = true;
                out.flush();
            }
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
