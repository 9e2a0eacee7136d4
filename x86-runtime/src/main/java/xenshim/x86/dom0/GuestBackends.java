package xenshim.x86.dom0;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Domain;
import xenshim.api.GrantMappings;
import xenshim.api.GrantTable;
import xenshim.api.GuestConsole;
import xenshim.api.xen.XenGnttab;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.LocalEvents;
import xenshim.x86.boot.PvhLoader;
import xenshim.xenstore.DomainNodes;
import xenshim.xenstore.RingConnection;
import xenshim.xenstore.XsException;
import xenshim.xenstore.Xenstored;

/**
 * What dom0 does for one guest before it boots and serves while it runs, as Xen's toolstack,
 * xenconsoled and xenstored do:
 * <ol>
 * <li>the console and store channels and ring pages, published in {@code HVM_PARAM_CONSOLE_*} and
 *     {@code HVM_PARAM_STORE_*};</li>
 * <li>grant entries 0 and 1 ({@code GNTTAB_RESERVED_CONSOLE}, {@code GNTTAB_RESERVED_XENSTORE}) seeded for
 *     dom0, which maps both pages by those refs ({@code GNTTABOP_map_grant_ref}, as the daemons map them
 *     with {@code xengnttab});</li>
 * <li>the PV console served ({@link ConsoleBackend});</li>
 * <li>the guest's xenstore nodes written, and its ring introduced to the store;</li>
 * <li>dom0's echo backend ({@code data/echo/port}) and the demo's backend ({@code data/pv-demo}).</li>
 * </ol>
 * {@link #close()} undoes it all, as the toolstack reaps a domain.
 */
public final class GuestBackends implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GuestBackends.class);

    /** dom0's side of the platform: where the backends make their calls and print. */
    public record Dom0(HypercallPage page, Domain domain, LocalEvents events, Xenstored xenstore,
                       GuestConsole console) {
        public Dom0 {
            Objects.requireNonNull(page);
            Objects.requireNonNull(domain);
            Objects.requireNonNull(events);
            Objects.requireNonNull(xenstore);
            Objects.requireNonNull(console);
        }
    }

    private final Dom0 dom0;
    private final Domain guest;
    private final Toolstack toolstack;
    private final Dom0Calls calls;
    private final List<AutoCloseable> running = new ArrayList<>();
    private final List<Dom0Calls.GrantMap> maps = new ArrayList<>();
    private Toolstack.GuestChannels channels;
    private ConsoleBackend console;
    private EchoBackend echo;
    private boolean introduced;
    private boolean closed;

    private GuestBackends(Dom0 dom0, Domain guest) {
        this.dom0 = dom0;
        this.guest = guest;
        this.toolstack = new Toolstack(dom0.page(), dom0.domain());
        this.calls = new Dom0Calls(dom0.page(), dom0.domain());
    }

    /**
     * Builds and starts everything dom0 does for {@code guest}, whose machine exists (its memory and grant
     * table are attached) and has not run yet. On a failure, what was done is undone and the failure thrown.
     *
     * @param name        the guest's name in xenstore
     * @param memoryBytes its RAM, for {@code memory/target}
     * @param echoMode    how the echo backend answers
     */
    public static GuestBackends start(Dom0 dom0, Domain guest, String name, long memoryBytes,
                                      EchoBackend.Mode echoMode) {
        GuestBackends backends = new GuestBackends(dom0, guest);
        try {
            backends.build(name, memoryBytes, echoMode);
            return backends;
        } catch (RuntimeException | Error e) {
            backends.close();
            throw e;
        }
    }

    private void build(String name, long memoryBytes, EchoBackend.Mode echoMode) {
        int domid = guest.domid();
        long consolePfn = PvhLoader.CONSOLE_PAGE >>> 12;
        long storePfn = PvhLoader.STORE_PAGE >>> 12;
        channels = toolstack.createChannels(guest);
        toolstack.publishRingPages(guest, consolePfn, storePfn);
        GrantTable grants = guest.state(GrantTable.KEY);
        grants.writeEntry(XenGnttab.GNTTAB_RESERVED_CONSOLE, XenGnttab.GTF_permit_access, dom0.domain().domid(),
                consolePfn);
        grants.writeEntry(XenGnttab.GNTTAB_RESERVED_XENSTORE, XenGnttab.GTF_permit_access, dom0.domain().domid(),
                storePfn);

        PortNotifier consoleNotify = started(new PortNotifier(dom0.page(), dom0.domain(), channels.dom0Console()));
        console = new ConsoleBackend(guest, mapReserved(XenGnttab.GNTTAB_RESERVED_CONSOLE), consoleNotify,
                dom0.console());
        serve(channels.dom0Console(), console::kick, false); // drains and prints: on a thread of its own

        DomainNodes nodes = new DomainNodes(dom0.xenstore());
        nodes.create(new DomainNodes.Guest(domid, name, guest.handle(), memoryBytes >>> 10, storePfn,
                channels.store(), consolePfn, channels.console()));
        PortNotifier storeNotify = started(new PortNotifier(dom0.page(), dom0.domain(), channels.dom0Store()));
        RingConnection ring = nodes.introduce(domid, mapReserved(XenGnttab.GNTTAB_RESERVED_XENSTORE), storeNotify);
        introduced = true;
        // a round on the guest's own thread, which pays for its requests (see serveHere); bounded, never waits
        serve(channels.dom0Store(), ring::serveHere, true);

        echo = started(new EchoBackend(dom0.page(), dom0.domain(), dom0.events(), guest, dom0.xenstore(), echoMode))
                .start();
        started(new PvDemoBackend(dom0.page(), dom0.domain(), guest, dom0.xenstore(), dom0.console())).start();
    }

    /**
     * Runs {@code kick} for each event on dom0's {@code port}: {@code inline}, on the sender's thread
     * inside its send (once it let go of the event locks), for a kick that is bounded and never waits
     * (the store ring's); else on a virtual thread per event. The event the bind left pending (Xen marks
     * the binder's end) is taken first: a port left pending would hide every later event.
     */
    private void serve(int port, Runnable kick, boolean inline) {
        if (inline) {
            dom0.events().listenInline(port, p -> kick.run());
        } else {
            dom0.events().listen(port, p -> kick.run());
        }
        dom0.events().poll(port);
        kick.run();
    }

    private <T extends AutoCloseable> T started(T backend) {
        running.add(backend);
        return backend;
    }

    /** Maps one of the guest's reserved grants into dom0: the page itself. */
    private java.lang.foreign.MemorySegment mapReserved(int ref) {
        Dom0Calls.GrantMap map = calls.mapGrant(guest.domid(), ref, false);
        if (!map.ok()) {
            throw new IllegalStateException("dom0 could not map d" + guest.domid() + "'s reserved grant " + ref
                    + ": " + XenGnttab.statusName(map.status()));
        }
        maps.add(map);
        return dom0.domain().state(GrantMappings.KEY).segment(map.handle());
    }

    /** The guest's PV console, for input typed to it. */
    public ConsoleBackend console() {
        return console;
    }

    /** The guest's echo backend. */
    public EchoBackend echo() {
        return echo;
    }

    /** The guest's channels. */
    public Toolstack.GuestChannels channels() {
        return channels;
    }

    /**
     * Stops every backend, releases the guest from xenstore (its nodes go), unmaps its pages from dom0
     * and closes dom0's ends of its channels. Each step is done even if one before it fails. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (channels != null) {
            dom0.events().listen(channels.dom0Console(), null);
            dom0.events().listenInline(channels.dom0Store(), null);
        }
        for (AutoCloseable backend : running.reversed()) {
            try {
                backend.close();
            } catch (Exception e) {
                LOG.warn("closing a backend of {} failed", guest, e);
            }
        }
        running.clear();
        if (introduced) {
            introduced = false;
            try {
                new DomainNodes(dom0.xenstore()).release(guest.domid());
            } catch (XsException e) {
                LOG.warn("releasing {} from xenstore failed", guest, e);
            }
        }
        for (Dom0Calls.GrantMap map : maps) {
            int status = calls.unmapGrant(map);
            if (status != XenGnttab.GNTST_okay) {
                LOG.warn("unmapping {}'s page from dom0 failed: {}", guest, XenGnttab.statusName(status));
            }
        }
        maps.clear();
        if (channels != null) {
            toolstack.closeChannels(channels);
        }
        calls.close();
        toolstack.close();
    }
}
