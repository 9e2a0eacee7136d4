package xenshim.dispatcher;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import xenshim.api.CallContext;
import xenshim.dispatcher.jfr.HypercallEvent;
import xenshim.dispatcher.jfr.TableChangeEvent;

/**
 * The installed table, as the kernel's {@code hypercall_page}: every guest
 * hypercall and every in-process {@link Lcall} goes through
 * {@link #invoke}.
 *
 * <p>{@link #registerLcall} saves the installed table and installs a new one
 * in one atomic step; {@link #unregisterLcall} restores the last saved one.
 * Saves nest: register A, register B, unregister gives A back. A call that
 * started on a table finishes on it, and the table that unregister removed
 * can be awaited until no call runs in it ({@link Retired#await}).
 *
 * <p>Calls are not counted in a shared word. Each calling thread publishes
 * the table it runs in, in memory only it writes, and retiring a table scans
 * what the callers published (quiescence per caller, as RCU readers; see
 * {@link Callers}). A call costs no read-modify-write, no fence (on HotSpot,
 * from a platform thread) and no write that another thread's call touches, so
 * vCPUs and backends calling at once do not share a cache line; unregistering
 * costs a handshake with each other thread that ever called, and awaiting a
 * scan of them.
 *
 * <p>A table belongs to one page: the first page it is installed or saved in
 * (by the constructor or {@link #registerLcall}) owns it, and every other page
 * refuses it. Retiring a table that another page still has installed would
 * leave that page's calls with no table to run on; a retired table is refused
 * everywhere.
 */
public final class HypercallPage {

    private volatile HypercallTable current;
    /** Fault injection rules; null (the default) when none are installed, and then a call reads only this. */
    private volatile FaultInjection faults;
    /** What sees every entry ({@code run --record}); null (the default) when none, and then a call reads only this. */
    private volatile CallTap tap;
    /**
     * The last table retired while calls may still run in it; a hint for {@link #drainPending}. Weak, so
     * that the page never keeps a retired shim (and its class loader) alive: whoever awaits the table holds
     * it through its {@link Retired}, and a handler's class stays loaded while its code runs (a caller's
     * record holds only the table's number). Once nothing holds it, no one waits for its last calls.
     */
    private volatile WeakReference<HypercallTable> draining = new WeakReference<>(null);
    private final Deque<HypercallTable> saved = new ArrayDeque<>();
    private final Object lock = new Object();

    /**
     * @param initial the installed table; this page owns it from now on
     * @throws IllegalArgumentException if {@code initial} was retired or belongs to another page
     */
    public HypercallPage(HypercallTable initial) {
        String refused = adopt(Objects.requireNonNull(initial));
        if (refused != null) {
            throw new IllegalArgumentException(refused);
        }
        this.current = initial;
        TableChangeEvent.record(this, "install", initial.name(), null, null, 0);
    }

    /** The installed table. */
    public HypercallTable current() {
        return current;
    }

    /**
     * Installs fault injection rules, replacing any installed, or removes them ({@code null}).
     * Safe while calls run: each call sees either the old rules or the new ones.
     *
     * @return the rules installed before, with their counts, or null
     */
    public FaultInjection injectFaults(FaultInjection rules) {
        synchronized (lock) {
            FaultInjection before = faults;
            faults = rules;
            return before;
        }
    }

    /** The installed fault injection rules, or null. */
    public FaultInjection faults() {
        return faults;
    }

    /**
     * Sets what sees every entry from now on ({@link CallTap}), replacing any set, or removes it
     * ({@code null}). Safe while calls run: a call already entered finishes with the tap it saw.
     *
     * @return the tap set before, or null
     */
    public CallTap tap(CallTap newTap) {
        synchronized (lock) {
            CallTap before = tap;
            tap = newTap;
            return before;
        }
    }

    /** The tap set, or null. */
    public CallTap tap() {
        return tap;
    }

    /** How many tables are saved under the installed one. */
    public int depth() {
        synchronized (lock) {
            return saved.size();
        }
    }

    /**
     * Calls hypercall {@code nr} on the installed table. The call runs
     * entirely on the table it entered; if that table is retired between
     * reading it and entering it, the call goes to the table installed
     * instead, so no call is lost and none runs on a table after it was
     * drained. Never throws; allocates nothing (but a thread's first call
     * registers it, see {@link Callers}).
     *
     * <p>With {@link #injectFaults fault injection} rules installed, a call one of them
     * fails returns {@code -errno} without entering a table; with none, the rules cost a
     * read of one null field. So does a {@link #tap(CallTap) tap}: with one set, it sees
     * every entry (and the faulted ones) and wraps the context the handler gets.
     *
     * <p>Entering writes only the calling thread's own record: the table's number
     * goes in the record's slot for this nesting depth, and is cleared on return;
     * from a platform thread on HotSpot with no fence (see {@link Callers}).
     *
     * <p>While a JFR recording has {@code xenshim.Hypercall} enabled, each call is
     * one {@link HypercallEvent} (and allocates it); otherwise the recording costs a
     * static check.
     */
    public long invoke(CallContext ctx, long nr, long a0, long a1, long a2, long a3, long a4) {
        return invoke(Callers.current(), ctx, nr, a0, a1, a2, a3, a4);
    }

    /**
     * {@link #invoke(CallContext, long, long, long, long, long, long)} by the thread whose
     * record {@code caller} is (for callers that keep their thread's record at hand, as
     * {@link Lcall} does, instead of looking it up in a {@link ThreadLocal}).
     */
    long invoke(Callers.Caller caller, CallContext ctx, long nr, long a0, long a1, long a2, long a3, long a4) {
        if (HypercallEvent.on()) {
            return invokeRecorded(caller, ctx, nr, a0, a1, a2, a3, a4);
        }
        return enter(caller, ctx, nr, a0, a1, a2, a3, a4, null);
    }

    /** {@link #invoke} while a recording has {@link HypercallEvent} on: the call, timed, as one event. */
    private long invokeRecorded(Callers.Caller caller, CallContext ctx, long nr, long a0, long a1, long a2, long a3,
                                long a4) {
        HypercallEvent event = new HypercallEvent();
        event.begin();
        long result = enter(caller, ctx, nr, a0, a1, a2, a3, a4, event);
        event.end();
        event.commit(ctx, nr, a0, result);
        return result;
    }

    /**
     * The call by {@code caller}'s thread, on the table it enters; that table is said to
     * {@code event} if there is one.
     */
    private long enter(Callers.Caller caller, CallContext ctx, long nr, long a0, long a1, long a2, long a3, long a4,
                       HypercallEvent event) {
        FaultInjection injecting = faults;
        if (injecting != null) {
            long injected = injecting.inject(ctx, nr, a0);
            if (injected != 0) {
                if (event != null) {
                    event.ranIn("fault injection");
                }
                CallTap tapping = tap;
                if (tapping != null) {
                    tapping.faulted(ctx, nr, a0, a1, a2, a3, a4, injected);
                }
                return injected;
            }
        }
        CallTap tapping = tap;
        if (tapping != null) {
            // the tap runs the entry on the calling thread (CallTap), whose record this is
            return tapping.call(ctx, nr, a0, a1, a2, a3, a4,
                    seen -> enterTable(caller, seen, nr, a0, a1, a2, a3, a4, event));
        }
        return enterTable(caller, ctx, nr, a0, a1, a2, a3, a4, event);
    }

    /** The call by {@code caller}'s thread on the table it enters (past fault injection and the tap). */
    private long enterTable(Callers.Caller caller, CallContext ctx, long nr, long a0, long a1, long a2, long a3,
                            long a4, HypercallEvent event) {
        int depth = caller.depth;
        HypercallTable table;
        for (;;) {
            table = current;
            caller.publish(depth, table);
            // after the store, in program order: a retire either sees the store or is seen here (Callers)
            if (!table.isRetired()) {
                break;
            }
            caller.clear(depth);
            Thread.onSpinWait();
        }
        caller.depth = depth + 1;
        if (event != null) {
            event.ranIn(table.name());
        }
        try {
            return table.invoke(ctx, nr, a0, a1, a2, a3, a4);
        } finally {
            caller.depth = depth;
            caller.clear(depth);
        }
    }

    /**
     * Whether a retired table still has calls running: a reason for a long call to
     * preempt itself ({@link CallContext#preemptCheck}) so that it continues on the
     * installed table and the retired one drains. A hint, read on no hot path but a
     * preemption check: it may miss a table retired while it looks.
     */
    public boolean drainPending() {
        HypercallTable table = draining.get();
        if (table == null) {
            return false;
        }
        if (table.runningCalls() == 0) {
            draining.clear();
            return false;
        }
        return true;
    }

    /**
     * Saves the installed table and installs {@code table}, atomically; this page owns
     * {@code table} from now on.
     *
     * @throws IllegalStateException if {@code table} is installed or saved here already, was
     *         retired, or belongs to another page; the page is unchanged
     */
    public void registerLcall(HypercallTable table) {
        Objects.requireNonNull(table);
        synchronized (lock) {
            String refused = adopt(table);
            if (refused != null) {
                throw new IllegalStateException(refused);
            }
            HypercallTable before = current;
            saved.push(before);
            current = table;
            TableChangeEvent.record(this, "register", table.name(), before.name(), null, saved.size());
        }
    }

    /**
     * Makes this page the owner of {@code table}, or says why it cannot be. A
     * table this page already owns is installed, saved or retired here, so
     * ownership alone answers "is it here already".
     *
     * @return null if adopted, else the reason it was refused
     */
    private String adopt(HypercallTable table) {
        if (table.isRetired()) {
            return "table " + table.name() + " was retired; build a new one";
        }
        HypercallPage owner = table.claim(this);
        if (owner == this) {
            return "table " + table.name() + " is already installed or saved";
        }
        if (owner != null) {
            return "table " + table.name() + " belongs to another HypercallPage; a table can be installed in one page only";
        }
        return null;
    }

    /**
     * Restores the last saved table and retires the installed one. Returns once every
     * call that may still run in the retired table can be seen by its {@link Retired#await}:
     * on HotSpot that is one handshake with each other thread that ever called (see
     * {@link Callers}), tens of microseconds each.
     *
     * @return the retired table, to wait for its running calls
     * @throws IllegalStateException if nothing is saved; the page is unchanged
     */
    public Retired unregisterLcall() {
        HypercallTable removed;
        synchronized (lock) {
            if (saved.isEmpty()) {
                throw new IllegalStateException("unregister with nothing registered: table "
                        + current.name() + " stays installed");
            }
            removed = current;
            current = saved.pop();
            removed.retire();
            TableChangeEvent.record(this, "unregister", current.name(), null, removed.name(), saved.size());
        }
        return retired(removed);
    }

    /**
     * After {@code removed} was uninstalled and marked retired: waits until every call
     * either shows in the callers' records or will see the mark ({@link Callers#synchronize},
     * handshakes on HotSpot), so that the scans of {@link Retired#await} and
     * {@link #drainPending} miss no call. Outside the page's lock: registering and
     * unregistering on other threads need not wait for the handshakes.
     */
    private Retired retired(HypercallTable removed) {
        Callers.synchronize();
        draining = new WeakReference<>(removed);
        return new Retired(removed);
    }

    /**
     * Installs {@code table} and retires the installed one, atomically, leaving the saved tables as they
     * are: a new shim in place of the current one, where {@link #registerLcall} would keep the current one
     * to come back to. Swapping shims again and again this way keeps no old table, its handlers or its
     * class loader alive once its calls have drained. Returns, as {@link #unregisterLcall} does, once
     * every call that may still run in the retired table can be seen by its {@link Retired#await}.
     *
     * @return the retired table, to wait for its running calls
     * @throws IllegalStateException if {@code table} is installed or saved here already, was retired, or
     *         belongs to another page; the page is unchanged
     */
    public Retired replaceLcall(HypercallTable table) {
        Objects.requireNonNull(table);
        HypercallTable removed;
        synchronized (lock) {
            String refused = adopt(table);
            if (refused != null) {
                throw new IllegalStateException(refused);
            }
            removed = current;
            current = table;
            removed.retire();
            TableChangeEvent.record(this, "replace", table.name(), null, removed.name(), saved.size());
        }
        return retired(removed);
    }

    /** The saved tables, the one {@link #unregisterLcall} would restore first. */
    public List<HypercallTable> savedTables() {
        synchronized (lock) {
            return List.copyOf(saved);
        }
    }

    /** A table that was unregistered; calls may still be finishing in it. */
    public record Retired(HypercallTable table) {

        /**
         * Waits until no call runs in the retired table.
         *
         * @return true if it drained within {@code timeout}
         */
        public boolean await(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            long pause = 1_000;
            while (table.runningCalls() != 0) {
                if (System.nanoTime() - deadline >= 0) {
                    return false;
                }
                Thread.sleep(Duration.ofNanos(pause));
                pause = Math.min(pause * 2, 1_000_000);
            }
            return true;
        }
    }
}
