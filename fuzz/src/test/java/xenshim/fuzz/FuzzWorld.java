package xenshim.fuzz;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.GrantMappings;
import xenshim.api.GuestMemory;
import xenshim.api.SegmentGuestMemory;
import xenshim.api.ShutdownState;
import xenshim.api.VcpuTimers;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.TestingClock;
import xenshim.testkit.TestingTimers;
import xenshim.x86.DomainRegistry;
import xenshim.x86.Platform;

/**
 * The platform as one fuzz input (or one property try) sees it, made fresh each time: dom0 (the in-process,
 * privileged control domain, with an arena for its memory) and two unprivileged guests ({@link FuzzGuest}),
 * in the registry of one {@link Platform} whose built-in table (discovered from the boot layer, as
 * {@code xenshim run} builds it) is installed in one {@link HypercallPage} for the whole JVM. Every call goes
 * through {@link HypercallPage#invoke}, on the calling thread, with a {@link BoundedContext}, and its
 * continuations are followed as a vCPU follows them, up to {@link #MAX_ENTRIES}.
 *
 * <p>Not thread-safe: one world at a time per JVM (its domains take ids 0, 1 and 2 in the registry).
 */
final class FuzzWorld implements AutoCloseable {

    /** More entries than any call of a correct handler needs with the fuzzed guests' memory. */
    static final int MAX_ENTRIES = 100_000;
    static final int DOM0_MEMORY = 16 * 4096;

    private static final Platform PLATFORM = new Platform(XenVersionInfo.defaults(), (domain, bytes, off, len) -> { });
    static final HypercallPage PAGE = new HypercallPage(PLATFORM.table(null, Map.of()));

    static {
        // each world brings its own dom0; the platform's would keep state across inputs
        PLATFORM.domains().remove(PLATFORM.dom0());
    }

    private final Arena arena = Arena.ofShared();
    final TestingTimers timers = new TestingTimers(TestingClock.at(1_000_000_000L));
    final CrossDomainAudit audit = new CrossDomainAudit();
    final Domain dom0 = Domain.localDom0();
    final MemorySegment dom0Memory = arena.allocate(DOM0_MEMORY, 4096);
    private final GuestMemory dom0View = new SegmentGuestMemory(dom0Memory, dom0Memory.address());
    final List<FuzzGuest> guests = new ArrayList<>();
    private final WorkBudget budget = new WorkBudget();

    FuzzWorld() {
        FakeDomains.attachVcpuTimers(dom0, timers); // as the platform's dom0 has its timers
        DomainRegistry registry = PLATFORM.domains();
        registry.add(dom0);
        try {
            for (int domid = 1; domid <= 2; domid++) {
                FuzzGuest guest = new FuzzGuest(domid, arena, timers, audit);
                registry.add(guest.domain);
                guests.add(guest);
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** The numbers of the table's filled slots. */
    static int[] filledSlots() {
        return PAGE.current().slots().stream().mapToInt(HypercallTable.Slot::nr).toArray();
    }

    /** The installed table (to read its handler failure counts). */
    static HypercallTable table() {
        return PAGE.current();
    }

    /** Domain {@code index}: 0 is dom0, 1 and 2 the guests. */
    Domain domain(int index) {
        return index == 0 ? dom0 : guests.get(index - 1).domain;
    }

    List<Domain> domains() {
        List<Domain> all = new ArrayList<>();
        all.add(dom0);
        guests.forEach(g -> all.add(g.domain));
        return all;
    }

    FuzzGuest guest(Domain domain) {
        return guests.stream().filter(g -> g.domain == domain).findFirst().orElse(null);
    }

    /** Where a pointer argument of domain {@code index} points to its argument area, {@code offset} in. */
    long argumentArea(int index, long offset) {
        return index == 0 ? dom0Memory.address() + offset : FuzzGuest.ARGS + offset;
    }

    /** The first 8 KiB of domain {@code index}'s argument area ({@link #argumentArea}), to write structs into. */
    MemorySegment arguments(int index) {
        return index == 0 ? dom0Memory.asSlice(0, 8192) : guests.get(index - 1).ram().asSlice(FuzzGuest.ARGS, 8192);
    }

    /** Whether domain {@code index} can still make calls: a domain that shut down makes none, as on Xen. */
    boolean running(int index) {
        return !domain(index).state(ShutdownState.KEY).isShuttingDown();
    }

    /** One call as domain {@code index} makes it, continuations followed; its result, or a runaway. */
    long call(int index, boolean compat, long nr, long a0, long a1, long a2, long a3, long a4, int preemptEvery) {
        Domain caller = domain(index);
        Abi abi = compat ? Abi.X86_32 : Abi.X86_64;
        GuestMemory memory = index == 0 ? dom0View : guests.get(index - 1).memory(compat);
        BoundedContext ctx = new BoundedContext(caller, memory, abi, preemptEvery, budget);
        long[] a = {abi.argument(a0), abi.argument(a1), abi.argument(a2), abi.argument(a3), abi.argument(a4)};
        String what = Hypercalls.name(nr) + " from " + caller;
        audit.calling(caller);
        try {
            for (int entries = 1; ; entries++) {
                budget.startEntry(what);
                ctx.startEntry();
                long result = PAGE.invoke(ctx, nr, a[0], a[1], a[2], a[3], a[4]);
                if (!ctx.continuation().take(result)) {
                    return result;
                }
                if (entries == MAX_ENTRIES) {
                    throw new RunawayCall(what + " continued " + MAX_ENTRIES + " times");
                }
                for (int i = 0; i < 5; i++) {
                    a[i] = abi.argument(ctx.continuation().arg(i)); // what the registers hold on re-entry
                }
            }
        } finally {
            audit.calling(null);
        }
    }

    /** The handler of slot {@code nr}, for messages. */
    static String handlerOf(long nr) {
        return nr >= 0 && nr < Hypercalls.NR_SLOTS
                ? table().provider((int) nr).map(Object::toString).orElse("no handler") : "no slot";
    }

    /** Time moves on: due vCPU timers fire (their VIRQ_TIMER events go to the guests). */
    void advanceClock(long nanos) {
        timers.advance(nanos);
    }

    /**
     * The domains die as the toolstack ends them: their timers stop, their ports close, dom0's mappings of
     * their grants go. Then they leave the registry and their memory is freed.
     */
    @Override
    public void close() {
        DomainRegistry registry = PLATFORM.domains();
        for (Domain domain : domains()) {
            domain.find(VcpuTimers.KEY).ifPresent(VcpuTimers::stopAll);
        }
        GrantMappings.releaseAll(dom0);
        for (Domain domain : domains()) {
            EventChannels.destroy(domain);
            registry.remove(domain);
        }
        arena.close();
    }
}
