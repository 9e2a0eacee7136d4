package xenshim.dispatcher.record;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import xenshim.api.Abi;
import xenshim.api.DomainType;
import xenshim.api.PhysMap;
import xenshim.api.XenVersionInfo;

/**
 * A recording of every hypercall of a run ({@code xenshim run --record FILE}), in the order the
 * calls entered the hypercall page, with what a replay needs to play them again against a shim
 * with no VM ({@code xenshim replay FILE}): the platform's configuration, the domains and when
 * they came and went, the platform pages the guests wrote outside any call, and per call its
 * arguments, the guest memory its handler read and wrote, and its result.
 *
 * <h2>The file</h2>
 * Binary; every integer big-endian (Java's {@code DataOutput}), guest bytes as they are. A string
 * is a {@code u16} byte count and that much modified UTF-8 ({@code DataOutput.writeUTF}).
 * <pre>
 * file     = magic version record* end
 * magic    = the 8 ASCII bytes "XSHIMREC"
 * version  = u16, 1 ({@link #VERSION})
 * record   = kind:u8 length:u32 body[length]        a reader skips nothing: every kind is known
 * end      = record of kind 7 (END): calls:u64      the file's last record; its absence = truncated
 * </pre>
 * The first record is PLATFORM; the others come in the order things happened:
 * <pre>
 * 1 PLATFORM  major:u16 minor:u16 extraversion compiler compileBy compileDomain compileDate changeset
 *             capabilities commandline:string  buildIdLength:u16 buildId  wallclockAtZero:i64
 *             table:string  startedMillis:i64
 *             the emulated Xen's version strings (XenVersionInfo), the clock's wallclock at system
 *             time 0, the name of the table the run started with, when it started (Unix ms)
 * 2 DOMAIN    domid:u16 type:u8 (0 HVM, 1 LOCAL) privileged:u8 handle:16 bytes (UUID order)
 *             a domain joined the platform's registry (dom0 first)
 * 3 MEMORY    domid:u16 ramBytes:u64 vcpus:u16 slotLimit:u32 entries:u32 (address:u64 size:u64 type:u32)*
 *             the domain got guest memory (its e820 as given) and vCPUs; slotLimit is how many
 *             memory slots its CPU backend allowed, which decides when a physmap change is -ENOMEM
 * 4 GONE      domid:u16                           the domain left the registry (its ports and
 *                                                 mappings were torn down)
 * 5 PAGE      domid:u16 page:u32 offset:u32 length:u32 bytes[length]
 *             bytes of one of the domain's platform pages (hypervisor page 0 = shared_info, 1+i =
 *             grant-table frame i) that changed since they were last recorded, as they are now:
 *             checked before and after each call, so a PAGE before a CALL is what guests and the
 *             platform wrote there between calls (grant entries, event bits cleared by the guest,
 *             set by timers), one after it what the call (and anything meanwhile) wrote
 * 6 CALL      domid:u16 vcpu:u32 abi:u8 (64 or 32) flags:u8 nr:u64 a0..a4:u64 result:u64
 *             [continuation a0..a4:u64]           if flags has CONTINUED
 *             [error:string]                      if flags has ERROR
 *             checks:u32 preempted:u32 index:u32*  preemption checks asked; which answered yes
 *             readings:u32 now:u64*                the clock's readings during the call, in order
 *             reads:u32 access*                    the caller's memory the handler read, in order
 *             writes:u32 access*                   and wrote, in order
 * access    = address:u64 length:u32 ok:u8 bytes[length if ok]   ok 0: the access faulted
 * </pre>
 * CALL flags: {@link #FAULTED} (fault injection failed it; no handler ran, nothing was read),
 * {@link #CONTINUED} (the handler preempted itself: the result is {@code Continuation.PENDING}
 * and the caller re-entered with the continuation's arguments, which is the next CALL of that
 * caller), {@link #ERROR} (the handler threw a JVM {@code Error}, named; the result is 0).
 *
 * <h2>How big</h2>
 * A CALL record is 89 bytes (5 of framing) with no memory access, plus 13 bytes and the bytes
 * themselves per read or write, 8 per clock reading, 4 per preemption that said yes, 40 for a
 * continuation. A console write of 60 bytes is about 162 bytes; a PAGE record is 19 bytes and its
 * bytes. The bundled demo's recording is about 40 KiB.
 *
 * <h2>What it means</h2>
 * Each entry of the hypercall page is one CALL, a guest's and the in-process dom0's ({@code Lcall},
 * domain 0) alike, in one global order: while a run records, calls go through the page one at a
 * time (a call a handler makes on its own thread, as dom0's inline event listeners do, nests in the
 * call that made it and is written after it). A continued call is recorded at each entry, each
 * with the arguments it entered with; a replay plays each entry the same way, answering the
 * handler's preemption checks as they were answered. Reads and writes are those through the
 * call's {@code CallContext.memory()}; what the platform writes elsewhere on a call's behalf
 * (event bits in a shared_info, a vcpu_info or runstate area in guest RAM, a granted page) is
 * not a write of the call and is not compared. The platform pages are recorded as they were
 * before and after each call, and a replay sets them so: each call finds them as the recorded
 * one did, whatever a replayed shim wrote there (which is not compared). Guest RAM outside the
 * calls' reads (a vcpu_info moved there, a page copied by grant) is not recorded.
 */
public final class CallLog {

    /** The file's first 8 bytes. */
    public static final byte[] MAGIC = "XSHIMREC".getBytes(StandardCharsets.US_ASCII);
    /** The format version this class writes and reads. */
    public static final int VERSION = 1;

    /** CALL flag: fault injection failed the call before it reached a table. */
    public static final int FAULTED = 1;
    /** CALL flag: the handler preempted itself; the continuation's arguments follow. */
    public static final int CONTINUED = 2;
    /** CALL flag: the handler threw a JVM Error, named after the continuation. */
    public static final int ERROR = 4;

    static final int KIND_PLATFORM = 1;
    static final int KIND_DOMAIN = 2;
    static final int KIND_MEMORY = 3;
    static final int KIND_GONE = 4;
    static final int KIND_PAGE = 5;
    static final int KIND_CALL = 6;
    static final int KIND_END = 7;

    private CallLog() {
    }

    /** One record of the file after PLATFORM (END is the reader's, not an entry). */
    public sealed interface Entry permits DomainCreated, DomainMemory, DomainGone, PlatformPage, Call {
    }

    /** The PLATFORM record: what the run's platform was configured with. */
    public record Platform(XenVersionInfo version, long wallclockAtZero, String table, long startedMillis) {
        public Platform {
            Objects.requireNonNull(version);
            Objects.requireNonNull(table);
        }
    }

    /** DOMAIN: a domain joined the registry. */
    public record DomainCreated(int domid, DomainType type, boolean privileged, UUID handle) implements Entry {
        public DomainCreated {
            Objects.requireNonNull(type);
            Objects.requireNonNull(handle);
        }
    }

    /** MEMORY: the domain got guest memory and vCPUs. */
    public record DomainMemory(int domid, long ramBytes, int vcpus, int slotLimit,
                               List<PhysMap.MemoryMapEntry> memoryMap) implements Entry {
        public DomainMemory {
            memoryMap = List.copyOf(memoryMap);
        }
    }

    /** GONE: the domain left the registry. */
    public record DomainGone(int domid) implements Entry {
    }

    /** PAGE: bytes of a domain's platform page as they were before the next call. */
    public record PlatformPage(int domid, int page, int offset, byte[] bytes) implements Entry {
        public PlatformPage {
            bytes = bytes.clone();
        }

        @Override
        public byte[] bytes() {
            return bytes.clone();
        }
    }

    /**
     * One memory access of a call.
     *
     * @param bytes what was read or written; null if the access faulted
     */
    public record Access(long address, int length, byte[] bytes) {
        public Access {
            if (bytes != null) {
                bytes = bytes.clone();
                if (bytes.length != length) {
                    throw new IllegalArgumentException(bytes.length + " bytes for an access of " + length);
                }
            }
        }

        /** Whether the access faulted ({@code GuestFault}). */
        public boolean faulted() {
            return bytes == null;
        }

        @Override
        public byte[] bytes() {
            return bytes == null ? null : bytes.clone();
        }

        /** Byte {@code i} of the access, without a copy. */
        byte at(int i) {
            return bytes[i];
        }
    }

    /**
     * CALL: one entry of the hypercall page.
     *
     * @param continuation the next entry's arguments if {@link #CONTINUED}, else empty
     * @param error        the JVM error's class if {@link #ERROR}, else null
     * @param checks       how many preemption checks the handler asked
     * @param preempted    which of them (from 0) answered yes
     * @param clock        the clock's readings during the call, in order
     */
    public record Call(int domid, int vcpu, Abi abi, int flags, long nr, long[] args, long result,
                       long[] continuation, String error, int checks, int[] preempted, long[] clock,
                       List<Access> reads, List<Access> writes) implements Entry {
        public Call {
            Objects.requireNonNull(abi);
            if (args.length != 5 || continuation.length != ((flags & CONTINUED) != 0 ? 5 : 0)) {
                throw new IllegalArgumentException("5 arguments, and 5 continuation arguments if continued");
            }
            if (((flags & ERROR) != 0) != (error != null)) {
                throw new IllegalArgumentException("an error name goes with the ERROR flag");
            }
            args = args.clone();
            continuation = continuation.clone();
            preempted = preempted.clone();
            clock = clock.clone();
            reads = List.copyOf(reads);
            writes = List.copyOf(writes);
        }

        public boolean faulted() {
            return (flags & FAULTED) != 0;
        }

        public boolean continued() {
            return (flags & CONTINUED) != 0;
        }

        @Override
        public long[] args() {
            return args.clone();
        }

        /** Argument {@code i} (0..4). */
        public long arg(int i) {
            return args[i];
        }

        @Override
        public long[] continuation() {
            return continuation.clone();
        }

        @Override
        public int[] preempted() {
            return preempted.clone();
        }

        @Override
        public long[] clock() {
            return clock.clone();
        }

        @Override
        public String toString() {
            return "Call[d" + domid + " vcpu" + vcpu + " " + abi + " nr " + nr + " " + Arrays.toString(args)
                    + " = " + result + ", " + reads.size() + " reads, " + writes.size() + " writes]";
        }
    }

    /** A whole recording as read: its platform and its entries, in order. */
    public record Recording(Platform platform, List<Entry> entries) {
        public Recording {
            Objects.requireNonNull(platform);
            entries = List.copyOf(entries);
        }

        /** The CALL records, in order. */
        public List<Call> calls() {
            return entries.stream().filter(Call.class::isInstance).map(Call.class::cast).toList();
        }
    }
}
