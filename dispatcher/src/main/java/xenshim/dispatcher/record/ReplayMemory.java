package xenshim.dispatcher.record;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import xenshim.api.GuestFault;
import xenshim.api.GuestMemory;

/**
 * A recorded call's memory when it is played again: reads are served from what the recorded call
 * read, with what this replay wrote earlier in the call over them; writes are kept, to compare
 * with the recorded ones, and touch nothing else.
 *
 * <p>A read is served in step with the recording while the handler reads what the recorded one
 * read, in the same order (so two reads of one address that the guest changed in between get
 * what each got); one out of step is served byte by byte from the first recorded read of each
 * byte. An access the recording saw fault, met in step, faults again ({@link GuestFault}); a read
 * of bytes the recording never read is {@link #missing()}: said as a difference, and a fault
 * for the handler, which cannot be given bytes nobody knows.
 */
final class ReplayMemory implements GuestMemory {

    /** A read of bytes the recording does not have. */
    record Missing(long address, int length) {
    }

    private final List<CallLog.Access> recordedReads;
    private final List<CallLog.Access> recordedWrites;
    /** Each byte's value as the recorded call first read it. */
    private final Map<Long, Byte> known = new HashMap<>();
    /** What this replay wrote, by address (the latest write wins). */
    private final Map<Long, Byte> written = new HashMap<>();
    private final List<CallLog.Access> writes = new ArrayList<>();
    private final List<Missing> missing = new ArrayList<>();
    private int nextRead;
    private int nextWrite;

    ReplayMemory(CallLog.Call call) {
        this.recordedReads = call.reads();
        this.recordedWrites = call.writes();
        for (CallLog.Access read : recordedReads) {
            if (!read.faulted()) {
                for (int i = 0; i < read.length(); i++) {
                    known.putIfAbsent(read.address() + i, read.at(i));
                }
            }
        }
    }

    /** The writes this replay made, in order. */
    List<CallLog.Access> writes() {
        return writes;
    }

    /** The reads the recording could not serve. */
    List<Missing> missing() {
        return missing;
    }

    private byte[] read(long address, int length) {
        byte[] bytes;
        CallLog.Access step = nextRead < recordedReads.size() ? recordedReads.get(nextRead) : null;
        if (step != null && step.address() == address && step.length() == length) {
            nextRead++;
            if (step.faulted()) {
                throw new GuestFault(address, "read (faulted in the recording)");
            }
            bytes = step.bytes();
        } else {
            bytes = new byte[length];
            for (int i = 0; i < length; i++) {
                long at = address + i;
                Byte value = written.containsKey(at) ? written.get(at) : known.get(at);
                if (value == null) {
                    missing.add(new Missing(address, length));
                    throw new GuestFault(at, "read (not in the recording)");
                }
                bytes[i] = value;
            }
            return bytes;
        }
        for (int i = 0; i < length; i++) {
            Byte mine = written.get(address + i);
            if (mine != null) {
                bytes[i] = mine;
            }
        }
        return bytes;
    }

    private void write(long address, byte[] bytes) {
        CallLog.Access step = nextWrite < recordedWrites.size() ? recordedWrites.get(nextWrite) : null;
        if (step != null && step.address() == address && step.length() == bytes.length) {
            nextWrite++;
            if (step.faulted()) {
                throw new GuestFault(address, "write (faulted in the recording)");
            }
        }
        writes.add(new CallLog.Access(address, bytes.length, bytes));
        for (int i = 0; i < bytes.length; i++) {
            written.put(address + i, bytes[i]);
        }
    }

    private static long le(byte[] bytes) {
        long v = 0;
        for (int i = bytes.length - 1; i >= 0; i--) {
            v = (v << 8) | (bytes[i] & 0xFF);
        }
        return v;
    }

    private static byte[] le(long value, int size) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
        return bytes;
    }

    @Override
    public byte read8(long address) {
        return read(address, 1)[0];
    }

    @Override
    public short read16(long address) {
        return (short) le(read(address, 2));
    }

    @Override
    public int read32(long address) {
        return (int) le(read(address, 4));
    }

    @Override
    public long read64(long address) {
        return le(read(address, 8));
    }

    @Override
    public void write8(long address, byte value) {
        write(address, le(value, 1));
    }

    @Override
    public void write16(long address, short value) {
        write(address, le(value, 2));
    }

    @Override
    public void write32(long address, int value) {
        write(address, le(value, 4));
    }

    @Override
    public void write64(long address, long value) {
        write(address, le(value, 8));
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        System.arraycopy(read(address, length), 0, dst, offset, length);
    }

    @Override
    public void write(long address, byte[] src, int offset, int length) {
        write(address, java.util.Arrays.copyOfRange(src, offset, offset + length));
    }

    @Override
    public void read(long address, MemorySegment dst) {
        MemorySegment.copy(read(address, Math.toIntExact(dst.byteSize())), 0, dst, ValueLayout.JAVA_BYTE, 0,
                (int) dst.byteSize());
    }

    @Override
    public void write(long address, MemorySegment src) {
        write(address, src.toArray(ValueLayout.JAVA_BYTE));
    }

    @Override
    public void fill(long address, long length, byte value) {
        byte[] bytes = new byte[Math.toIntExact(length)];
        java.util.Arrays.fill(bytes, value);
        write(address, bytes);
    }
}
