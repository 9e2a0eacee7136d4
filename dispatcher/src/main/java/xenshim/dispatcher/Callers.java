package xenshim.dispatcher;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
 * publishes, in a slot array only it writes, the table of each call it is in
 * (its {@link HypercallTable#id}, so the store needs no GC barrier): slot
 * {@code d} for the call at nesting depth {@code d} (a handler that makes an
 * lcall runs at depth 1, and so on), cleared with a release store when the call
 * returns. No read-modify-write, no shared write, no allocation once the
 * thread's record exists (a call nested deeper than the slot array grows it,
 * once).
 *
 * <p>Entering is: read the installed table, store it into the slot, then check
 * that the table has not been retired (else clear the slot and take the
 * installed table). Retiring is the mirror: mark the table retired, then
 * {@link #synchronize}, then scan every caller's slots. What must hold is
 * Dekker's property: a caller either shows in the scan or sees the table
 * retired. It is had in one of two ways, chosen once at start-up
 * ({@link #HANDSHAKES}):
 *
 * <ul>
 * <li><b>Handshake</b> (HotSpot, platform threads): the caller's slot store is a
 *     release store, a plain {@code mov} on x86 and no fence. The retiring side,
 *     after marking the table, calls {@link Thread#getStackTrace()} on every
 *     other registered platform thread that is alive: HotSpot performs it as a
 *     handshake with that one thread ({@code Handshake::execute} of a
 *     {@code GetStackTraceClosure}; {@code -Xlog:handshake} shows it), not as a
 *     safepoint, so no other thread stops. A handshake completes only when the
 *     target is at a handshake-safe point: it ran the closure itself at a
 *     safepoint poll or a call into the VM, or the requester ran it while the
 *     target was blocked or in native code. Either way that point orders the
 *     two threads both ways (HotSpot's own closures rely on this to walk a stack
 *     the target wrote with plain stores, and the target then sees what the
 *     requester wrote before asking): what the caller did before it is visible
 *     to the retirer once {@code getStackTrace} returns, and what the caller
 *     does after it sees the retired mark. Take a caller's entry, read
 *     {@code current} (r1), store the slot (w), read {@code retired} (r2), in
 *     that program order. If the handshake point came after w, the scan sees w
 *     (or the later clear of a call that returned). If it came before w, it
 *     came before r2 too, and r2 sees the table retired. The one case that
 *     would break this is r2 executed before the point and w after it; it needs
 *     a store moved down past a handshake-safe point, which HotSpot never does:
 *     at every safepoint poll, call into the VM and uncommon trap the JIT keeps
 *     the memory state of the program order at that bytecode (deoptimization
 *     resumes the interpreter there), and the interpreter runs bytecodes in
 *     order. A volatile {@code retired} keeps r2 from being hoisted out of the
 *     retry loop. This is HotSpot's behaviour, not the JMM's: the JMM gives no
 *     order to {@code getStackTrace}. So it is taken only on HotSpot, and a
 *     thread that never reaches a poll (a long critical downcall, a counted loop
 *     whose polls were removed) delays a retire until it does.</li>
 * <li><b>Fenced</b> (virtual threads, threads of a class that overrides
 *     {@code getStackTrace}, any VM that is not HotSpot, or with
 *     {@code -Dxenshim.dispatcher.fencedEntry=true}): the slot store is a
 *     volatile store, so by the JMM's total order of volatile accesses with the
 *     retirer's mark and full fence, the caller shows in the scan or sees the
 *     table retired. On x86 this is one locked instruction on the caller's own
 *     line, never contended. A virtual thread takes this path because a
 *     handshake with an unmounted virtual thread costs tens to hundreds of
 *     microseconds (the JDK suspends it and walks its continuation), and the
 *     retirer skips them.</li>
 * </ul>
 *
 * <p>A record belongs to its thread: the registry drops the records of
 * threads that ended (and with them the threads), on scans and every so many
 * registrations, so short-lived (virtual) threads do not pile up. A thread
 * registers with an add to a lock-free queue (a volatile write) before its
 * first entry reads {@code current}, and the retirer walks the queue with
 * volatile reads after its mark: a thread the walk misses sees the mark.
 */
final class Callers {

    /** Nesting depths a record has room for before it grows; 16 table ids fill two cache lines of their own. */
    private static final int INITIAL_DEPTH = 16;

    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(long[].class);

    /**
     * Whether platform threads enter with a plain store and retiring handshakes with
     * them (see the class comment): on HotSpot, unless
     * {@code -Dxenshim.dispatcher.fencedEntry=true}.
     */
    static final boolean HANDSHAKES = !Boolean.getBoolean("xenshim.dispatcher.fencedEntry") && isHotSpot();

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
        /** The thread whose record this is; dropped from the registry once it ended. */
        final Thread thread;
        /** Whether this caller's slot store fences (see {@link Callers}); false: the retirer handshakes with it. */
        private final boolean fenced;
        /**
         * Slot d: the {@link HypercallTable#id} of the table of the call at nesting depth d, or 0.
         * Replaced (by the owner) only to grow.
         */
        private volatile long[] slots = new long[INITIAL_DEPTH];
        /** How many calls this thread is in now; the owner's only. */
        int depth;

        private Caller(Thread thread) {
            this.thread = thread;
            this.fenced = !HANDSHAKES || thread.isVirtual() || overridesGetStackTrace(thread.getClass());
        }

        /**
         * Publishes that the call at {@code depth} runs in {@code table}; the caller
         * must then check that {@code table} was not retired.
         */
        void publish(int depth, HypercallTable table) {
            long[] mine = slots;
            if (depth >= mine.length) {
                mine = grow(depth);
            }
            if (fenced) {
                SLOT.setVolatile(mine, depth, table.id); // before the retired check, in the JMM's total order
            } else {
                SLOT.setRelease(mine, depth, table.id); // visible to the retirer after its handshake with this thread
            }
        }

        /** The call at {@code depth} returned (or never entered): its table may be retired without it. */
        void clear(int depth) {
            SLOT.setRelease(slots, depth, 0L);
        }

        private long[] grow(int depth) {
            long[] bigger = Arrays.copyOf(slots, Math.max(depth + 1, slots.length * 2));
            slots = bigger;
            return bigger;
        }

        /** How many of this caller's calls run in {@code table} now. */
        int runningIn(HypercallTable table) {
            long[] mine = slots;
            int n = 0;
            for (int i = 0; i < mine.length; i++) {
                if ((long) SLOT.getVolatile(mine, i) == table.id) {
                    n++;
                }
            }
            return n;
        }

        boolean ended() {
            return !thread.isAlive();
        }

        /** Whether this caller's slot store fences (the retirer does not handshake with it). */
        boolean fenced() {
            return fenced;
        }

        /**
         * Waits until this caller's thread has passed a handshake-safe point, unless it is
         * {@code self} (whose own stores need no handshake) or has ended.
         */
        void handshake(Thread self) {
            if (thread != self) {
                thread.getStackTrace(); // a HotSpot handshake with that thread alone; an ended thread returns at once
            }
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
     * After a table was marked retired: returns once every caller either shows the
     * table in its slots or will see it retired, so that {@link #running} is exact
     * for it from now on (it can only fall). A full fence (the mirror of a fenced
     * caller's volatile store), then, on the handshake path, one handshake with each
     * registered platform thread but this one: tens of microseconds each, paid by
     * the retirer, and by a running target only for its own stack walk.
     */
    static void synchronize() {
        VarHandle.fullFence();
        if (!HANDSHAKES) {
            return;
        }
        Thread self = Thread.currentThread();
        for (Caller caller : REGISTRY) {
            if (!caller.fenced) {
                caller.handshake(self);
            }
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

    /**
     * Whether a thread class has its own {@link Thread#getStackTrace()}: then calling it need not be
     * the JDK's handshake, so its threads fence instead.
     */
    private static boolean overridesGetStackTrace(Class<? extends Thread> type) {
        try {
            return type.getMethod("getStackTrace").getDeclaringClass() != Thread.class;
        } catch (NoSuchMethodException impossible) {
            return true;
        }
    }

    /**
     * Whether this JVM is HotSpot, whose handshakes the handshake path relies on
     * ({@code java.vm.name} is "OpenJDK ..." or "Java HotSpot(TM) ..." there;
     * OpenJ9 and native images say otherwise and fence).
     */
    private static boolean isHotSpot() {
        String vm = System.getProperty("java.vm.name", "");
        return vm.contains("HotSpot") || vm.startsWith("OpenJDK");
    }
}
