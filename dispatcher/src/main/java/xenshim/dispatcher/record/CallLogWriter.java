package xenshim.dispatcher.record;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import xenshim.api.Abi;
import xenshim.api.DomainType;
import xenshim.api.PhysMap;
import xenshim.api.XenVersionInfo;

/**
 * Writes a {@link CallLog} file: the header and PLATFORM record when made, an entry per
 * {@link #write}, the END record on {@link #close}. One writer, one thread at a time (the
 * recorder writes under its lock).
 */
public final class CallLogWriter implements Closeable {

    private final DataOutputStream out;
    /** One record's body, reused. */
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(4096);
    private final DataOutputStream body = new DataOutputStream(buffer);
    private long calls;
    private boolean closed;

    private CallLogWriter(OutputStream stream, CallLog.Platform platform) throws IOException {
        this.out = new DataOutputStream(new BufferedOutputStream(stream, 1 << 16));
        out.write(CallLog.MAGIC);
        out.writeShort(CallLog.VERSION);
        platform(platform);
        record(CallLog.KIND_PLATFORM);
    }

    /** Creates (or replaces) {@code file} and writes its header and PLATFORM record. */
    public static CallLogWriter create(Path file, CallLog.Platform platform) throws IOException {
        OutputStream stream = Files.newOutputStream(file);
        try {
            return new CallLogWriter(stream, platform);
        } catch (IOException | RuntimeException e) {
            stream.close();
            throw e;
        }
    }

    /** A writer onto {@code stream} (tests), which {@link #close} closes. */
    public static CallLogWriter to(OutputStream stream, CallLog.Platform platform) throws IOException {
        return new CallLogWriter(stream, platform);
    }

    /** How many CALL records were written. */
    public long calls() {
        return calls;
    }

    public void write(CallLog.Entry entry) throws IOException {
        if (closed) {
            throw new IOException("the recording is closed");
        }
        switch (entry) {
            case CallLog.DomainCreated d -> {
                body.writeShort(d.domid());
                body.writeByte(d.type() == DomainType.HVM ? 0 : 1);
                body.writeByte(d.privileged() ? 1 : 0);
                body.writeLong(d.handle().getMostSignificantBits());
                body.writeLong(d.handle().getLeastSignificantBits());
                record(CallLog.KIND_DOMAIN);
            }
            case CallLog.DomainMemory m -> {
                body.writeShort(m.domid());
                body.writeLong(m.ramBytes());
                body.writeShort(m.vcpus());
                body.writeInt(m.slotLimit());
                body.writeInt(m.memoryMap().size());
                for (PhysMap.MemoryMapEntry e : m.memoryMap()) {
                    body.writeLong(e.address());
                    body.writeLong(e.size());
                    body.writeInt(e.type());
                }
                record(CallLog.KIND_MEMORY);
            }
            case CallLog.DomainGone g -> {
                body.writeShort(g.domid());
                record(CallLog.KIND_GONE);
            }
            case CallLog.PlatformPage p -> {
                byte[] bytes = p.bytes();
                body.writeShort(p.domid());
                body.writeInt(p.page());
                body.writeInt(p.offset());
                body.writeInt(bytes.length);
                body.write(bytes);
                record(CallLog.KIND_PAGE);
            }
            case CallLog.Call c -> {
                call(c);
                record(CallLog.KIND_CALL);
                calls++;
            }
        }
    }

    private void call(CallLog.Call c) throws IOException {
        body.writeShort(c.domid());
        body.writeInt(c.vcpu());
        body.writeByte(c.abi() == Abi.X86_64 ? 64 : 32);
        body.writeByte(c.flags());
        body.writeLong(c.nr());
        for (int i = 0; i < 5; i++) {
            body.writeLong(c.arg(i));
        }
        body.writeLong(c.result());
        for (long arg : c.continuation()) {
            body.writeLong(arg);
        }
        if (c.error() != null) {
            body.writeUTF(c.error());
        }
        int[] preempted = c.preempted();
        body.writeInt(c.checks());
        body.writeInt(preempted.length);
        for (int index : preempted) {
            body.writeInt(index);
        }
        long[] clock = c.clock();
        body.writeInt(clock.length);
        for (long now : clock) {
            body.writeLong(now);
        }
        accesses(c.reads());
        accesses(c.writes());
    }

    private void accesses(java.util.List<CallLog.Access> accesses) throws IOException {
        body.writeInt(accesses.size());
        for (CallLog.Access a : accesses) {
            body.writeLong(a.address());
            body.writeInt(a.length());
            body.writeByte(a.faulted() ? 0 : 1);
            if (!a.faulted()) {
                body.write(a.bytes());
            }
        }
    }

    private void platform(CallLog.Platform p) throws IOException {
        XenVersionInfo v = p.version();
        body.writeShort(v.major());
        body.writeShort(v.minor());
        for (String s : new String[] {v.extraversion(), v.compiler(), v.compileBy(), v.compileDomain(),
                v.compileDate(), v.changeset(), v.capabilities(), v.commandline()}) {
            body.writeUTF(s);
        }
        byte[] buildId = v.buildId();
        body.writeShort(buildId.length);
        body.write(buildId);
        body.writeLong(p.wallclockAtZero());
        body.writeUTF(p.table());
        body.writeLong(p.startedMillis());
    }

    /** Writes the body collected so far as one record of {@code kind}. */
    private void record(int kind) throws IOException {
        body.flush();
        out.writeByte(kind);
        out.writeInt(buffer.size());
        buffer.writeTo(out);
        buffer.reset();
    }

    /** Flushes what was written to the file. */
    public void flush() throws IOException {
        out.flush();
    }

    /**
     * Closes the file without the END record, after a failed write: a reader then says the
     * recording is truncated rather than take a part for the whole. Idempotent.
     */
    public void abandon() throws IOException {
        if (!closed) {
            closed = true;
            out.close();
        }
    }

    /** Writes the END record and closes the file. Idempotent. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try (out) {
            body.writeLong(calls);
            record(CallLog.KIND_END);
        }
    }
}
