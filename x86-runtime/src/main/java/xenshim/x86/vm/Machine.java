package xenshim.x86.vm;

import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;
import xenshim.api.PhysMap;
import xenshim.api.ShutdownState;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.boot.ElfImage;
import xenshim.x86.boot.PvhLoader;
import xenshim.x86.kvm.DTable;
import xenshim.x86.kvm.GuestRam;
import xenshim.x86.kvm.Kvm;
import xenshim.x86.kvm.KvmException;
import xenshim.x86.kvm.MsrFilterRange;
import xenshim.x86.kvm.Regs;
import xenshim.x86.kvm.Segment;
import xenshim.x86.kvm.Sregs;
import xenshim.x86.kvm.VcpuFd;
import xenshim.x86.kvm.VmFd;
import xenshim.x86.memory.GuestPhysMemory;

/**
 * One Xen HVM/PVH domain on KVM: the VM, its guest memory, its vCPUs and
 * their threads. Built from a guest ELF, it boots the guest at its PVH entry
 * and runs until the guest shuts down, faults, or is stopped; {@link #run}
 * returns how it ended.
 */
public final class Machine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Machine.class);
    private static final int KVM_CAP_NR_MEMSLOTS = 10;

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

    private final Config config;
    private final Kvm kvm;
    private final VmFd vm;
    private final GuestRam ram;
    private final GuestPhysMemory phys;
    private final Domain domain;
    private final List<Vcpu> vcpus = new ArrayList<>();
    private final AtomicReference<Outcome> outcome = new AtomicReference<>();
    private final CountDownLatch stopped = new CountDownLatch(1);

    private Machine(Config config, Kvm kvm, VmFd vm, GuestRam ram, GuestPhysMemory phys, Domain domain) {
        this.config = config;
        this.kvm = kvm;
        this.vm = vm;
        this.ram = ram;
        this.phys = phys;
        this.domain = domain;
    }

    /**
     * Creates the VM and loads {@code image}.
     *
     * @param domain  the domain the guest runs as; its {@link PhysMap} is attached here
     * @param tracer  null for no trace
     * @throws KvmException if KVM is missing or refuses
     * @throws xenshim.x86.boot.BadGuestImageException if the image does not fit
     */
    public static Machine create(Config config, ElfImage image, Domain domain, HypercallPage page,
                                 GuestConsole console, HypercallTracer tracer) {
        long hostBytes = config.memoryBytes() + GuestPhysMemory.HYPERVISOR_PAGES * GuestPhysMemory.PAGE_SIZE;
        var map = PvhLoader.memoryMap(config.memoryBytes());
        GuestRam ram = GuestRam.allocate(hostBytes);
        Kvm kvm = null;
        VmFd vm = null;
        try {
            // the image first: a guest that does not fit is reported as such, KVM or not
            PvhLoader.Boot boot = PvhLoader.load(image, ram.segment().asSlice(0, config.memoryBytes()), map,
                    config.cmdline());
            kvm = Kvm.open();
            vm = kvm.createVm();
            VmFd theVm = vm;
            vm.enableCap(Kvm.CAP_X86_USER_SPACE_MSR, VmFd.MSR_EXIT_REASON_FILTER);
            vm.setMsrFilter(VmFd.MSR_FILTER_DEFAULT_ALLOW,
                    List.of(MsrFilterRange.exitOn(MsrFilterRange.READ | MsrFilterRange.WRITE, HypercallPageCode.MSR, 1)));
            int slotLimit = Math.max(1, kvm.checkExtension(KVM_CAP_NR_MEMSLOTS));
            GuestPhysMemory phys = new GuestPhysMemory(ram.segment(), config.memoryBytes(), map,
                    new GuestPhysMemory.Slots() {
                        @Override
                        public void set(int slot, long guestPhysAddr, MemorySegment host) {
                            theVm.setUserMemoryRegion(slot, 0, guestPhysAddr, host);
                        }

                        @Override
                        public int limit() {
                            return slotLimit;
                        }
                    });
            Machine machine = new Machine(config, kvm, vm, ram, phys, domain);
            machine.addBootVcpu(boot, page, console, tracer);
            domain.attach(PhysMap.KEY, phys);
            domain.state(ShutdownState.KEY).onShutdown(code -> machine.stop(new Outcome.Shutdown(code)));
            return machine;
        } catch (RuntimeException | Error e) {
            // a vCPU made before the failure goes with its VM
            if (vm != null) {
                vm.close();
            }
            if (kvm != null) {
                kvm.close();
            }
            ram.close();
            throw e;
        }
    }

    /** vCPU 0 at the PVH entry: 32-bit flat protected mode, paging off, %ebx = hvm_start_info. */
    private void addBootVcpu(PvhLoader.Boot boot, HypercallPage page, GuestConsole console, HypercallTracer tracer) {
        VcpuFd fd = vm.createVcpu(0);
        fd.setCpuid2(XenCpuidLeaves.forVcpu(kvm.supportedCpuid(), config.version(), domain.domid(), 0));
        Sregs sregs = fd.getSregs()
                .withCs(Segment.code32(0x08))
                .withDataSegments(Segment.data(0x10))
                .withTr(Segment.busyTss(0x18, 0, 0x67))
                .withGdt(new DTable(0, 0))
                .withIdt(new DTable(0, 0))
                .withControl(Sregs.CR0_PE | Sregs.CR0_ET, 0, 0, 0);
        fd.setSregs(sregs);
        fd.setRegs(Regs.INITIAL.with(xenshim.x86.kvm.Reg.RIP, boot.entry()).with(xenshim.x86.kvm.Reg.RBX, boot.startInfo()));
        fd.enableSyncRegs();
        vcpus.add(new Vcpu(this, fd, 0, page, phys, console, tracer));
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
        List<Thread> threads = new ArrayList<>();
        for (Vcpu vcpu : vcpus) {
            threads.add(Thread.ofPlatform().name("vcpu" + vcpu.id()).daemon().start(vcpu));
        }
        long timeoutMillis = config.timeout().toMillis();
        boolean finished = timeoutMillis <= 0 ? awaitStopped() : stopped.await(timeoutMillis, TimeUnit.MILLISECONDS);
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
            result = new Outcome.Timeout(timeout.millis(), vcpus.getFirst().registers());
        }
        return result;
    }

    private boolean awaitStopped() throws InterruptedException {
        stopped.await();
        return true;
    }

    /** Ends the run with {@code why} (the first reason given wins); any thread. */
    public void stop(Outcome why) {
        if (outcome.compareAndSet(null, why)) {
            stopped.countDown();
            for (Vcpu vcpu : vcpus) {
                vcpu.fd().kick();
            }
        }
    }

    boolean isStopping() {
        return outcome.get() != null;
    }

    /** Blocks a halted vCPU thread until the machine stops. */
    void awaitStop() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The hypercall counts and times of every vCPU so far. */
    public HypercallStats stats() {
        HypercallStats total = new HypercallStats();
        for (Vcpu vcpu : vcpus) {
            vcpu.stats().addTo(total);
        }
        return total;
    }

    @Override
    public void close() {
        for (Vcpu vcpu : vcpus) {
            vcpu.fd().close();
        }
        vm.close();
        ram.close();
        kvm.close();
    }
}
