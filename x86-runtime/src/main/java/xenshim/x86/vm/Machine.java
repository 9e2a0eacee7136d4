package xenshim.x86.vm;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Domain;
import xenshim.api.ForeignFrames;
import xenshim.api.GrantTable;
import xenshim.api.GuestConsole;
import xenshim.api.PhysMap;
import xenshim.api.ShutdownState;
import xenshim.api.VcpuTimers;
import xenshim.api.XenClock;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.boot.ElfImage;
import xenshim.x86.boot.PvhLoader;
import xenshim.x86.cpu.Accelerator;
import xenshim.x86.cpu.VirtualCpu;
import xenshim.x86.kvm.GuestRam;
import xenshim.x86.kvm.KvmAccelerator;
import xenshim.x86.memory.GuestPhysMemory;
import xenshim.x86.time.PlatformTime;

/**
 * One Xen HVM/PVH domain on a CPU backend ({@link Accelerator}; KVM unless
 * told otherwise): its guest memory, its vCPUs and their threads. Built from a guest ELF, it boots the guest at its PVH entry
 * and runs until the guest shuts down, faults, or is stopped; {@link #run}
 * returns how it ended.
 */
public final class Machine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Machine.class);

    /**
     * @param memoryBytes guest RAM
     * @param cmdline     the guest's command line (hvm_start_info)
     * @param timeout     stop the guest after this long; zero for no limit
     * @param domid       the domain id the guest sees
     */
    public record Config(long memoryBytes, String cmdline, Duration timeout, int domid, XenVersionInfo version) {
        public Config {
            Objects.requireNonNull(cmdline);
            Objects.requireNonNull(timeout);
            Objects.requireNonNull(version);
        }
    }

    /** How long a handler may run before {@link #limitCalls the watchdog} stops the domain, by default. */
    public static final Duration DEFAULT_CALL_LIMIT = Duration.ofSeconds(10);
    /** How often {@link #run} looks at the vCPUs' handlers. */
    private static final long WATCH_MILLIS = 100;

    private final Config config;
    private volatile long callLimitNanos = DEFAULT_CALL_LIMIT.toNanos();
    private final Accelerator accelerator;
    private final GuestRam ram;
    private final GuestPhysMemory phys;
    private final Domain domain;
    private final XenClock clock;
    private final SharedInfoPage sharedInfo;
    private final List<Vcpu> vcpus = new ArrayList<>();
    /** The vCPU threads {@link #run} started, in the order of {@link #vcpus}; read by {@link #close}. */
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final AtomicReference<Outcome> outcome = new AtomicReference<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Guards {@link #closed}: no kick reaches a vCPU once close() began unmapping. */
    private final Object lifecycle = new Object();
    private boolean closed;
    /** Stops the machine when the domain shuts down; removed by {@link #close}. */
    private ShutdownState.Registration shutdownListener;

    private Machine(Config config, Accelerator accelerator, GuestRam ram, GuestPhysMemory phys, Domain domain,
                    XenClock clock) {
        this.config = config;
        this.accelerator = accelerator;
        this.ram = ram;
        this.phys = phys;
        this.domain = domain;
        this.clock = clock;
        this.sharedInfo = DomainWiring.sharedInfo(domain, phys, clock);
    }

    /**
     * Creates the machine on KVM and loads {@code image}.
     *
     * @throws xenshim.x86.kvm.KvmException if KVM is missing or refuses
     * @see #create(Config, ElfImage, Domain, HypercallPage, GuestConsole, HypercallTracer, AcceleratorFactory)
     */
    public static Machine create(Config config, ElfImage image, Domain domain, HypercallPage page,
                                 GuestConsole console, HypercallTracer tracer) {
        return create(config, image, domain, page, console, tracer, KvmAccelerator::open);
    }

    /** Opens a CPU backend whose CPUs trap accesses to MSR {@code hypercallMsr} to the VMM. */
    @FunctionalInterface
    public interface AcceleratorFactory {
        Accelerator open(int hypercallMsr);
    }

    /**
     * Creates the machine on the backend {@code accelerators} opens, and loads {@code image}.
     *
     * @param domain  the domain the guest runs as; its {@link PhysMap}, {@link ForeignFrames} and
     *                {@link GrantTable} (over the memory's hypervisor pages) are attached here
     * @param tracer  null for no trace
     * @throws RuntimeException the backend's own, if it is missing or refuses
     * @throws xenshim.x86.boot.BadGuestImageException if the image does not fit
     */
    public static Machine create(Config config, ElfImage image, Domain domain, HypercallPage page,
                                 GuestConsole console, HypercallTracer tracer, AcceleratorFactory accelerators) {
        long hostBytes = config.memoryBytes() + GuestPhysMemory.HYPERVISOR_PAGES * GuestPhysMemory.PAGE_SIZE;
        var map = PvhLoader.memoryMap(config.memoryBytes());
        GuestRam ram = GuestRam.allocate(hostBytes);
        Accelerator accelerator = null;
        Machine machine = null;
        try {
            // the image first: a guest that does not fit is reported as such, whatever the backend
            PvhLoader.Boot boot = PvhLoader.load(image, ram.segment().asSlice(0, config.memoryBytes()), map,
                    config.cmdline());
            accelerator = accelerators.open(HypercallPageCode.MSR);
            GuestPhysMemory phys = new GuestPhysMemory(ram.segment(), config.memoryBytes(), map,
                    accelerator.memorySlots());
            VcpuTimers timers = domain.find(VcpuTimers.KEY).orElse(null);
            XenClock clock = timers != null ? timers.clock() : PlatformTime.shared().clock();
            machine = new Machine(config, accelerator, ram, phys, domain, clock);
            machine.addBootVcpu(boot, page, console, tracer);
            Machine m = machine;
            // fires at once if the domain already shut down: run() then returns straight away
            machine.shutdownListener = domain.state(ShutdownState.KEY)
                    .onShutdown(code -> m.stop(new Outcome.Shutdown(code)));
            // last, so that a failure leaves the domain as it was
            machine.wire();
            return machine;
        } catch (RuntimeException | Error e) {
            // Undo everything. The vCPUs too: a KVM vCPU fd keeps the VM alive in the kernel,
            // however the VM fd is closed. No vCPU thread was started, so nothing runs in them.
            if (machine != null) {
                synchronized (machine.lifecycle) {
                    machine.closed = true; // a stop() still in flight (the listener) kicks nothing
                }
                if (machine.shutdownListener != null) {
                    closeOne(e, "shutdown listener", machine.shutdownListener::close);
                }
                for (Vcpu vcpu : machine.vcpus) {
                    closeOne(e, "vcpu" + vcpu.id(), vcpu.cpu()::close);
                }
            }
            if (accelerator != null) {
                closeOne(e, accelerator.name(), accelerator::close);
            }
            closeOne(e, "guest RAM", ram::close);
            throw e;
        }
    }

    /** Runs {@code close}; a failure is added to {@code failure} (suppressed), so the first failure is the one thrown. */
    private static void closeOne(Throwable failure, String what, Runnable close) {
        try {
            close.run();
        } catch (RuntimeException | Error e) {
            failure.addSuppressed(new IllegalStateException("closing " + what + " failed", e));
        }
    }

    /** vCPU 0 at the PVH entry: 32-bit flat protected mode, paging off, %ebx = hvm_start_info. */
    private void addBootVcpu(PvhLoader.Boot boot, HypercallPage page, GuestConsole console, HypercallTracer tracer) {
        VirtualCpu cpu = accelerator.createVcpu(0, boot.entry(), boot.startInfo(),
                XenCpuidLeaves.forVcpu(accelerator.supportedCpuid(), config.version(), domain.domid(), 0,
                        accelerator.hypercallTrap().msr()));
        vcpus.add(new Vcpu(this, cpu, accelerator.hypercallTrap(), page, phys, sharedInfo, clock,
                new DebugPort(domain, console, System::nanoTime), tracer));
    }

    /**
     * The domain gets its memory, shared_info and timers, and events reach the guest from now on: its
     * ports are marked in its shared_info and vcpu_infos, the upcall is an interrupt on the vCPU, and an
     * unblocked vCPU's thread wakes.
     */
    private void wire() {
        DomainWiring.attach(domain, phys, sharedInfo, clock, vcpus.size(), vcpu -> {
            if (vcpu < vcpus.size()) {
                vcpus.get(vcpu).wake();
            }
        }, this::raise);
    }

    /** Raises {@code vector} on {@code vcpu} for an event upcall: no checks but that the machine runs. */
    void raise(int vcpu, int vector) {
        synchronized (lifecycle) {
            if (!closed && !isStopping() && vcpu < vcpus.size()) {
                vcpus.get(vcpu).interrupt(vector);
            }
        }
    }

    public Domain domain() {
        return domain;
    }

    /** The domain's guest-physical memory. */
    public GuestPhysMemory memory() {
        return phys;
    }

    /**
     * Runs the guest until it shuts down, faults, times out, or {@link #stop}
     * is called from another thread; returns how it ended.
     */
    public Outcome run() throws InterruptedException {
        for (Vcpu vcpu : vcpus) {
            threads.add(Thread.ofPlatform().name("vcpu" + vcpu.id()).daemon().start(vcpu));
        }
        long timeoutMillis = config.timeout().toMillis();
        boolean finished = awaitStopped(timeoutMillis);
        if (!finished) {
            stop(new Outcome.Timeout(timeoutMillis, ""));
        }
        for (Thread thread : threads) {
            thread.join(5_000);
            if (thread.isAlive()) {
                LOG.warn("{} did not stop within 5 s", thread.getName());
            }
        }
        Outcome result = outcome.get();
        if (result instanceof Outcome.Timeout timeout) {
            result = new Outcome.Timeout(timeout.millis(), stoppedRegisters(0));
        }
        return result;
    }

    /**
     * vCPU {@code index}'s registers for a message, unless its thread still runs: the register
     * ioctls belong to the vCPU thread, and one still in KVM_RUN or a handler must not be raced.
     */
    private String stoppedRegisters(int index) {
        if (threadAlive(index)) {
            return "  (registers unavailable: vcpu" + vcpus.get(index).id() + " did not stop)";
        }
        return vcpus.get(index).registers();
    }

    /** Whether vCPU {@code index} has a thread that has not ended. */
    private boolean threadAlive(int index) {
        return index < threads.size() && threads.get(index).isAlive();
    }

    /**
     * Waits for the run to stop, looking every {@link #WATCH_MILLIS} for a handler that has not returned
     * for longer than the call limit (and stopping the domain if one has).
     *
     * @param timeoutMillis how long the run may take; 0 or less for no limit
     * @return false if the run's time limit passed first
     */
    private boolean awaitStopped(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (;;) {
            long wait = WATCH_MILLIS;
            if (timeoutMillis > 0) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    return false;
                }
                wait = Math.min(wait, left);
            }
            if (stopped.await(wait, TimeUnit.MILLISECONDS)) {
                return true;
            }
            watchHandlers();
        }
    }

    /** Stops the domain if a vCPU's handler has run longer than {@link #limitCalls the call limit}. */
    private void watchHandlers() {
        if (callLimitNanos <= 0) {
            return;
        }
        long now = System.nanoTime();
        for (Vcpu vcpu : vcpus) {
            HypercallExit exit = vcpu.hypercalls();
            long since = exit.runningSince();
            if (since != 0 && now - since > callLimitNanos) {
                long nr = exit.runningNr();
                Outcome stuck = new Outcome.HandlerStuck(vcpu.id(), nr, exit.provider(nr),
                        TimeUnit.NANOSECONDS.toMillis(now - since));
                LOG.error("{}: {}", domain, stuck.describe());
                stop(stuck);
                return;
            }
        }
    }

    /**
     * The longest a hypercall may stay in its handler (one entry: a preemptible call that continues is
     * entered afresh each slice) before the domain is stopped as {@link Outcome.HandlerStuck}; zero or
     * negative for no limit. Default {@link #DEFAULT_CALL_LIMIT}. Set before {@link #run}.
     */
    public void limitCalls(Duration limit) {
        this.callLimitNanos = limit.toNanos();
    }

    /**
     * Ends the run with {@code why} (the first reason given wins); any thread.
     * A no-op once {@link #close} began: the vCPUs' kvm_run may be unmapped.
     */
    public void stop(Outcome why) {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            if (outcome.compareAndSet(null, why)) {
                stopped.countDown();
                for (Vcpu vcpu : vcpus) {
                    vcpu.cpu().kick();
                    vcpu.wake();
                }
            }
        }
    }

    boolean isStopping() {
        return outcome.get() != null;
    }

    /**
     * Raises external interrupt {@code vector} on vCPU {@code vcpu}, from any thread: it goes in
     * as soon as the guest can take it (RFLAGS.IF set), and wakes a vCPU halted in {@code hlt}.
     *
     * @throws IllegalArgumentException for a vector below 32 (those are exceptions) or above 255,
     *                                  or a vCPU the machine does not have
     */
    public void interrupt(int vcpu, int vector) {
        if (vector < 32 || vector > 255) {
            throw new IllegalArgumentException("interrupt vector " + vector + " is not 32..255");
        }
        if (vcpu < 0 || vcpu >= vcpus.size()) {
            throw new IllegalArgumentException("no vCPU " + vcpu);
        }
        raise(vcpu, vector);
    }

    /**
     * The hypercall counts, errors and times of every vCPU so far, merged into a copy of their own. Any
     * thread may take it at any time, and it never blocks or slows the vCPUs: exact once {@link #run}
     * returned, an approximate snapshot while the guest runs (see {@link HypercallStats} on threads),
     * which is what a control channel's {@code stats} wants. Print it with {@link HypercallStats#print}.
     */
    public HypercallStats statsSnapshot() {
        HypercallStats total = new HypercallStats();
        for (Vcpu vcpu : vcpus) {
            vcpu.stats().addTo(total);
        }
        return total;
    }

    /**
     * Releases the VM. Each resource is closed on its own, and a failure does not stop the
     * others (the first is thrown at the end). A vCPU whose thread is still alive (it did not
     * stop when {@link #run} gave up waiting) keeps its fd and kvm_run, and then the guest RAM
     * stays mapped too: unmapping them under a running KVM_RUN or handler is unsafe. They are
     * logged at WARN and left to the end of the process. Idempotent.
     */
    @Override
    public void close() {
        // a vCPU still running here (run() threw or was interrupted) is asked to stop, not awaited
        stop(new Outcome.Interrupted());
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
        }
        RuntimeException failure = new RuntimeException("closing the machine failed");
        closeOne(failure, "event channels", () -> DomainWiring.endEvents(domain));
        closeOne(failure, "grant mappings", () -> DomainWiring.releaseMappings(domain));
        if (shutdownListener != null) {
            closeOne(failure, "shutdown listener", shutdownListener::close);
        }
        boolean vcpuRunning = false;
        for (int i = 0; i < vcpus.size(); i++) {
            Vcpu vcpu = vcpus.get(i);
            if (threadAlive(i)) {
                vcpuRunning = true;
                LOG.warn("vcpu{} is still running: leaving it open (on KVM, its fd and kvm_run mapped)", vcpu.id());
            } else {
                closeOne(failure, "vcpu" + vcpu.id(), vcpu.cpu()::close);
            }
        }
        closeOne(failure, accelerator.name(), accelerator::close); // a running KVM vCPU's fd keeps the VM alive
        if (vcpuRunning) {
            LOG.warn("leaving the guest RAM mapped: a vCPU thread still runs");
        } else {
            closeOne(failure, "guest RAM", ram::close);
        }
        if (failure.getSuppressed().length > 0) {
            throw failure;
        }
    }
}
