package xenshim.dispatcher;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * every caller's slots. These are the two sides of Dekker's pattern and need a
 * store-load barrier between the store and the load on each side. The retiring
 * side has its full fence; the calling side gets it in one of two ways, chosen
 * once at start-up:
 * <ul>
 * <li><b>asymmetric</b> (Linux, when this module has native access, as with
 *     {@code --enable-native-access=xenshim.dispatcher}): the caller issues no
 *     fence instruction, only a compiler barrier; the retirer calls
 *     {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)}, which runs a full
 *     barrier on every CPU currently running a thread of this process (and a
 *     thread not running passes one when it is next scheduled). After it,
 *     every caller either had its slot store visible, or will see the table
 *     retired. This is liburcu's "memb" flavour. The JMM does not model
 *     membarrier: the path relies on HotSpot keeping the slot store before the
 *     retired load, which the {@link VarHandle#releaseFence()} between them does
 *     (a full compiler barrier in C1 and C2 that emits no instruction on x86).</li>
 * <li><b>fenced</b> (anywhere else, or with
 *     {@code -Dxenshim.dispatcher.membarrier=false}): the caller's slot store is
 *     a volatile store, a full fence by the JMM (one locked instruction on the
 *     caller's own stack line on x86, never contended).</li>
 * </ul>
 *
 * <p>A record belongs to its thread: the registry holds the thread weakly and
 * drops records of threads that ended, on scans and every so many
 * registrations, so short-lived (virtual) threads do not pile up.
 */
final class Callers {

    private static final Logger LOG = LoggerFactory.getLogger(Callers.class);

    /** Nesting depths a record has room for before it grows; 16 references fill about a cache line of their own. */
    private static final int INITIAL_DEPTH = 16;

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(HypercallTable[].class);

    private static final ConcurrentLinkedQueue<Caller> REGISTRY = new ConcurrentLinkedQueue<>();
    private static final Object SWEEP_LOCK = new Object();
    /** Registrations since the last sweep, and how many make the next one; guarded by {@link #SWEEP_LOCK}. */
    private static int registered;
    private static int sweepAfter = 64;

    private static final ThreadLocal<Caller> CALLER = ThreadLocal.withInitial(Callers::register);

    /** The membarrier downcall, or null: the fenced path. */
    private static final MethodHandle MEMBARRIER = membarrier();
    /** Whether callers may skip the fence (the retirer runs membarrier). */
    static final boolean ASYMMETRIC = MEMBARRIER != null;

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
            if (ASYMMETRIC) {
                SLOT.setRelease(mine, depth, table);
                VarHandle.releaseFence(); // compiler barrier: the store stays before the caller's retired check
            } else {
                SLOT.setVolatile(mine, depth, table);
            }
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
     * Makes every caller's slot store that came before its retired check visible
     * to the scans that follow: after a table was marked retired and this
     * returned, a caller either shows in {@link #running} or sees the table retired.
     * Just a fence on the fenced path.
     */
    static void synchronize() {
        if (MEMBARRIER == null) {
            VarHandle.fullFence();
            return;
        }
        long rc;
        try {
            rc = (long) MEMBARRIER.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("membarrier failed", t);
        }
        if (rc != 0) {
            // registered at start-up and never unregistered: cannot fail; if it does, callers are unprotected
            throw new IllegalStateException("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) returned " + rc);
        }
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

    private static final long MEMBARRIER_CMD_QUERY = 0;
    private static final long MEMBARRIER_CMD_PRIVATE_EXPEDITED = 1 << 3;
    private static final long MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED = 1 << 4;

    /**
     * {@code membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0)} as a {@code ()long} handle, after
     * registering this process for it; null where it cannot be had (not Linux on x86-64 or
     * AArch64, no native access for this module, a kernel without it, or turned off).
     */
    private static MethodHandle membarrier() {
        if (!Boolean.parseBoolean(System.getProperty("xenshim.dispatcher.membarrier", "true"))) {
            return null;
        }
        long nr = switch (System.getProperty("os.arch", "").toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> 324;
            case "aarch64" -> 283;
            default -> -1;
        };
        if (nr < 0 || !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            return null;
        }
        if (!Callers.class.getModule().isNativeAccessEnabled()) {
            LOG.debug("no native access for {}: calls fence on entry (enable it for membarrier)",
                    Callers.class.getModule());
            return null;
        }
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle syscall = linker.downcallHandle(linker.defaultLookup().find("syscall").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                    Linker.Option.firstVariadicArg(1));
            MethodHandle membarrier = MethodHandles.insertArguments(syscall, 0, nr);
            long commands = (long) membarrier.invokeExact(MEMBARRIER_CMD_QUERY, 0L, 0L);
            long wanted = MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
            if (commands < 0 || (commands & wanted) != wanted) {
                LOG.debug("membarrier: private expedited not offered ({}): calls fence on entry", commands);
                return null;
            }
            long rc = (long) membarrier.invokeExact(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0L, 0L);
            if (rc != 0) {
                LOG.debug("membarrier: registration returned {}: calls fence on entry", rc);
                return null;
            }
            return MethodHandles.insertArguments(membarrier, 0, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0L, 0L);
        } catch (Throwable t) {
            LOG.debug("membarrier unavailable: calls fence on entry", t);
            return null;
        }
    }
}
