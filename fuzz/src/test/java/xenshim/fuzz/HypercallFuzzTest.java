package xenshim.fuzz;

import static xenshim.api.xen.XenGnttab.GTF_reading;
import static xenshim.api.xen.XenGnttab.GTF_writing;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import xenshim.api.Continuation;
import xenshim.api.Domain;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenErrno;

/**
 * Every handler of the built-in table, through the dispatcher, with fuzzer-chosen calls: a sequence of
 * hypercalls by dom0 (privileged, 64-bit) and two guests (unprivileged, 64-bit or compat), each with a
 * fuzzer-chosen number (mostly a filled slot, sometimes anything, out of range too), sub-op and
 * arguments (pointers into the caller's argument area, small numbers or any 64 bits), over guest memory
 * and grant entries seeded with fuzzer bytes, with time moving between calls. After every call:
 *
 * <ul>
 * <li>the result is a success value or a Xen errno, never a continuation marker;</li>
 * <li>no handler threw (the table counts what its guard caught: an exception is {@code -EIO}, not Xen's
 *     answer) and no JVM error escaped;</li>
 * <li>the call stayed within its work bound ({@link WorkBudget}, {@link BoundedContext}, at most
 *     {@link FuzzWorld#MAX_ENTRIES} entries);</li>
 * <li>an unprivileged caller reached no other domain's memory but what it was granted
 *     ({@link MemoryIsolation}, {@link CrossDomainAudit});</li>
 * <li>the platform's invariants hold ({@link PlatformInvariants}).</li>
 * </ul>
 *
 * <p>In the normal test run this replays the corpus in {@code HypercallFuzzTestInputs/hypercalls/} (every
 * input that once failed, kept); with {@code JAZZER_FUZZ=1} it fuzzes (see the module's README).
 */
class HypercallFuzzTest {

    private static final int[] SLOTS = FuzzWorld.filledSlots();
    private static final int SEED_BYTES = 1024;

    @FuzzTest(maxDuration = "2h") // the cap of a long run; a run is sized by -Dfuzz.runs (see the pom)
    void hypercalls(FuzzedDataProvider data) {
        try (FuzzWorld world = new FuzzWorld()) {
            MemoryIsolation isolation = new MemoryIsolation(world);
            try {
                run(world, isolation, data);
            } finally {
                isolation.close();
            }
        }
    }

    private static void run(FuzzWorld world, MemoryIsolation isolation, FuzzedDataProvider data) {
        int preemptEvery = data.consumeInt(1, 4);
        seedMemory(world, data);
        seedGrants(world, data);
        int calls = data.consumeInt(1, 16);
        for (int i = 0; i < calls && data.remainingBytes() > 0; i++) {
            if (data.consumeInt(0, 15) == 0) {
                world.advanceClock(data.consumeLong(0, 2_000_000_000L));
                check(world, "after the clock moved", List.of());
                continue;
            }
            int who = data.consumeInt(0, 2);
            boolean compat = who != 0 && data.consumeBoolean(); // dom0's backends call as Lcall does: 64-bit
            long nr = data.consumeInt(0, 7) != 0 ? SLOTS[data.consumeInt(0, SLOTS.length - 1)]
                    : data.consumeBoolean() ? data.consumeInt(-2, Hypercalls.NR_SLOTS + 2) : data.consumeLong();
            long a0 = data.consumeBoolean() ? data.consumeInt(0, 40) : data.consumeLong();
            long a1 = argument(world, who, data);
            long a2 = argument(world, who, data);
            long a3 = argument(world, who, data);
            long a4 = argument(world, who, data);
            if (!world.running(who)) {
                continue;
            }
            call(world, isolation, who, compat, nr, new long[] {a0, a1, a2, a3, a4}, preemptEvery);
        }
    }

    private static void call(FuzzWorld world, MemoryIsolation isolation, int who, boolean compat, long nr,
                             long[] a, int preemptEvery) {
        Domain caller = world.domain(who);
        String call = Hypercalls.name(nr) + "(" + hex(a) + ") by " + caller + (compat ? " (compat)" : "")
                + " [" + FuzzWorld.handlerOf(nr) + "]";
        int failed = nr >= 0 && nr < Hypercalls.NR_SLOTS ? FuzzWorld.table().failures((int) nr) : 0;
        isolation.before(caller);
        world.audit.clear();
        long result = world.call(who, compat, nr, a[0], a[1], a[2], a[3], a[4], preemptEvery);
        List<String> wrong = new ArrayList<>(isolation.after());
        wrong.addAll(world.audit.violations());
        if (result == Continuation.PENDING) {
            wrong.add("returned the continuation marker without a continuation");
        } else if (result < 0 && XenErrno.describe(result).equals(Long.toString(result))) {
            wrong.add("returned " + result + ", which is no Xen errno");
        }
        if (nr >= 0 && nr < Hypercalls.NR_SLOTS && FuzzWorld.table().failures((int) nr) != failed) {
            wrong.add("the handler threw (turned into -EIO by the guard; the exception is in the WARN log above)");
        }
        check(world, call + " = " + XenErrno.describe(result), wrong);
    }

    private static void check(FuzzWorld world, String after, List<String> found) {
        List<String> wrong = new ArrayList<>(found);
        wrong.addAll(PlatformInvariants.check(world));
        if (!wrong.isEmpty()) {
            throw new AssertionError(after + ":\n  " + String.join("\n  ", wrong));
        }
    }

    /** A pointer into the caller's argument area, a small number, or any 64 bits. */
    private static long argument(FuzzWorld world, int who, FuzzedDataProvider data) {
        return switch (data.consumeInt(0, 3)) {
            case 0, 1 -> world.argumentArea(who, data.consumeInt(0, 2 * 4096 - 1));
            case 2 -> data.consumeInt(-1, 64);
            default -> data.consumeLong();
        };
    }

    /** Each domain's argument area starts with fuzzer bytes (the guests' at frame 0x10, dom0's arena). */
    private static void seedMemory(FuzzWorld world, FuzzedDataProvider data) {
        for (int who = 0; who <= 2; who++) {
            byte[] bytes = data.consumeBytes(data.consumeInt(0, SEED_BYTES));
            if (who == 0) {
                world.dom0Memory.asSlice(0, bytes.length).copyFrom(MemorySegment.ofArray(bytes));
            } else {
                MemorySegment.copy(bytes, 0, world.guests.get(who - 1).ram(), ValueLayout.JAVA_BYTE,
                        FuzzGuest.ARGS, bytes.length);
            }
        }
    }

    /**
     * Grant entries the guests wrote: a ref among the first few, any flags but the two only Xen sets
     * ({@code GTF_reading}, {@code GTF_writing}), a grantee among the domains (or any id), a frame of RAM
     * or just past it.
     */
    private static void seedGrants(FuzzWorld world, FuzzedDataProvider data) {
        int entries = data.consumeInt(0, 6);
        for (int i = 0; i < entries; i++) {
            FuzzGuest guest = world.guests.get(data.consumeInt(0, 1));
            int ref = data.consumeInt(0, 15);
            int flags = data.consumeInt(0, 0xFFFF) & ~(GTF_reading | GTF_writing);
            int domid = data.consumeBoolean() ? data.consumeInt(0, 2) : data.consumeInt(0, 0xFFFF);
            long gfn = data.consumeInt(0, FuzzGuest.RAM_PAGES + 4);
            guest.writeGrant(ref, flags, domid, gfn);
        }
    }

    private static String hex(long[] a) {
        StringBuilder text = new StringBuilder();
        for (long value : a) {
            text.append(text.isEmpty() ? "" : ", ").append("0x").append(Long.toHexString(value));
        }
        return text.toString();
    }
}
