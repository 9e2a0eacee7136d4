package xenshim.dispatcher;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.CallContext;
import xenshim.api.FailureListener;
import xenshim.api.Guard;
import xenshim.api.HypercallHandler;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenErrno;

/**
 * An immutable table of 128 hypercall slots, each empty or served by one
 * handler: what {@code hypercall_page} dispatches through.
 *
 * <p>Invoking a number outside 0..127 or an empty slot returns
 * {@code -XEN_ENOSYS}, as Xen does. A handler that throws
 * {@link xenshim.api.GuestFault} returns {@code -XEN_EFAULT}; one that throws
 * anything else returns {@code -XEN_EIO}, and the failure is logged at WARN
 * with the hypercall, domain and exception the first time that slot fails in
 * this table (later failures of the slot at DEBUG, so a guest cannot flood
 * the log). Nothing is thrown to the caller.
 *
 * <p>Whoever retires a table can wait until no call runs in it: the calls
 * are not counted here but found in what each calling thread published (see
 * {@link HypercallPage}, {@link Callers}).
 */
public final class HypercallTable {

    private static final Logger LOG = LoggerFactory.getLogger(HypercallTable.class);

    private final String name;
    private final HypercallHandler[] handlers;
    private final Provider[] providers;
    private final AtomicIntegerArray failures = new AtomicIntegerArray(Hypercalls.NR_SLOTS);
    private final FailureListener failureLog = this::logFailure;
    private static final AtomicLong IDS = new AtomicLong();

    /**
     * This table's number, unique in the JVM and never 0: what a caller's record holds
     * while a call runs here ({@link Callers}), a {@code long} rather than a reference so
     * that the store on every call needs no GC barrier.
     */
    final long id = IDS.incrementAndGet();
    private volatile boolean retired;
    /** The page this table was first installed or saved in; null until then (see {@link #claim}). */
    private final AtomicReference<HypercallPage> page = new AtomicReference<>();

    private HypercallTable(String name, HypercallHandler[] handlers, Provider[] providers) {
        this.name = name;
        this.handlers = handlers;
        this.providers = providers;
    }

    /** A table with no handler: every call is {@code -XEN_ENOSYS}. */
    public static HypercallTable empty() {
        return builder("empty").build();
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** A name for logs and errors. */
    public String name() {
        return name;
    }

    /** The provider serving {@code nr}, if any. */
    public Optional<Provider> provider(int nr) {
        return nr >= 0 && nr < Hypercalls.NR_SLOTS ? Optional.ofNullable(providers[nr]) : Optional.empty();
    }

    /** The filled slots, in slot order. */
    public List<Slot> slots() {
        List<Slot> slots = new ArrayList<>();
        for (int nr = 0; nr < Hypercalls.NR_SLOTS; nr++) {
            if (handlers[nr] != null) {
                slots.add(new Slot(nr, providers[nr], handlers[nr]));
            }
        }
        return slots;
    }

    /** One filled slot. */
    public record Slot(int nr, Provider provider, HypercallHandler handler) {
    }

    /**
     * Calls slot {@code nr} with the caller's raw arguments. Never throws.
     * Callers that dispatch through an installed page should go through
     * {@link HypercallPage#invoke}, which also publishes which table the call runs in.
     */
    public long invoke(CallContext ctx, long nr, long a0, long a1, long a2, long a3, long a4) {
        if (nr < 0 || nr >= Hypercalls.NR_SLOTS) {
            return -XenErrno.XEN_ENOSYS;
        }
        HypercallHandler handler = handlers[(int) nr];
        if (handler == null) {
            return -XenErrno.XEN_ENOSYS;
        }
        return Guard.call(handler, (int) nr, ctx, a0, a1, a2, a3, a4, failureLog);
    }

    private void logFailure(int nr, CallContext ctx, HypercallHandler handler, Throwable failure) {
        int count = failures.incrementAndGet(nr);
        if (count == 1) {
            LOG.warn("hypercall {} ({}) from {} vcpu {} failed in {} (table {}); {}",
                    Hypercalls.name(nr), nr, ctx.domain(), ctx.vcpuId(), providers[nr], name,
                    failure instanceof Error ? "a JVM error: the caller stops what it serves"
                            : "returning " + XenErrno.describe(-XenErrno.XEN_EIO), failure);
        } else {
            LOG.debug("hypercall {} from {} failed again ({} times): {}", Hypercalls.name(nr), ctx.domain(), count,
                    failure.toString());
        }
    }

    /** How many times slot {@code nr} has thrown in this table. */
    public int failures(int nr) {
        return failures.get(nr);
    }

    void retire() {
        retired = true;
    }

    /**
     * Binds this table to {@code owner} if no page has it yet.
     *
     * @return the page it was bound to before: null if {@code owner} just got it
     */
    HypercallPage claim(HypercallPage owner) {
        return page.compareAndExchange(null, owner);
    }

    /** Whether this table was unregistered from a page. */
    public boolean isRetired() {
        return retired;
    }

    /**
     * Calls running in this table now, entered through {@link HypercallPage#invoke}:
     * a scan of every calling thread's record, for retiring and tests, not for a hot path.
     */
    public long runningCalls() {
        return Callers.running(this);
    }

    @Override
    public String toString() {
        return "HypercallTable[" + name + ", " + slots().size() + " slots]";
    }

    /** Collects handlers and checks slots; {@link #build()} fails on any conflict. */
    public static final class Builder {
        private final String name;
        private final Map<Integer, List<Entry>> bySlot = new HashMap<>();
        private final Map<Integer, String> winners = new HashMap<>();
        private final List<String> errors = new ArrayList<>();

        private record Entry(Provider provider, Supplier<? extends HypercallHandler> handler) {
        }

        private Builder(String name) {
            this.name = Objects.requireNonNull(name);
        }

        /** Adds {@code handler} for slot {@code nr}; checked at {@link #build()}. */
        public Builder add(int nr, Provider provider, HypercallHandler handler) {
            Objects.requireNonNull(handler);
            return add(nr, provider, () -> handler);
        }

        /**
         * Adds a handler made only if it wins its slot: {@link #build()} checks
         * every slot first and calls no factory while any conflict remains.
         */
        public Builder add(int nr, Provider provider, Supplier<? extends HypercallHandler> factory) {
            Objects.requireNonNull(provider);
            Objects.requireNonNull(factory);
            if (nr < 0 || nr >= Hypercalls.NR_SLOTS) {
                errors.add("slot " + nr + " claimed by " + provider + " is outside 0.." + (Hypercalls.NR_SLOTS - 1));
            } else {
                bySlot.computeIfAbsent(nr, k -> new ArrayList<>()).add(new Entry(provider, factory));
            }
            return this;
        }

        /** Adds a handler whose class is annotated with {@link xenshim.api.Hypercall}. */
        public Builder add(HypercallHandler handler) {
            return add(Discovery.slotOf(handler.getClass()), Provider.of(handler.getClass()), handler);
        }

        /**
         * Says which provider wins slot {@code nr} when several claim it: the
         * one whose module, or class, is {@code moduleOrClass}.
         */
        public Builder prefer(int nr, String moduleOrClass) {
            winners.put(nr, Objects.requireNonNull(moduleOrClass));
            return this;
        }

        /** Builds the table, or throws {@link TableBuildException} naming every conflict. */
        public HypercallTable build() {
            List<String> problems = new ArrayList<>(errors);
            Entry[] chosen = new Entry[Hypercalls.NR_SLOTS];
            bySlot.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(slot -> {
                List<Entry> claims = slot.getValue();
                chosen[slot.getKey()] = claims.size() == 1 ? claims.getFirst() : choose(slot.getKey(), claims, problems);
            });
            if (!problems.isEmpty()) {
                throw new TableBuildException("cannot build hypercall table " + name + ": " + String.join("; ", problems));
            }
            HypercallHandler[] handlers = new HypercallHandler[Hypercalls.NR_SLOTS];
            Provider[] providers = new Provider[Hypercalls.NR_SLOTS];
            for (int nr = 0; nr < Hypercalls.NR_SLOTS; nr++) {
                if (chosen[nr] != null) {
                    handlers[nr] = Objects.requireNonNull(chosen[nr].handler().get(), chosen[nr].provider().toString());
                    providers[nr] = chosen[nr].provider();
                }
            }
            return new HypercallTable(name, handlers, providers);
        }

        private Entry choose(int nr, List<Entry> claims, List<String> problems) {
            String names = String.join(" and ", claims.stream().map(e -> e.provider().toString()).toList());
            String winner = winners.get(nr);
            if (winner == null) {
                problems.add("slot " + nr + " (" + Hypercalls.name(nr) + ") is claimed by " + names
                        + "; say which one wins");
                return null;
            }
            List<Entry> matches = claims.stream().filter(e -> e.provider().module().equals(winner)
                    || e.provider().className().equals(winner)).toList();
            if (matches.size() != 1) {
                problems.add("slot " + nr + " (" + Hypercalls.name(nr) + ") is claimed by " + names
                        + "; the preferred provider '" + winner + "' matches " + matches.size() + " of them");
                return null;
            }
            return matches.getFirst();
        }
    }
}
