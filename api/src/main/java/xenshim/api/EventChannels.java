package xenshim.api;

import static xenshim.api.xen.XenErrno.XEN_EEXIST;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;
import static xenshim.api.xen.XenErrno.XEN_ENOSPC;
import static xenshim.api.xen.XenErrno.XEN_EPERM;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import xenshim.api.xen.XenDomains;
import xenshim.api.xen.XenEvtchn;

/**
 * One domain's event-channel table ({@code d->evtchn}, {@code d->event_lock}): the state of each port, the
 * vCPU it notifies, each vCPU's VIRQ bindings, and the {@link EventDelivery} that marks ports pending in the
 * domain's {@code shared_info}. Owned by the platform and found by {@link #KEY}, so the ports a guest bound
 * survive a swap of the {@code event_channel_op} handler.
 *
 * <p>One lock per table, as Xen's {@code d->event_lock} (QEMU's {@code xen_evtchn.c} has one per
 * subsystem); an operation on two domains (binding or closing an interdomain pair) takes both in the order
 * of their domain ids, as Xen's {@code evtchn_bind_interdomain} does, so two domains binding to each other
 * at once cannot deadlock. Sending takes one table's lock at a time.
 *
 * <p>Every operation answers as Xen 4.17's {@code event_channel.c} does: a port number or 0 on success,
 * else a negative Xen errno; nothing here trusts its arguments.
 *
 * <p>Port limit: the 2-level ABI's {@code d->max_evtchns} = {@code BITS_PER_EVTCHN_WORD(d)²}: 4096 for a
 * 64-bit {@code shared_info}, 1024 for a compat one. The width is latched once
 * ({@link #latchSharedInfoWidth}); until then the table is 64-bit, as a new Xen HVM domain is
 * ({@code has_32bit_shinfo} is 0 at creation). Ports are made valid in buckets of {@link #PORTS_PER_BUCKET}
 * as Xen allocates them ({@code port_is_valid}: a port beyond every bucket allocated so far is
 * {@code -EINVAL}, not closed).
 */
public final class EventChannels {

    /** Every domain's event channels. */
    public static final DomainKey<EventChannels> KEY = DomainKey.of("event channels", EventChannels::new);

    /**
     * {@code EVTCHNS_PER_BUCKET}: {@code PAGE_SIZE / next_power_of_2(sizeof(struct evtchn))}, 64 for an
     * x86-64 Xen 4.17 release build.
     */
    public static final int PORTS_PER_BUCKET = 64;

    /** A port's state: Xen's {@code ECS_*}. */
    public enum State { FREE, RESERVED, UNBOUND, INTERDOMAIN, PIRQ, VIRQ, IPI }

    /**
     * What {@code EVTCHNOP_status} reports of one port.
     *
     * @param state      the port's state
     * @param vcpu       the vCPU it notifies
     * @param remoteDom  the remote domain of an unbound or interdomain port, else 0
     * @param remotePort the remote port of an interdomain port, else 0
     * @param virq       the VIRQ of a VIRQ port, else 0
     */
    public record PortStatus(State state, int vcpu, int remoteDom, int remotePort, int virq) {

        /** The {@code EVTCHNSTAT_*} value. */
        public int evtchnStat() {
            return switch (state) {
                case FREE, RESERVED -> XenEvtchn.EVTCHNSTAT_closed;
                case UNBOUND -> XenEvtchn.EVTCHNSTAT_unbound;
                case INTERDOMAIN -> XenEvtchn.EVTCHNSTAT_interdomain;
                case PIRQ -> XenEvtchn.EVTCHNSTAT_pirq;
                case VIRQ -> XenEvtchn.EVTCHNSTAT_virq;
                case IPI -> XenEvtchn.EVTCHNSTAT_ipi;
            };
        }
    }

    private static final int NR = XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_64;

    private final ReentrantLock lock = new ReentrantLock();
    private final State[] state = new State[NR];
    private final int[] notifyVcpu = new int[NR];
    /** UNBOUND: the remote domid; VIRQ: the virq. */
    private final int[] info = new int[NR];
    /** INTERDOMAIN: the peer and its port. */
    private final Domain[] peer = new Domain[NR];
    private final int[] peerPort = new int[NR];
    /** {@code v->virq_to_evtchn[virq]} for each vCPU, 0 if unbound. */
    private final int[][] virqToPort = new int[ArrayEventWords.MAX_VCPUS][];

    private volatile int maxPorts = XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_64;
    private volatile boolean widthLatched;
    private int validPorts = PORTS_PER_BUCKET;
    private volatile int maxVcpus = 1;
    private volatile EventWords words = new ArrayEventWords();
    private volatile Upcall upcall = Upcall.NONE;
    private volatile EventDelivery delivery = new TwoLevelEvents(words, 64, upcall);

    /** A table with port 0 reserved, as {@code evtchn_init} leaves it. */
    public EventChannels() {
        Arrays.fill(state, State.FREE);
        state[0] = State.RESERVED;
    }

    // ---- what the platform binds ------------------------------------------------------------------------

    /**
     * Latches the domain's {@code shared_info} width, as Xen's {@code hvm_latch_shinfo_size} does at the
     * first operations a guest's PV drivers make: 32-bit for a compat guest, which limits the table to 1024
     * ports. The first latch wins; later ones change nothing.
     *
     * @return whether this call latched it
     */
    public boolean latchSharedInfoWidth(Abi abi) {
        if (widthLatched) {
            return false;
        }
        lock.lock();
        try {
            if (widthLatched) {
                return false;
            }
            widthLatched = true;
            maxPorts = abi == Abi.X86_64 ? XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_64
                    : XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_32;
            delivery = new TwoLevelEvents(words, bitsPerWord(), upcall);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** {@code d->max_evtchns}: 4096 or 1024. */
    public int maxPorts() {
        return maxPorts;
    }

    /** {@code BITS_PER_EVTCHN_WORD(d)}. */
    public int bitsPerWord() {
        return maxPorts == XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_64 ? 64 : 32;
    }

    /** {@code d->max_vcpus} (1 until the platform says more). */
    public void setMaxVcpus(int vcpus) {
        if (vcpus < 1 || vcpus > ArrayEventWords.MAX_VCPUS) {
            throw new IllegalArgumentException("vcpus: " + vcpus);
        }
        maxVcpus = vcpus;
    }

    public int maxVcpus() {
        return maxVcpus;
    }

    /**
     * Binds the words events are delivered into (the guest's mapped {@code shared_info} and vcpu_infos) and
     * the upcall that notifies a vCPU. Until then, events are recorded in an {@link ArrayEventWords} and
     * raise nothing.
     */
    public void bind(EventWords eventWords, Upcall vcpuUpcall) {
        lock.lock();
        try {
            words = Objects.requireNonNull(eventWords);
            upcall = Objects.requireNonNull(vcpuUpcall);
            delivery = new TwoLevelEvents(words, bitsPerWord(), upcall);
        } finally {
            lock.unlock();
        }
    }

    /** The words events are delivered into. */
    public EventWords words() {
        return words;
    }

    /** The port operations in use (2-level). */
    public EventDelivery delivery() {
        return delivery;
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    /** {@code port_is_valid}; call with the lock held. */
    private boolean valid(int port) {
        return port >= 0 && port < maxPorts && port < validPorts;
    }

    /** {@code get_free_port}: the lowest free port, allocating a bucket if needed, or -ENOSPC. */
    private int freePort() {
        int limit = maxPorts;
        for (int port = 0; port < limit; port++) {
            if (port >= validPorts) {
                validPorts = Math.min(NR, validPorts + PORTS_PER_BUCKET);
                return port;
            }
            if (state[port] == State.FREE) {
                return port;
            }
        }
        return -XEN_ENOSPC;
    }

    private void setState(int port, State s, int vcpu, int what) {
        state[port] = s;
        notifyVcpu[port] = vcpu;
        info[port] = what;
        peer[port] = null;
        peerPort[port] = 0;
    }

    /** {@code evtchn_free}. */
    private void free(int port) {
        delivery.clearPending(port);
        setState(port, State.FREE, 0, 0);
    }

    private static void lockBoth(EventChannels a, Domain da, EventChannels b, Domain db) {
        if (a == b) {
            a.lock.lock();
        } else if (da.domid() < db.domid()) {
            a.lock.lock();
            b.lock.lock();
        } else {
            b.lock.lock();
            a.lock.lock();
        }
    }

    private static void unlockBoth(EventChannels a, EventChannels b) {
        a.lock.unlock();
        if (a != b) {
            b.lock.unlock();
        }
    }

    /** XSM's dummy {@code XSM_TARGET}: the domain itself, or a control domain. */
    private static boolean target(Domain caller, Domain d) {
        return caller == d || caller.isPrivileged();
    }

    // ---- the operations -----------------------------------------------------------------------------------

    /**
     * {@code evtchn_alloc_unbound}: a port of {@code d} that {@code remoteDom} may bind to.
     * {@code DOMID_SELF} names the caller. -ENOSPC when the table is full; -EPERM ({@code XSM_TARGET}) when
     * the caller is neither {@code d} nor privileged, checked after a free port is found as in Xen.
     *
     * @return the port, or a negative errno
     */
    public int allocUnbound(Domain d, Domain caller, int remoteDom) {
        lock.lock();
        try {
            int port = freePort();
            if (port < 0) {
                return port;
            }
            if (!target(caller, d)) {
                return -XEN_EPERM;
            }
            setState(port, State.UNBOUND, 0, remoteDom == XenDomains.DOMID_SELF ? caller.domid() : remoteDom);
            return port;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code evtchn_bind_interdomain}: binds a new port of {@code local} to {@code remote}'s unbound
     * {@code remotePort}, which must be reserved for {@code local} (else -EINVAL), and marks the local port
     * pending (notifications sent to the unbound remote port were dropped).
     *
     * @return the local port, or a negative errno
     */
    public static int bindInterdomain(Domain local, Domain remote, int remotePort) {
        EventChannels l = local.state(KEY);
        EventChannels r = remote.state(KEY);
        int lport;
        boolean raised;
        lockBoth(l, local, r, remote);
        try {
            lport = l.freePort();
            if (lport < 0) {
                return lport;
            }
            if (!r.valid(remotePort) || r.state[remotePort] != State.UNBOUND
                    || r.info[remotePort] != local.domid()) {
                return -XEN_EINVAL;
            }
            // xsm_evtchn_interdomain(XSM_HOOK): allowed.
            l.setState(lport, State.INTERDOMAIN, 0, 0);
            l.peer[lport] = remote;
            l.peerPort[lport] = remotePort;
            r.state[remotePort] = State.INTERDOMAIN;
            r.info[remotePort] = 0;
            r.peer[remotePort] = local;
            r.peerPort[remotePort] = lport;
            raised = l.delivery.setPending(l.notifyVcpu[lport], lport);
        } finally {
            unlockBoth(l, r);
        }
        l.consumeIf(raised, lport);
        return lport;
    }

    /**
     * {@code evtchn_bind_virq}: -EINVAL for a virq out of range or a global one on a vCPU other than 0,
     * -ENOENT for a vCPU the domain lacks, -EEXIST if the vCPU has it bound already.
     */
    public int bindVirq(int virq, int vcpu) {
        if (virq < 0 || virq >= XenEvtchn.NR_VIRQS) {
            return -XEN_EINVAL;
        }
        if (XenEvtchn.virqIsGlobal(virq) && vcpu != 0) {
            return -XEN_EINVAL;
        }
        if (vcpu < 0 || vcpu >= maxVcpus) {
            return -XEN_ENOENT;
        }
        lock.lock();
        try {
            int[] virqs = virqToPort[vcpu];
            if (virqs == null) {
                virqs = virqToPort[vcpu] = new int[XenEvtchn.NR_VIRQS];
            }
            if (virqs[virq] != 0) {
                return -XEN_EEXIST;
            }
            int port = freePort();
            if (port < 0) {
                return port;
            }
            setState(port, State.VIRQ, vcpu, virq);
            virqs[virq] = port;
            return port;
        } finally {
            lock.unlock();
        }
    }

    /** {@code evtchn_bind_ipi}: -ENOENT for a vCPU the domain lacks. */
    public int bindIpi(int vcpu) {
        if (vcpu < 0 || vcpu >= maxVcpus) {
            return -XEN_ENOENT;
        }
        lock.lock();
        try {
            int port = freePort();
            if (port < 0) {
                return port;
            }
            setState(port, State.IPI, vcpu, 0);
            return port;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code evtchn_close}: -EINVAL for a port that is invalid, free or reserved. Closing one end of an
     * interdomain pair leaves the other end unbound, reserved for this domain again.
     */
    public static int close(Domain d1, int port) {
        EventChannels t1 = d1.state(KEY);
        Domain d2 = null;
        EventChannels t2 = null;
        while (true) {
            if (t2 == null) {
                t1.lock.lock();
            } else {
                lockBoth(t1, d1, t2, d2);
            }
            try {
                if (!t1.valid(port)) {
                    return -XEN_EINVAL;
                }
                switch (t1.state[port]) {
                    case FREE, RESERVED -> {
                        return -XEN_EINVAL;
                    }
                    case VIRQ -> {
                        int virq = t1.info[port];
                        for (int[] virqs : t1.virqToPort) {
                            if (virqs != null && virqs[virq] == port) {
                                virqs[virq] = 0;
                            }
                        }
                    }
                    case INTERDOMAIN -> {
                        Domain other = t1.peer[port];
                        if (t2 == null) {
                            d2 = other;
                            t2 = other.state(KEY);
                            continue; // unlock, then lock both in order and look again
                        }
                        if (other != d2) {
                            return -XEN_EINVAL; // closed and re-bound meanwhile, as Xen answers
                        }
                        int port2 = t1.peerPort[port];
                        t2.setState(port2, State.UNBOUND, t2.notifyVcpu[port2], d1.domid());
                    }
                    default -> {
                        // UNBOUND, IPI, PIRQ: nothing else to undo
                    }
                }
                t1.free(port);
                return 0;
            } finally {
                if (t2 == null || !t2.lock.isHeldByCurrentThread()) {
                    t1.lock.unlock();
                } else {
                    unlockBoth(t1, t2);
                }
            }
        }
    }

    /**
     * {@code evtchn_send}: an interdomain port marks the peer's port pending, an IPI port itself; an unbound
     * port drops the notification (0); any other state, or an invalid port, is -EINVAL.
     */
    public static int send(Domain local, int port) {
        EventChannels l = local.state(KEY);
        Domain remote;
        int rport;
        boolean raised;
        l.lock.lock();
        try {
            if (!l.valid(port)) {
                return -XEN_EINVAL;
            }
            switch (l.state[port]) {
                case IPI -> {
                    raised = l.delivery.setPending(l.notifyVcpu[port], port);
                    remote = null;
                    rport = 0;
                }
                case UNBOUND -> {
                    return 0;
                }
                case INTERDOMAIN -> {
                    raised = false;
                    remote = l.peer[port];
                    rport = l.peerPort[port];
                }
                default -> {
                    return -XEN_EINVAL;
                }
            }
        } finally {
            l.lock.unlock();
        }
        if (remote == null) {
            l.consumeIf(raised, port);
            return 0;
        }
        // One lock at a time: if the pair was closed in between, the close came first and the event is
        // dropped as it would be on an unbound port.
        EventChannels r = remote.state(KEY);
        r.lock.lock();
        try {
            if (r.state[rport] == State.INTERDOMAIN && r.peer[rport] == local && r.peerPort[rport] == port) {
                raised = r.delivery.setPending(r.notifyVcpu[rport], rport);
            }
        } finally {
            r.lock.unlock();
        }
        r.consumeIf(raised, rport);
        return 0;
    }

    /** {@link Upcall#consume} of a port that became pending, once the caller holds no event-channel lock. */
    private void consumeIf(boolean raised, int port) {
        if (raised) {
            upcall.consume(port);
        }
    }

    /**
     * {@code evtchn_status} of {@code d}'s port as {@code caller} asks: -EINVAL for an invalid port, then
     * -EPERM ({@code XSM_TARGET}) for a caller that is neither {@code d} nor privileged.
     *
     * @return the status, or null with {@code errno[0]} set
     */
    public PortStatus status(Domain d, Domain caller, int port, int[] errno) {
        lock.lock();
        try {
            if (!valid(port)) {
                errno[0] = -XEN_EINVAL;
                return null;
            }
            if (!target(caller, d)) {
                errno[0] = -XEN_EPERM;
                return null;
            }
            State s = state[port];
            return new PortStatus(s, notifyVcpu[port],
                    s == State.UNBOUND ? info[port] : s == State.INTERDOMAIN ? peer[port].domid() : 0,
                    s == State.INTERDOMAIN ? peerPort[port] : 0, s == State.VIRQ ? info[port] : 0);
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code evtchn_bind_vcpu}: -ENOENT for a vCPU the domain lacks, -EINVAL for an invalid port or one
     * that cannot move (a per-vCPU VIRQ, an IPI, a free or reserved port).
     */
    public int bindVcpu(int port, int vcpu) {
        if (vcpu < 0 || vcpu >= maxVcpus) {
            return -XEN_ENOENT;
        }
        lock.lock();
        try {
            if (!valid(port)) {
                return -XEN_EINVAL;
            }
            switch (state[port]) {
                case VIRQ -> {
                    if (!XenEvtchn.virqIsGlobal(info[port])) {
                        return -XEN_EINVAL;
                    }
                    notifyVcpu[port] = vcpu;
                }
                case UNBOUND, INTERDOMAIN -> notifyVcpu[port] = vcpu;
                default -> {
                    return -XEN_EINVAL;
                }
            }
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** {@code evtchn_unmask}: -EINVAL for an invalid port; else unmasks it, re-delivering a pending one. */
    public int unmask(int port) {
        lock.lock();
        try {
            if (!valid(port)) {
                return -XEN_EINVAL;
            }
            delivery.unmask(notifyVcpu[port], port);
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code evtchn_reset}: closes every port of {@code d} (interdomain peers become unbound); -EINVAL when
     * the caller is another domain and {@code d} is not paused by its controller — xenshim pauses no domain,
     * so only a domain's own reset succeeds. Port 0 stays reserved.
     */
    public static int reset(Domain d, Domain caller) {
        if (d != caller) {
            return -XEN_EINVAL;
        }
        destroy(d);
        return 0;
    }

    /**
     * {@code send_guest_vcpu_virq} for a per-vCPU VIRQ, {@code send_guest_global_virq} (vCPU 0's binding,
     * delivered to the vCPU the port notifies) for a global one: marks the bound port pending; nothing if
     * the VIRQ is not bound.
     */
    public void sendVirq(int vcpu, int virq) {
        if (virq < 0 || virq >= XenEvtchn.NR_VIRQS) {
            throw new IllegalArgumentException("virq " + virq);
        }
        int bindingVcpu = XenEvtchn.virqIsGlobal(virq) ? 0 : vcpu;
        int port;
        boolean raised = false;
        lock.lock();
        try {
            int[] virqs = bindingVcpu >= 0 && bindingVcpu < virqToPort.length ? virqToPort[bindingVcpu] : null;
            port = virqs == null ? 0 : virqs[virq];
            if (port != 0) {
                raised = delivery.setPending(notifyVcpu[port], port);
            }
        } finally {
            lock.unlock();
        }
        consumeIf(raised, port);
    }

    /**
     * {@code hvm_assert_evtchn_irq}: raises {@code vcpu}'s upcall again if {@code evtchn_upcall_pending} is
     * set, as Xen does when the guest installs its upcall vector.
     */
    public void assertUpcall(int vcpu) {
        lock.lock();
        try {
            if (words.upcallPending(vcpu)) {
                upcall.raise(vcpu);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code evtchn_destroy}: the domain is going away; closes every port, so the peer of each interdomain
     * pair sees its end unbound, reserved for this (dead) domain, as Xen leaves it.
     */
    public static void destroy(Domain d) {
        EventChannels t = d.state(KEY);
        int ports;
        t.lock.lock();
        try {
            ports = Math.min(t.validPorts, t.maxPorts);
        } finally {
            t.lock.unlock();
        }
        for (int port = 1; port < ports; port++) {
            close(d, port);
        }
    }

    /** {@code port_is_valid(d, port)}. */
    public boolean isValid(int port) {
        lock.lock();
        try {
            return valid(port);
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code evtchn_port_poll}, what {@code SCHEDOP_poll} asks of each port: -EINVAL for a port that is not
     * valid ({@code port_is_valid}: beyond {@code d->max_evtchns} or the buckets allocated so far), else 1 if
     * it is pending and 0 if not, whatever its state (a free or reserved port is usable and never pending).
     */
    public int poll(int port) {
        lock.lock();
        try {
            if (!valid(port)) {
                return -XEN_EINVAL;
            }
            return delivery.isPending(port) ? 1 : 0;
        } finally {
            lock.unlock();
        }
    }

    /** A port's state, for tests and diagnostics. */
    public State state(int port) {
        lock.lock();
        try {
            return port >= 0 && port < NR ? state[port] : State.FREE;
        } finally {
            lock.unlock();
        }
    }
}
