package xenshim.x86;

import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.UUID;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.DomainType;
import xenshim.api.GuestConsole;
import xenshim.api.VcpuTimers;
import xenshim.api.XenClock;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.Discovery;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.LocalEvents;
import xenshim.dispatcher.PlatformServices;
import xenshim.dispatcher.PluginLayer;
import xenshim.x86.dom0.GuestBackends;
import xenshim.x86.time.PlatformTime;
import xenshim.xenstore.Xenstored;

/**
 * The platform's services as handlers see them — the emulated Xen's version,
 * the guest console, the domains — and the tables built over them: the
 * built-in handlers of the boot layer, optionally with a folder of plugin
 * jars layered over them.
 */
public final class Platform {

    private final XenVersionInfo version;
    private final GuestConsole console;
    private final DomainRegistry domains = new DomainRegistry();
    private final PlatformTime time;

    private final Domain dom0 = Domain.localDom0();
    private final LocalEvents dom0Events;
    private final Xenstored xenstore = new Xenstored();

    /** A platform whose registry holds its one in-process dom0, on the process's platform time. */
    public Platform(XenVersionInfo version, GuestConsole console) {
        this(version, console, PlatformTime.shared());
    }

    /**
     * A platform on a clock and timers of its own: one that tells a recording what each call read
     * ({@code run --record}), or a replay's pinned clock. dom0 has the vCPU timers every domain has on Xen,
     * on that clock, so that a backend's {@code set_timer_op} or {@code VCPUOP_set_singleshot_timer} arms
     * one (its {@code VIRQ_TIMER} comes as an event to {@link #dom0Events()}) rather than failing for want
     * of them.
     */
    public Platform(XenVersionInfo version, GuestConsole console, PlatformTime time) {
        this.version = version;
        this.console = console;
        this.time = java.util.Objects.requireNonNull(time);
        dom0.attach(VcpuTimers.KEY, new VcpuTimers(dom0, time.clock(), time));
        domains.add(dom0);
        dom0Events = LocalEvents.bind(dom0);
    }

    /** The in-process dom0: every backend calls as this domain. */
    public Domain dom0() {
        return dom0;
    }

    /** dom0's events, for backends that wait for their ports. */
    public LocalEvents dom0Events() {
        return dom0Events;
    }

    /** The platform's xenstored: every guest's store ring, dom0's client, the socket for Xen's tools. */
    public Xenstored xenstore() {
        return xenstore;
    }

    /** What dom0's backends need, calling through {@code page}. */
    public GuestBackends.Dom0 dom0Side(HypercallPage page) {
        return new GuestBackends.Dom0(page, dom0, dom0Events, xenstore, console);
    }

    /**
     * A new guest domain with the platform's timers, in the registry.
     *
     * @throws IllegalStateException if the id is taken
     */
    public Domain newGuest(int domid) {
        return newGuest(domid, UUID.randomUUID());
    }

    /**
     * A new guest domain with the given toolstack handle ({@code xen_domain_handle_t}), as
     * {@link #newGuest(int)} makes one: for a replay, whose domains are the recorded ones.
     *
     * @throws IllegalStateException if the id is taken
     */
    public Domain newGuest(int domid, UUID handle) {
        Domain domain = new Domain(domid, false, DomainType.HVM, handle);
        domain.attach(VcpuTimers.KEY, new VcpuTimers(domain, time.clock(), time));
        domains.add(domain);
        return domain;
    }

    public XenVersionInfo version() {
        return version;
    }

    public GuestConsole console() {
        return console;
    }

    public DomainRegistry domains() {
        return domains;
    }

    /** Xen's clock and the timers every domain's timer state runs on. */
    public PlatformTime time() {
        return time;
    }

    /** The services bound in every table's injector. */
    public PlatformServices services() {
        return PlatformServices.builder()
                .bind(XenVersionInfo.class, version)
                .bind(GuestConsole.class, console)
                .bind(DomainDirectory.class, domains)
                .bind(XenClock.class, time.clock())
                .build();
    }

    /**
     * The table of the boot layer's handlers, or of a plugins folder layered
     * over it (plugins and built-ins together; {@code winners} settles slots
     * both fill).
     */
    public HypercallTable table(Path plugins, Map<Integer, String> winners) {
        ModuleLayer layer = plugins == null ? ModuleLayer.boot() : PluginLayer.load(plugins);
        Discovery discovery = Discovery.in(layer).services(services());
        winners.forEach(discovery::prefer);
        return discovery.build(plugins == null ? "built-in" : "built-in+" + plugins.getFileName());
    }

    /**
     * The table of some of the boot layer's handler modules only: a reduced shim, as
     * {@code xenshim swap --builtin xenshim.handlers.version,...} installs.
     *
     * @throws xenshim.dispatcher.TableBuildException naming a module that is not a built-in handler module
     */
    public HypercallTable builtinTable(Collection<String> modules) {
        return Discovery.inBootLayer().only(modules).services(services())
                .build("built-in:" + String.join(",", modules));
    }
}
