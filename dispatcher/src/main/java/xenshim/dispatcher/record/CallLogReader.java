package xenshim.dispatcher.record;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import xenshim.api.Abi;
import xenshim.api.DomainType;
import xenshim.api.PhysMap;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.XenDomains;

/**
 * Reads a whole {@link CallLog} file, checking every record, so that a replay refuses a bad file
 * before it plays any call. Every refusal is a {@link CallLogException} whose message names the
 * file, what is wrong and where (record number and byte offset).
 */
public final class CallLogReader {

    /** No record of a sane recording comes near this; a larger length is a corrupt file. */
    private static final int MAX_RECORD = 1 << 28;
    /** Hypervisor pages of a domain: shared_info and 64 grant frames. */
    private static final int MAX_PAGE = 64;
    private static final int PAGE_SIZE = 4096;

    private final String name;
    private final DataInputStream in;
    private final long size;
    private long position;
    private int index;

    private CallLogReader(String name, InputStream stream, long size) {
        this.name = name;
        this.in = new DataInputStream(new BufferedInputStream(stream, 1 << 16));
        this.size = size;
    }

    /** Reads {@code file}. */
    public static CallLog.Recording read(Path file) throws CallLogException {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new CallLogException(file + ": no such file");
        } catch (IOException e) {
            throw new CallLogException(file + ": cannot read: " + e.getMessage(), e);
        }
        try (InputStream stream = Files.newInputStream(file)) {
            return new CallLogReader(file.toString(), stream, size).read();
        } catch (CallLogException e) {
            throw e;
        } catch (IOException e) {
            throw new CallLogException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Reads a recording of {@code size} bytes from {@code stream}; {@code name} goes in messages. */
    public static CallLog.Recording read(String name, InputStream stream, long size) throws IOException {
        return new CallLogReader(name, stream, size).read();
    }

    private CallLog.Recording read() throws IOException {
        byte[] magic = new byte[CallLog.MAGIC.length];
        int got = in.readNBytes(magic, 0, magic.length);
        if (got < magic.length || !Arrays.equals(magic, CallLog.MAGIC)) {
            throw bad("not a xenshim hypercall recording: it does not start with \"XSHIMREC\" ("
                    + (got == 0 ? "the file is empty" : "its first bytes are " + HexFormat.ofDelimiter(" ")
                    .formatHex(magic, 0, got)) + ")");
        }
        if (size < magic.length + 2) {
            throw bad("truncated: it ends inside the header");
        }
        int version = in.readUnsignedShort();
        position = magic.length + 2;
        if (version != CallLog.VERSION) {
            throw bad("recording format version " + version + "; this xenshim reads version " + CallLog.VERSION);
        }
        Body first = next();
        if (first == null) {
            throw bad("truncated: it ends after its header, before the PLATFORM record");
        }
        if (first.kind != CallLog.KIND_PLATFORM) {
            throw bad("record 1 at byte 10 is " + kindName(first.kind)
                    + ", not the PLATFORM record a recording starts with");
        }
        CallLog.Platform platform = first.parse(this::platform);
        List<CallLog.Entry> entries = new ArrayList<>();
        long calls = 0;
        for (;;) {
            Body record = next();
            if (record == null) {
                throw bad("truncated: it ends after record " + index + " at byte " + position
                        + " with no END record (the recording run did not finish writing it)");
            }
            CallLog.Entry entry = switch (record.kind) {
                case CallLog.KIND_DOMAIN -> record.parse(this::domain);
                case CallLog.KIND_MEMORY -> record.parse(this::memory);
                case CallLog.KIND_GONE -> record.parse(b -> new CallLog.DomainGone(domid(b)));
                case CallLog.KIND_PAGE -> record.parse(this::page);
                case CallLog.KIND_CALL -> record.parse(this::call);
                case CallLog.KIND_END -> null;
                case CallLog.KIND_PLATFORM -> throw record.bad("a second PLATFORM record");
                default -> throw record.bad("unknown record kind " + record.kind);
            };
            if (entry == null) {
                long said = record.parse(DataInputStream::readLong);
                if (said != calls) {
                    throw record.bad("END says " + said + " calls, the file has " + calls);
                }
                if (position != size) {
                    throw bad((size - position) + " bytes after the END record at byte " + record.offset);
                }
                return new CallLog.Recording(platform, entries);
            }
            if (entry instanceof CallLog.Call) {
                calls++;
            }
            entries.add(entry);
        }
    }

    /** The next record's kind and body, or null at the end of the file. */
    private Body next() throws IOException {
        long offset = position;
        int kind = in.read();
        if (kind < 0) {
            return null;
        }
        index++;
        if (size - position < 5) {
            throw bad("truncated: record " + index + " at byte " + offset + " is cut off in its header");
        }
        int length = in.readInt();
        position += 5;
        if (length < 0 || length > MAX_RECORD) {
            throw bad("record " + index + " at byte " + offset + " says it is " + Integer.toUnsignedString(length)
                    + " bytes long; the file is corrupt");
        }
        if (length > size - position) {
            throw bad("truncated: record " + index + " (" + kindName(kind) + ") at byte " + offset + " says "
                    + length + " bytes, only " + (size - position) + " remain");
        }
        byte[] body = new byte[length];
        in.readFully(body);
        position += length;
        return new Body(kind, index, offset, body);
    }

    private CallLogException bad(String what) {
        return new CallLogException(name + ": " + what);
    }

    private static String kindName(int kind) {
        return switch (kind) {
            case CallLog.KIND_PLATFORM -> "PLATFORM";
            case CallLog.KIND_DOMAIN -> "DOMAIN";
            case CallLog.KIND_MEMORY -> "MEMORY";
            case CallLog.KIND_GONE -> "GONE";
            case CallLog.KIND_PAGE -> "PAGE";
            case CallLog.KIND_CALL -> "CALL";
            case CallLog.KIND_END -> "END";
            default -> "kind " + kind;
        };
    }

    @FunctionalInterface
    private interface Parser<T> {
        T parse(DataInputStream body) throws IOException;
    }

    /** A value in a record that cannot be: what is wrong with it. */
    private static final class BadField extends IOException {
        private static final long serialVersionUID = 1L;

        BadField(String message) {
            super(message, null);
        }
    }

    private final class Body {
        final int kind;
        final int number;
        final long offset;
        final byte[] bytes;

        Body(int kind, int number, long offset, byte[] bytes) {
            this.kind = kind;
            this.number = number;
            this.offset = offset;
            this.bytes = bytes;
        }

        <T> T parse(Parser<T> parser) throws CallLogException {
            DataInputStream body = new DataInputStream(new ByteArrayInputStream(bytes));
            T value;
            try {
                value = parser.parse(body);
                if (body.available() != 0) {
                    throw bad(body.available() + " bytes after its fields");
                }
            } catch (EOFException e) {
                throw bad("its fields run past its " + bytes.length + " bytes");
            } catch (BadField e) {
                throw bad(e.getMessage());
            } catch (CallLogException e) {
                throw e;
            } catch (IOException | IllegalArgumentException e) {
                throw bad(e.getMessage());
            }
            return value;
        }

        CallLogException bad(String what) {
            return new CallLogException(name + ": record " + number + " (" + kindName(kind) + ") at byte " + offset
                    + ": " + what);
        }
    }

    // ---- records --------------------------------------------------------------------------------------------

    private CallLog.Platform platform(DataInputStream b) throws IOException {
        int major = b.readUnsignedShort();
        int minor = b.readUnsignedShort();
        String[] s = new String[8];
        for (int i = 0; i < s.length; i++) {
            s[i] = b.readUTF();
        }
        byte[] buildId = bytes(b, b.readUnsignedShort());
        XenVersionInfo version = new XenVersionInfo(major, minor, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7],
                buildId);
        return new CallLog.Platform(version, b.readLong(), b.readUTF(), b.readLong());
    }

    private CallLog.DomainCreated domain(DataInputStream b) throws IOException {
        int domid = domid(b);
        int type = b.readUnsignedByte();
        if (type > 1) {
            throw new BadField("domain type " + type + " is neither 0 (HVM) nor 1 (LOCAL)");
        }
        boolean privileged = b.readUnsignedByte() != 0;
        return new CallLog.DomainCreated(domid, type == 0 ? DomainType.HVM : DomainType.LOCAL, privileged,
                new UUID(b.readLong(), b.readLong()));
    }

    private CallLog.DomainMemory memory(DataInputStream b) throws IOException {
        int domid = domid(b);
        long ram = b.readLong();
        if (ram <= 0 || ram % PAGE_SIZE != 0 || ram > 1L << 40) {
            throw new BadField("guest RAM of " + ram + " bytes is not a positive number of pages up to 1 TiB");
        }
        int vcpus = b.readUnsignedShort();
        if (vcpus < 1 || vcpus > xenshim.api.ArrayEventWords.MAX_VCPUS) {
            throw new BadField(vcpus + " vCPUs");
        }
        int slots = b.readInt();
        int n = count(b, 20);
        List<PhysMap.MemoryMapEntry> map = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            map.add(new PhysMap.MemoryMapEntry(b.readLong(), b.readLong(), b.readInt()));
        }
        return new CallLog.DomainMemory(domid, ram, vcpus, slots, map);
    }

    private CallLog.PlatformPage page(DataInputStream b) throws IOException {
        int domid = domid(b);
        int page = b.readInt();
        int offset = b.readInt();
        int length = b.readInt();
        if (page < 0 || page > MAX_PAGE || offset < 0 || length < 0 || offset > PAGE_SIZE - length) {
            throw new BadField("page " + page + " bytes " + offset + "+" + length + " are outside platform pages 0.."
                    + MAX_PAGE + " of " + PAGE_SIZE + " bytes");
        }
        return new CallLog.PlatformPage(domid, page, offset, bytes(b, length));
    }

    private CallLog.Call call(DataInputStream b) throws IOException {
        int domid = domid(b);
        int vcpu = b.readInt();
        if (vcpu < 0 || vcpu >= xenshim.api.ArrayEventWords.MAX_VCPUS) {
            throw new BadField("vCPU " + vcpu);
        }
        int abiBits = b.readUnsignedByte();
        if (abiBits != 64 && abiBits != 32) {
            throw new BadField("ABI " + abiBits + " is neither 64 nor 32");
        }
        int flags = b.readUnsignedByte();
        if ((flags & ~(CallLog.FAULTED | CallLog.CONTINUED | CallLog.ERROR)) != 0) {
            throw new BadField("unknown flags 0x" + Integer.toHexString(flags));
        }
        long nr = b.readLong();
        long[] args = longs(b, 5);
        long result = b.readLong();
        long[] continuation = longs(b, (flags & CallLog.CONTINUED) != 0 ? 5 : 0);
        String error = (flags & CallLog.ERROR) != 0 ? b.readUTF() : null;
        int checks = b.readInt();
        int[] preempted = new int[count(b, 4)];
        for (int i = 0; i < preempted.length; i++) {
            preempted[i] = b.readInt();
            if (preempted[i] < 0 || preempted[i] >= checks) {
                throw new BadField("preemption check " + preempted[i] + " of " + checks);
            }
        }
        long[] clock = longs(b, count(b, 8));
        List<CallLog.Access> reads = accesses(b);
        List<CallLog.Access> writes = accesses(b);
        return new CallLog.Call(domid, vcpu, abiBits == 64 ? Abi.X86_64 : Abi.X86_32, flags, nr, args, result,
                continuation, error, checks, preempted, clock, reads, writes);
    }

    private static List<CallLog.Access> accesses(DataInputStream b) throws IOException {
        int n = count(b, 13);
        List<CallLog.Access> accesses = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long address = b.readLong();
            int length = b.readInt();
            boolean ok = b.readUnsignedByte() != 0;
            if (length < 0 || (ok && length > b.available())) {
                throw new BadField("an access of " + Integer.toUnsignedString(length) + " bytes at 0x"
                        + Long.toHexString(address) + " runs past the record");
            }
            accesses.add(new CallLog.Access(address, length, ok ? bytes(b, length) : null));
        }
        return accesses;
    }

    private static int domid(DataInputStream b) throws IOException {
        int domid = b.readUnsignedShort();
        if (domid >= XenDomains.DOMID_FIRST_RESERVED) {
            throw new BadField("domain id " + domid + " is not 0.." + (XenDomains.DOMID_FIRST_RESERVED - 1));
        }
        return domid;
    }

    /** A count of items of at least {@code each} bytes, which the rest of the record must be able to hold. */
    private static int count(DataInputStream b, int each) throws IOException {
        int n = b.readInt();
        if (n < 0 || (long) n * each > b.available()) {
            throw new BadField("a count of " + Integer.toUnsignedString(n) + " runs past the record");
        }
        return n;
    }

    private static long[] longs(DataInputStream b, int n) throws IOException {
        long[] values = new long[n];
        for (int i = 0; i < n; i++) {
            values[i] = b.readLong();
        }
        return values;
    }

    private static byte[] bytes(DataInputStream b, int n) throws IOException {
        byte[] bytes = new byte[n];
        b.readFully(bytes);
        return bytes;
    }
}
