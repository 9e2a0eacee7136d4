package xenshim.dispatcher;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Who is calling in which table: per-caller quiescence, as RCU readers, so
 * that a call writes only memory its own thread owns and the table it runs in
 * need not be counted in a shared word.
 *
 * <p>Each thread that calls (platform or virtual: a {@link ThreadLocal} is per
 * virtual thread, so a call that blocks and moves to another carrier keeps its
 * record) has one {@link Caller}, registered here on its first call. A caller
 * publishes, in a slot array only it writes, the table of each call it is in:
 * slot {@code d} for the call at nesting depth {@code d} (a handler that makes
 * an lcall runs at depth 1, and so on), cleared with a release store when the
 * call returns. No read-modify-write, no shared write, no allocation once the
 * thread's record exists (a call nested deeper than the slot array grows it,
 * once).
 *
 * <p>Entering is a store of the table into the slot, then a check that the
 * table has not been retired (else the caller clears the slot and takes the
 * installed table). Retiring is the mirror: mark the table retired, then scan
 * every caller's slots. These are the two sides of Dekker's pattern: the
 * slot store is a volatile store and the retired flag is volatile, so by the
 * JMM's total order of volatile accesses a caller either shows in the scan or
 * sees the table retired. On x86 the volatile store is one locked instruction
 * on the caller's own line, never contended. (liburcu's "memb" flavour would
 * drop that fence with {@code membarrier(2)} on the retiring side; that needs
 * native code, which this module does not have, and steps outside the JMM.)
 *
 * <p>A record belongs to its thread: the registry holds the thread weakly and
 * drops records of threads that ended, on scans and every so many
 * registrations, so short-lived (virtual) threads do not pile up.
 */
final class Callers {

    /** Nesting depths a record has room for before it grows; 16 references fill about a cache line of their own. */
    private static final int INITIAL_DEPTH = 16;

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(HypercallTable[].class);

    private static final ConcurrentLinkedQueue<Caller> REGISTRY = new ConcurrentLinkedQueue<>();
    private static final Object SWEEP_LOCK = new Object();
    /** Registrations since the last sweep, and how many make the next one; guarded by {@link #SWEEP_LOCK}. */
    private static int registered;
    private static int sweepAfter = 64;

    private static final ThreadLocal<Caller> CALLER = ThreadLocal.withInitial(Callers::register);

    private Callers() {
    }

    /** This thread's record (registering it on its first call). */
    static Caller current() {
        return CALLER.get();
    }

    /** One thread's published state. Only its thread writes it. */
    static final class Caller {
        private final WeakReference<Thread> owner;
        /** Slot d: the table of the call at nesting depth d, or null. Replaced (by the owner) only to grow. */
        private volatile HypercallTable[] slots = new HypercallTable[INITIAL_DEPTH];
        /** How many calls this thread is in now; the owner's only. */
        int depth;

        private Caller(Thread owner) {
            this.owner = new WeakReference<>(owner);
        }

        /**
         * Publishes that the call at {@code depth} runs in {@code table}; the caller
         * must then check that {@code table} was not retired.
         */
        void publish(int depth, HypercallTable table) {
            HypercallTable[] mine = slots;
            if (depth >= mine.length) {
                mine = grow(depth);
            }
            SLOT.setVolatile(mine, depth, table); // before the caller's retired check, in the JMM's total order
        }

        /** The call at {@code depth} returned (or never entered): its table may be retired without it. */
        void clear(int depth) {
            SLOT.setRelease(slots, depth, (HypercallTable) null);
        }

        private HypercallTable[] grow(int depth) {
            HypercallTable[] bigger = Arrays.copyOf(slots, Math.max(depth + 1, slots.length * 2));
            slots = bigger;
            return bigger;
        }

        /** How many of this caller's calls run in {@code table} now. */
        int runningIn(HypercallTable table) {
            HypercallTable[] mine = slots;
            int n = 0;
            for (int i = 0; i < mine.length; i++) {
                if (SLOT.getAcquire(mine, i) == table) {
                    n++;
                }
            }
            return n;
        }

        boolean ended() {
            Thread thread = owner.get();
            return thread == null || !thread.isAlive();
        }
    }

    private static Caller register() {
        Caller caller = new Caller(Thread.currentThread());
        REGISTRY.add(caller);
        synchronized (SWEEP_LOCK) {
            if (++registered >= sweepAfter) {
                int live = 0;
                for (Iterator<Caller> it = REGISTRY.iterator(); it.hasNext(); ) {
                    if (it.next().ended()) {
                        it.remove();
                    } else {
                        live++;
                    }
                }
                registered = 0;
                sweepAfter = Math.max(64, live);
            }
        }
        return caller;
    }

    /**
     * Orders the retiring side's mark before its scan, the mirror of a caller's
     * volatile slot store before its retired check.
     */
    static void synchronize() {
        VarHandle.fullFence();
    }

    /** Calls running in {@code table} now, over every caller; drops callers whose thread ended. */
    static long running(HypercallTable table) {
        long n = 0;
        for (Iterator<Caller> it = REGISTRY.iterator(); it.hasNext(); ) {
            Caller caller = it.next();
            int mine = caller.runningIn(table);
            if (mine == 0 && caller.ended()) {
                it.remove();
            }
            n += mine;
        }
        return n;
    }

    /** How many callers are registered (for tests: the registry must not keep ended threads). */
    static int registered() {
        return REGISTRY.size();
    }
}
