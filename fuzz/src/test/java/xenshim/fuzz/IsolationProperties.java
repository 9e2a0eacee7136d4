package xenshim.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.Random;
import org.junit.jupiter.api.Test;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.EventChannels.PortStatus;
import xenshim.api.GrantTable;
import xenshim.api.ShutdownState;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenErrno;
import xenshim.api.xen.XenEvtchn;
import xenshim.api.xen.XenGnttab;
import xenshim.api.xen.XenHvm;
import xenshim.api.xen.XenMemory;
import xenshim.api.xen.XenSched;
import xenshim.api.xen.XenVersion;

/**
 * Isolation between domains, across random sequences of operations by random domains (dom0 and two
 * unprivileged guests, through the dispatcher as in {@link HypercallFuzzTest}): event channels bound,
 * sent on and closed; grants written by one guest and mapped or copied by the others; dom0-only
 * operations tried by the guests. After every operation, besides the memory isolation and platform
 * invariants every fuzz input checks:
 *
 * <ul>
 * <li>a send marks pending, in another domain, only the peer of the sender's own port;</li>
 * <li>a close changes, in another domain, only the peer of the closer's own port;</li>
 * <li>a map or copy of a grant succeeds only for the domain the entry names, and a write only if the
 *     entry is not read-only, unless the caller holds the entry pinned already ({@link #permitted});</li>
 * <li>every dom0-only operation is refused to a guest with Xen's {@code -EPERM}, and does nothing.</li>
 * </ul>
 *
 * <p>The xenstore side of isolation (permissions) is {@link StoreIsolationProperties}. The sequences are
 * {@link RandomSequences}: a fixed seed, so the normal run is the same every time; {@code -Disolation.tries=N}
 * runs more (README).
 */
class IsolationProperties {

    /** {@code GNTPIN_hstw_mask | GNTPIN_devw_mask}: a pin count that holds the entry writable. */
    private static final int WRITE_PINS = 0x00FF_00FF;
    private static final StructLayout COPY = AbiLayouts.X86_64.gnttab_copy;
    private static final StructLayout PTR = AbiLayouts.X86_64.gnttab_copy_ptr;
    private static final StructLayout MAP = AbiLayouts.X86_64.gnttab_map_grant_ref;

    /** One step of a sequence. */
    sealed interface Op permits AllocUnbound, BindInterdomain, Send, Close, Grant, Copy, MapGrant, Dom0Only {
    }

    record AllocUnbound(int who, int remote) implements Op {
    }

    record BindInterdomain(int who, int remote, int port) implements Op {
    }

    record Send(int who, int port) implements Op {
    }

    record Close(int who, int port) implements Op {
    }

    /** Guest {@code granter} writes entry {@code ref}: its frame {@code gfn} to {@code grantee}. */
    record Grant(int granter, int ref, int grantee, boolean readonly, int gfn) implements Op {
    }

    /** {@code who} copies to or from guest {@code granter}'s grant {@code ref}. */
    record Copy(int who, int granter, int ref, boolean intoGrant) implements Op {
    }

    record MapGrant(int who, int granter, int ref, boolean readonly) implements Op {
    }

    /** A guest tries dom0-only operation {@code kind} on domain {@code target}. */
    record Dom0Only(int who, int kind, int target) implements Op {
    }

    static final int DOM0_ONLY_KINDS = 8;

    /** One operation: each kind as likely as the others, domains, ports and refs among the few that matter. */
    static Op operation(Random random) {
        int who = random.nextInt(3);
        return switch (random.nextInt(8)) {
            case 0 -> new AllocUnbound(who, random.nextInt(3));
            case 1 -> new BindInterdomain(who, random.nextInt(3), random.nextInt(13));
            case 2 -> new Send(who, random.nextInt(13));
            case 3 -> new Close(who, random.nextInt(13));
            case 4 -> new Grant(1 + random.nextInt(2), random.nextInt(8), who, random.nextBoolean(),
                    random.nextInt(FuzzGuest.RAM_PAGES));
            case 5 -> new Copy(who, 1 + random.nextInt(2), random.nextInt(8), random.nextBoolean());
            case 6 -> new MapGrant(who, 1 + random.nextInt(2), random.nextInt(8), random.nextBoolean());
            default -> new Dom0Only(1 + random.nextInt(2), random.nextInt(DOM0_ONLY_KINDS), who);
        };
    }

    @Test
    void noDomainReachesWhatItWasNotGiven() {
        RandomSequences.forAll(40, IsolationProperties::operation, IsolationProperties::run);
    }

    private static void run(List<Op> ops) {
        try (FuzzWorld world = new FuzzWorld()) {
            MemoryIsolation isolation = new MemoryIsolation(world);
            try {
                for (Op op : ops) {
                    apply(world, isolation, op);
                }
            } finally {
                isolation.close();
            }
        }
    }

    private static void apply(FuzzWorld world, MemoryIsolation isolation, Op op) {
        switch (op) {
            case AllocUnbound(int who, int remote) -> {
                MemorySegment a = world.arguments(who);
                put16(a, offset(AbiLayouts.X86_64.evtchn_alloc_unbound, "dom"), (short) Domain.DOMID_SELF);
                put16(a, offset(AbiLayouts.X86_64.evtchn_alloc_unbound, "remote_dom"),
                        (short) world.domain(remote).domid());
                call(world, isolation, op, who, Hypercalls.__HYPERVISOR_event_channel_op,
                        XenEvtchn.EVTCHNOP_alloc_unbound, world.argumentArea(who, 0));
            }
            case BindInterdomain(int who, int remote, int port) -> {
                MemorySegment a = world.arguments(who);
                put16(a, offset(AbiLayouts.X86_64.evtchn_bind_interdomain, "remote_dom"),
                        (short) world.domain(remote).domid());
                put32(a, offset(AbiLayouts.X86_64.evtchn_bind_interdomain, "remote_port"), port);
                call(world, isolation, op, who, Hypercalls.__HYPERVISOR_event_channel_op,
                        XenEvtchn.EVTCHNOP_bind_interdomain, world.argumentArea(who, 0));
            }
            case Send(int who, int port) -> {
                Map<Domain, Set<Integer>> before = pending(world, who);
                put32(world.arguments(who), 0, port);
                call(world, isolation, op, who, Hypercalls.__HYPERVISOR_event_channel_op, XenEvtchn.EVTCHNOP_send,
                        world.argumentArea(who, 0));
                Map<Domain, Set<Integer>> after = pending(world, who);
                PortStatus own = status(world, world.domain(who), port);
                for (Domain other : after.keySet()) {
                    Set<Integer> raised = new TreeSet<>(after.get(other));
                    raised.removeAll(before.get(other));
                    raised.removeIf(p -> own != null && own.state() == EventChannels.State.INTERDOMAIN
                            && own.remoteDom() == other.domid() && own.remotePort() == p);
                    assertThat(raised).as("%s: ports of %s it does not own became pending", op, other).isEmpty();
                }
            }
            case Close(int who, int port) -> {
                PortStatus own = status(world, world.domain(who), port);
                Map<Domain, List<PortStatus>> before = ports(world, who);
                put32(world.arguments(who), 0, port);
                call(world, isolation, op, who, Hypercalls.__HYPERVISOR_event_channel_op, XenEvtchn.EVTCHNOP_close,
                        world.argumentArea(who, 0));
                Map<Domain, List<PortStatus>> after = ports(world, who);
                for (Domain other : after.keySet()) {
                    List<PortStatus> was = before.get(other);
                    List<PortStatus> is = after.get(other);
                    for (int p = 0; p < Math.max(was.size(), is.size()); p++) {
                        boolean peer = own != null && own.state() == EventChannels.State.INTERDOMAIN
                                && own.remoteDom() == other.domid() && own.remotePort() == p;
                        if (!peer) {
                            assertThat(p < is.size() ? is.get(p) : null).as("%s: %s's port %d", op, other, p)
                                    .isEqualTo(p < was.size() ? was.get(p) : null);
                        }
                    }
                }
            }
            case Grant(int granter, int ref, int grantee, boolean readonly, int gfn) ->
                    world.guests.get(granter - 1).writeGrant(ref,
                            XenGnttab.GTF_permit_access | (readonly ? XenGnttab.GTF_readonly : 0),
                            world.domain(grantee).domid(), gfn);
            case Copy(int who, int granter, int ref, boolean intoGrant) -> copy(world, isolation, op, who, granter, ref,
                    intoGrant);
            case MapGrant(int who, int granter, int ref, boolean readonly) -> map(world, isolation, op, who, granter, ref,
                    readonly);
            case Dom0Only(int who, int kind, int target) -> dom0Only(world, isolation, op, who, kind, target);
        }
    }

    /** One GNTTABOP_copy of 16 bytes between the caller's own frame 0x12 and the grant. */
    private static void copy(FuzzWorld world, MemoryIsolation isolation, Op op, int who, int granter, int ref,
                             boolean intoGrant) {
        MemorySegment a = world.arguments(who);
        long source = offset(COPY, "source");
        long dest = offset(COPY, "dest");
        long grantSide = intoGrant ? dest : source;
        long ownSide = intoGrant ? source : dest;
        a.asSlice(0, COPY.byteSize()).fill((byte) 0);
        put64(a, grantSide + offset(PTR, "u.gmfn"), ref);
        put16(a, grantSide + offset(PTR, "domid"), (short) world.domain(granter).domid());
        put64(a, ownSide + offset(PTR, "u.gmfn"), 0x12);
        put16(a, ownSide + offset(PTR, "domid"), (short) Domain.DOMID_SELF);
        put16(a, offset(COPY, "len"), (short) 16);
        put16(a, offset(COPY, "flags"), (short) (intoGrant ? XenGnttab.GNTCOPY_dest_gref : XenGnttab.GNTCOPY_source_gref));
        GrantTable table = world.guests.get(granter - 1).phys.grantTable();
        int flags = table.flags(ref);
        boolean permitted = permitted(world, who, table, ref, intoGrant);
        call(world, isolation, op, who, Hypercalls.__HYPERVISOR_grant_table_op, XenGnttab.GNTTABOP_copy,
                world.argumentArea(who, 0), 1);
        short status = a.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset(COPY, "status"));
        if (status == XenGnttab.GNTST_okay) {
            assertThat(permitted).as("%s succeeded on entry flags %x domid %d", op, flags, table.domid(ref)).isTrue();
        }
    }

    private static void map(FuzzWorld world, MemoryIsolation isolation, Op op, int who, int granter, int ref,
                            boolean readonly) {
        MemorySegment a = world.arguments(who);
        a.asSlice(0, MAP.byteSize()).fill((byte) 0);
        put64(a, offset(MAP, "host_addr"), 0x1_0000_0000L + ((long) (granter * 8 + ref) << 12));
        put32(a, offset(MAP, "flags"), XenGnttab.GNTMAP_host_map | (readonly ? XenGnttab.GNTMAP_readonly : 0));
        put32(a, offset(MAP, "ref"), ref);
        put16(a, offset(MAP, "dom"), (short) world.domain(granter).domid());
        GrantTable table = world.guests.get(granter - 1).phys.grantTable();
        int flags = table.flags(ref);
        boolean permitted = permitted(world, who, table, ref, !readonly);
        call(world, isolation, op, who, Hypercalls.__HYPERVISOR_grant_table_op, XenGnttab.GNTTABOP_map_grant_ref,
                world.argumentArea(who, 0), 1);
        short status = a.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset(MAP, "status"));
        if (status == XenGnttab.GNTST_okay) {
            assertThat(permitted).as("%s succeeded on entry flags %x domid %d", op, flags, table.domid(ref)).isTrue();
        }
    }

    /**
     * Whether {@code who} may reach grant {@code ref} (to write it, if {@code write}): the entry permits access
     * to it (and is not read-only for a write), or the caller holds it pinned already. A pinned entry is not
     * checked again but for {@code GTF_readonly} on a first writable pin, as on Xen, whatever its granter wrote
     * into it since: the granter revokes by ending its grant, which the pin's {@code GTF_reading} stops. Only
     * dom0 (in-process, auto-translated) can hold a mapping, so a pinned entry is dom0's.
     */
    private static boolean permitted(FuzzWorld world, int who, GrantTable table, int ref, boolean write) {
        int flags = table.flags(ref);
        boolean writable = !write || (flags & XenGnttab.GTF_readonly) == 0;
        int pin = table.pin(ref);
        if (who == 0 && pin != 0) {
            return writable || (pin & WRITE_PINS) != 0;
        }
        return (flags & XenGnttab.GTF_type_mask) == XenGnttab.GTF_permit_access
                && table.domid(ref) == world.domain(who).domid() && writable;
    }

    /** A guest's dom0-only call on {@code target}: -EPERM, and no effect. */
    private static void dom0Only(FuzzWorld world, MemoryIsolation isolation, Op op, int who, int kind, int target) {
        // hvm_op on a domain that is not HVM (the in-process dom0) is -EINVAL before any permission check, in
        // Xen too: that one always names the other guest
        Domain other = world.domain(kind == 6 || target == who ? 3 - who : target);
        short domid = (short) other.domid();
        MemorySegment a = world.arguments(who);
        a.asSlice(0, 64).fill((byte) 0);
        long arg = world.argumentArea(who, 0);
        int portsBefore = ports(other).size();
        long result = switch (kind) {
            case 0 -> {
                put16(a, offset(AbiLayouts.X86_64.sched_remote_shutdown, "domain_id"), domid);
                yield call(world, isolation, op, who, Hypercalls.__HYPERVISOR_sched_op, XenSched.SCHEDOP_remote_shutdown,
                        arg);
            }
            case 1 -> {
                put16(a, 0, domid); // XENMEM_current_reservation takes a domid_t *
                yield call(world, isolation, op, who, Hypercalls.__HYPERVISOR_memory_op,
                        XenMemory.XENMEM_current_reservation, arg);
            }
            case 2 -> {
                put16(a, offset(AbiLayouts.X86_64.evtchn_alloc_unbound, "dom"), domid);
                put16(a, offset(AbiLayouts.X86_64.evtchn_alloc_unbound, "remote_dom"), (short) world.domain(who).domid());
                yield call(world, isolation, op, who, Hypercalls.__HYPERVISOR_event_channel_op,
                        XenEvtchn.EVTCHNOP_alloc_unbound, arg);
            }
            case 3 -> {
                put16(a, offset(AbiLayouts.X86_64.evtchn_status, "dom"), domid); // port 0: valid in every table
                yield call(world, isolation, op, who, Hypercalls.__HYPERVISOR_event_channel_op,
                        XenEvtchn.EVTCHNOP_status, arg);
            }
            case 4 -> {
                put16(a, offset(AbiLayouts.X86_64.evtchn_reset, "dom"), domid);
                yield call(world, isolation, op, who, Hypercalls.__HYPERVISOR_event_channel_op,
                        XenEvtchn.EVTCHNOP_reset, arg);
            }
            case 5 -> {
                put16(a, offset(AbiLayouts.X86_64.gnttab_get_version, "dom"), domid);
                yield call(world, isolation, op, who, Hypercalls.__HYPERVISOR_grant_table_op,
                        XenGnttab.GNTTABOP_get_version, arg, 1);
            }
            case 6 -> {
                put16(a, offset(AbiLayouts.X86_64.xen_hvm_param, "domid"), domid);
                put32(a, offset(AbiLayouts.X86_64.xen_hvm_param, "index"), XenHvm.HVM_PARAM_STORE_PFN);
                yield call(world, isolation, op, who, Hypercalls.__HYPERVISOR_hvm_op, XenHvm.HVMOP_get_param, arg);
            }
            default -> call(world, isolation, op, who, Hypercalls.__HYPERVISOR_xen_version, XenVersion.XENVER_build_id,
                    arg, 64);
        };
        assertThat(XenErrno.describe(result)).as("%s by %s on %s", op, world.domain(who), other)
                .isEqualTo(XenErrno.describe(-XenErrno.XEN_EPERM));
        assertThat(other.state(ShutdownState.KEY).isShuttingDown()).as("%s shut %s down", op, other).isFalse();
        assertThat(ports(other).size()).as("%s made a port in %s", op, other).isEqualTo(portsBefore);
    }

    private static long call(FuzzWorld world, MemoryIsolation isolation, Op op, int who, int nr, long... args) {
        long[] a = new long[5];
        System.arraycopy(args, 0, a, 0, args.length);
        Domain caller = world.domain(who);
        isolation.before(caller);
        world.audit.clear();
        long result = world.call(who, false, nr, a[0], a[1], a[2], a[3], a[4], 1);
        List<String> wrong = new ArrayList<>(isolation.after());
        wrong.addAll(world.audit.violations());
        wrong.addAll(PlatformInvariants.check(world));
        assertThat(wrong).as("%s = %s", op, XenErrno.describe(result)).isEmpty();
        return result;
    }

    private static PortStatus status(FuzzWorld world, Domain d, int port) {
        return d.state(EventChannels.KEY).status(d, world.dom0, port, new int[1]);
    }

    /** Every valid port's status of {@code d}, as dom0 sees it. */
    private static List<PortStatus> ports(Domain d) {
        EventChannels table = d.state(EventChannels.KEY);
        List<PortStatus> all = new ArrayList<>();
        for (int port = 0; table.isValid(port); port++) {
            all.add(table.state(port) == EventChannels.State.FREE ? null : table.status(d, d, port, new int[1]));
        }
        return all;
    }

    private static Map<Domain, List<PortStatus>> ports(FuzzWorld world, int except) {
        Map<Domain, List<PortStatus>> all = new HashMap<>();
        for (Domain d : world.domains()) {
            if (d != world.domain(except)) {
                all.put(d, ports(d));
            }
        }
        return all;
    }

    /** The pending ports of every domain but {@code except}. */
    private static Map<Domain, Set<Integer>> pending(FuzzWorld world, int except) {
        Map<Domain, Set<Integer>> all = new HashMap<>();
        for (Domain d : world.domains()) {
            if (d == world.domain(except)) {
                continue;
            }
            EventChannels table = d.state(EventChannels.KEY);
            Set<Integer> ports = new TreeSet<>();
            for (int port = 0; table.isValid(port); port++) {
                if (table.delivery().isPending(port)) {
                    ports.add(port);
                }
            }
            all.put(d, ports);
        }
        return all;
    }

    private static long offset(StructLayout struct, String member) {
        return AbiLayouts.offset(struct, member);
    }

    private static void put16(MemorySegment a, long at, short value) {
        a.set(ValueLayout.JAVA_SHORT_UNALIGNED, at, value);
    }

    private static void put32(MemorySegment a, long at, int value) {
        a.set(ValueLayout.JAVA_INT_UNALIGNED, at, value);
    }

    private static void put64(MemorySegment a, long at, long value) {
        a.set(ValueLayout.JAVA_LONG_UNALIGNED, at, value);
    }
}
