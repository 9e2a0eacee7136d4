package xenshim.dispatcher.record;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import xenshim.api.GuestFault;
import xenshim.api.GuestMemory;

/**
 * A call's memory while it is recorded: every access goes to the caller's real memory, and what
 * was read or written (or that the access faulted) is kept, in order. Allocates per access, which
 * is why it exists only while a run records.
 */
final class RecordingMemory implements GuestMemory {

    private final GuestMemory memory;
    final List<CallLog.Access> reads = new ArrayList<>();
    final List<CallLog.Access> writes = new ArrayList<>();

    RecordingMemory(GuestMemory memory) {
        this.memory = memory;
    }

    private static byte[] le(long value, int size) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (value >>> (8 * i));
        }
        return bytes;
    }

    private void read(long address, byte[] bytes) {
        reads.add(new CallLog.Access(address, bytes.length, bytes));
    }

    private void write(long address, byte[] bytes) {
        writes.add(new CallLog.Access(address, bytes.length, bytes));
    }

    private GuestFault faulted(List<CallLog.Access> log, long address, long length, GuestFault fault) {
        log.add(new CallLog.Access(address, (int) Math.min(length, Integer.MAX_VALUE), null));
        return fault;
    }

    @Override
    public byte read8(long address) {
        try {
            byte v = memory.read8(address);
            read(address, le(v, 1));
            return v;
        } catch (GuestFault f) {
            throw faulted(reads, address, 1, f);
        }
    }

    @Override
    public short read16(long address) {
        try {
            short v = memory.read16(address);
            read(address, le(v, 2));
            return v;
        } catch (GuestFault f) {
            throw faulted(reads, address, 2, f);
        }
    }

    @Override
    public int read32(long address) {
        try {
            int v = memory.read32(address);
            read(address, le(v, 4));
            return v;
        } catch (GuestFault f) {
            throw faulted(reads, address, 4, f);
        }
    }

    @Override
    public long read64(long address) {
        try {
            long v = memory.read64(address);
            read(address, le(v, 8));
            return v;
        } catch (GuestFault f) {
            throw faulted(reads, address, 8, f);
        }
    }

    @Override
    public void write8(long address, byte value) {
        try {
            memory.write8(address, value);
            write(address, le(value, 1));
        } catch (GuestFault f) {
            throw faulted(writes, address, 1, f);
        }
    }

    @Override
    public void write16(long address, short value) {
        try {
            memory.write16(address, value);
            write(address, le(value, 2));
        } catch (GuestFault f) {
            throw faulted(writes, address, 2, f);
        }
    }

    @Override
    public void write32(long address, int value) {
        try {
            memory.write32(address, value);
            write(address, le(value, 4));
        } catch (GuestFault f) {
            throw faulted(writes, address, 4, f);
        }
    }

    @Override
    public void write64(long address, long value) {
        try {
            memory.write64(address, value);
            write(address, le(value, 8));
        } catch (GuestFault f) {
            throw faulted(writes, address, 8, f);
        }
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        try {
            memory.read(address, dst, offset, length);
            read(address, Arrays.copyOfRange(dst, offset, offset + length));
        } catch (GuestFault f) {
            throw faulted(reads, address, length, f);
        }
    }

    @Override
    public void write(long address, byte[] src, int offset, int length) {
        try {
            memory.write(address, src, offset, length);
            write(address, Arrays.copyOfRange(src, offset, offset + length));
        } catch (GuestFault f) {
            throw faulted(writes, address, length, f);
        }
    }

    @Override
    public void read(long address, MemorySegment dst) {
        try {
            memory.read(address, dst);
            read(address, dst.toArray(ValueLayout.JAVA_BYTE));
        } catch (GuestFault f) {
            throw faulted(reads, address, dst.byteSize(), f);
        }
    }

    @Override
    public void write(long address, MemorySegment src) {
        try {
            memory.write(address, src);
            write(address, src.toArray(ValueLayout.JAVA_BYTE));
        } catch (GuestFault f) {
            throw faulted(writes, address, src.byteSize(), f);
        }
    }

    @Override
    public void fill(long address, long length, byte value) {
        try {
            memory.fill(address, length, value);
            byte[] bytes = new byte[Math.toIntExact(length)];
            Arrays.fill(bytes, value);
            write(address, bytes);
        } catch (GuestFault f) {
            throw faulted(writes, address, length, f);
        }
    }
}
