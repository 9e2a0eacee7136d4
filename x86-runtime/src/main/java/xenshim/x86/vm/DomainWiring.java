package xenshim.x86.vm;

import java.util.function.IntConsumer;
import xenshim.api.ArrayEventWords;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.GrantMappings;
import xenshim.api.HvmParams;
import xenshim.api.SharedInfo;
import xenshim.api.Upcall;
import xenshim.api.VcpuTimers;
import xenshim.api.Vcpus;
import xenshim.api.XenClock;
import xenshim.x86.memory.GuestPhysMemory;
import xenshim.x86.time.PlatformTime;

/**
 * What the platform attaches to a guest domain around its guest-physical memory, whatever runs its
 * vCPUs, and takes away when the domain dies: its physmap, foreign frames and grant table (the
 * memory's), its shared_info and vcpu_infos, its timers, and its event channels bound to them with the
 * upcall that interrupts its vCPUs.
 *
 * <p>{@link Machine} wires each domain it boots with this; {@code xenshim replay} wires the domains of a
 * recording the same way with no CPU behind them ({@link #wireWithoutCpus}), so that the state a
 * replayed call finds is made by the same code as the state the recorded call found.
 */
public final class DomainWiring {

    private DomainWiring() {
    }

    /** The domain's shared_info page, in the memory's first hypervisor page; attached by {@link #attach}. */
    static SharedInfoPage sharedInfo(Domain domain, GuestPhysMemory phys, XenClock clock) {
        return new SharedInfoPage(phys, domain.state(EventChannels.KEY), clock);
    }

    /**
     * Attaches {@code phys} (physmap, foreign frames, grant table), {@code sharedInfo}, the domain's
     * timers if it has none (over the process's platform time), and binds its events: {@code vcpus}
     * vCPUs online, woken by {@code waker}, events delivered into {@code sharedInfo}, the upcall raised
     * through {@code interrupts}. Call it last when building a domain: until it runs the domain is as
     * it was, and it fails before attaching anything if the domain has memory already.
     */
    static void attach(Domain domain, GuestPhysMemory phys, SharedInfoPage sharedInfo, XenClock clock, int vcpus,
                       IntConsumer waker, GuestUpcall.Interrupts interrupts) {
        phys.attachTo(domain);
        domain.attach(SharedInfo.KEY, sharedInfo);
        if (domain.find(VcpuTimers.KEY).isEmpty()) {
            domain.attach(VcpuTimers.KEY, new VcpuTimers(domain, clock, PlatformTime.shared()));
        }
        Vcpus states = domain.state(Vcpus.KEY);
        states.setOnline(vcpus);
        states.bindWaker(waker);
        EventChannels channels = domain.state(EventChannels.KEY);
        channels.setMaxVcpus(vcpus);
        channels.bind(sharedInfo, new GuestUpcall(interrupts, states, domain.state(HvmParams.KEY)));
    }

    /**
     * Wires {@code domain} as {@link Machine} does, with no CPU: the upcall marks and unblocks as a
     * guest's does but interrupts nothing, and no vCPU thread is woken. For a replay of recorded calls.
     *
     * @param clock the clock of its shared_info (the wallclock written at creation)
     */
    public static void wireWithoutCpus(Domain domain, GuestPhysMemory phys, XenClock clock, int vcpus) {
        attach(domain, phys, sharedInfo(domain, phys, clock), clock, vcpus, vcpu -> { }, (vcpu, vector) -> { });
    }

    /**
     * The domain is dead ({@code domain_kill}): its timers stop, events sent to it from now on land in
     * memory of its own rather than the guest RAM about to be unmapped, and every port is closed, so the
     * peer end of each interdomain pair is unbound again, as Xen leaves it.
     */
    public static void endEvents(Domain domain) {
        domain.find(VcpuTimers.KEY).ifPresent(VcpuTimers::stopAll);
        domain.state(EventChannels.KEY).bind(new ArrayEventWords(), Upcall.NONE);
        EventChannels.destroy(domain);
    }

    /** The dead domain's mappings of other domains' grants are released, their frames unpinned. */
    public static void releaseMappings(Domain domain) {
        GrantMappings.releaseAll(domain);
    }
}
