package xenshim.x86;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Domain;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.boot.ElfImage;
import xenshim.x86.dom0.EchoBackend;
import xenshim.x86.dom0.GuestBackends;
import xenshim.x86.dom0.Toolstack;
import xenshim.x86.vm.HypercallTracer;
import xenshim.x86.vm.Machine;
import xenshim.x86.vm.Outcome;

/**
 * Several guests booted together on one platform, as {@code xenshim run a.elf b.elf} does: each its own
 * domain (ids from {@code firstDomid} up), memory and vCPU threads, with what dom0 does for each guest
 * ({@link GuestBackends}: console and store channels and rings, xenstore nodes, the PV console, the
 * echo and demo backends), and, for each pair of guests (first and second, third and fourth, ...), a port of the first reserved
 * for the second, passed on their command lines as {@code peer=DOMID:PORT:wait} (the owner) and
 * {@code peer=DOMID:PORT:bind} (the one that binds it). A guest that ends is removed: its ports close,
 * so its peers' ends become unbound, as in Xen.
 */
public final class GuestGroup implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GuestGroup.class);

    /** One guest to boot: a name for messages, its kernel and command line. */
    public record Guest(String name, ElfImage image, String cmdline) {
        public Guest {
            Objects.requireNonNull(name);
            Objects.requireNonNull(image);
            Objects.requireNonNull(cmdline);
        }
    }

    /**
     * How each guest is built.
     *
     * @param callLimit how long a hypercall may stay in its handler before its domain is stopped
     *                  ({@link Machine#limitCalls}); zero for no limit
     */
    public record Settings(long memoryBytes, Duration timeout, int firstDomid, HypercallTracer tracer,
                           Machine.AcceleratorFactory accelerators, Duration callLimit) {

        /** With the default call limit, {@link Machine#DEFAULT_CALL_LIMIT}. */
        public Settings(long memoryBytes, Duration timeout, int firstDomid, HypercallTracer tracer,
                        Machine.AcceleratorFactory accelerators) {
            this(memoryBytes, timeout, firstDomid, tracer, accelerators, Machine.DEFAULT_CALL_LIMIT);
        }
    }

    private final Platform platform;
    private final HypercallPage page;
    private final List<Domain> domains = new ArrayList<>();
    private final List<Machine> machines = new ArrayList<>();
    private final List<GuestBackends> backends = new ArrayList<>();
    private int ended;
    private Runnable atLastEnd = () -> { };

    private GuestGroup(Platform platform, HypercallPage page) {
        this.platform = platform;
        this.page = page;
    }

    /**
     * Builds every guest's domain, channels and machine; nothing runs yet. On a failure, what was built
     * is closed and the failure thrown.
     */
    public static GuestGroup create(Platform platform, HypercallPage page, List<Guest> guests, Settings settings) {
        GuestGroup group = new GuestGroup(platform, page);
        try {
            group.build(guests, settings);
            return group;
        } catch (RuntimeException | Error e) {
            try {
                group.close();
            } catch (RuntimeException | InterruptedException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    private void build(List<Guest> guests, Settings settings) {
        if (guests.isEmpty()) {
            throw new IllegalArgumentException("no guest to boot");
        }
        for (int i = 0; i < guests.size(); i++) {
            domains.add(platform.newGuest(settings.firstDomid() + i));
        }
        try (Toolstack toolstack = new Toolstack(page, platform.dom0())) {
            String[] cmdlines = guests.stream().map(Guest::cmdline).toArray(String[]::new);
            for (int i = 0; i + 1 < guests.size(); i += 2) {
                Domain owner = domains.get(i);
                Domain binder = domains.get(i + 1);
                int port = toolstack.reservePort(owner, binder);
                cmdlines[i] = join(cmdlines[i], "peer=" + binder.domid() + ":" + port + ":wait");
                cmdlines[i + 1] = join(cmdlines[i + 1], "peer=" + owner.domid() + ":" + port + ":bind");
            }
            for (int i = 0; i < guests.size(); i++) {
                Domain domain = domains.get(i);
                Machine machine = Machine.create(new Machine.Config(settings.memoryBytes(), cmdlines[i],
                                settings.timeout(), domain.domid(), platform.version()), guests.get(i).image(),
                        domain, page, platform.console(), settings.tracer(), settings.accelerators());
                machine.limitCalls(settings.callLimit());
                machines.add(machine);
                backends.add(GuestBackends.start(platform.dom0Side(page), domain, storeName(guests.get(i).name()),
                        settings.memoryBytes(), EchoBackend.Mode.INLINE));
            }
        }
    }

    /** A guest's name in xenstore: its bundled name, or its file's name without the directory and {@code .elf}. */
    private static String storeName(String name) {
        String file = name.substring(name.lastIndexOf('/') + 1);
        return file.endsWith(".elf") && file.length() > 4 ? file.substring(0, file.length() - 4) : file;
    }

    private static String join(String cmdline, String word) {
        return cmdline.isBlank() ? word : cmdline + " " + word;
    }

    public List<Machine> machines() {
        return List.copyOf(machines);
    }

    /** What dom0 runs for each guest (channels, console, store ring, echo), in guest order. */
    public List<GuestBackends> backends() {
        return List.copyOf(backends);
    }

    /**
     * Runs every guest until each ends; a guest that ends is closed and removed at once, while the
     * others go on.
     *
     * @return each guest's outcome, in guest order
     */
    public List<Outcome> run() throws InterruptedException {
        List<CompletableFuture<Outcome>> runs = new ArrayList<>();
        for (int i = 0; i < machines.size(); i++) {
            Machine machine = machines.get(i);
            CompletableFuture<Outcome> done = new CompletableFuture<>();
            runs.add(done);
            int index = i;
            Thread.ofPlatform().name("run-d" + machine.domain().domid()).start(() -> {
                // the guest is reaped before its outcome is told, so run() returns with every guest gone
                Outcome outcome = null;
                Throwable failed = null;
                try {
                    outcome = machine.run();
                } catch (InterruptedException e) {
                    outcome = new Outcome.Interrupted();
                } catch (RuntimeException | Error e) {
                    failed = e;
                } finally {
                    try {
                        end(index);
                    } finally {
                        if (failed != null) {
                            done.completeExceptionally(failed);
                        } else {
                            done.complete(outcome);
                        }
                    }
                }
            });
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (CompletableFuture<Outcome> run : runs) {
            try {
                outcomes.add(run.get());
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("a guest's run failed", e.getCause());
            }
        }
        return outcomes;
    }

    /**
     * Runs {@code hook} when the last guest has ended, before dom0 reaps it (while its xenstore nodes are
     * still there): for {@code --xenstore-dump}.
     */
    public synchronized void atLastEnd(Runnable hook) {
        atLastEnd = Objects.requireNonNull(hook);
    }

    /** Ends every guest with {@code why}; any thread. */
    public void stop(Outcome why) {
        machines.forEach(machine -> machine.stop(why));
    }

    /**
     * Guest {@code index} ended: dom0's backends for it stop (its pages unmapped, its xenstore nodes and
     * dom0's ends of its channels gone), its machine closes (its ports with it), it leaves the registry.
     */
    private synchronized void end(int index) {
        if (++ended == machines.size()) {
            try {
                atLastEnd.run();
            } catch (RuntimeException e) {
                LOG.warn("the end-of-run hook failed", e);
            }
        }
        if (index < backends.size()) {
            backends.get(index).close();
        }
        try {
            machines.get(index).close();
        } catch (RuntimeException e) {
            LOG.warn("closing {} failed", machines.get(index).domain(), e);
        }
        platform.domains().remove(domains.get(index));
    }

    @Override
    public synchronized void close() throws InterruptedException {
        for (GuestBackends backend : backends) {
            backend.close();
        }
        for (Machine machine : machines) {
            machine.close();
        }
        domains.forEach(platform.domains()::remove);
    }
}
