package xenshim.fuzz;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.ForeignFrames;
import xenshim.api.GrantTable;
import xenshim.api.PhysMap;
import xenshim.api.PhysMap.MemoryMapEntry;
import xenshim.api.SharedInfo;
import xenshim.api.Upcall;
import xenshim.api.Vcpus;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.TestingTimers;
import xenshim.x86.memory.GuestPhysMemory;
import xenshim.x86.memory.VcpuMemory;
import xenshim.x86.vm.SharedInfoPage;

/**
 * A guest domain as the runtime builds one for a {@link xenshim.x86.vm.Machine}, without a CPU: its RAM
 * and hypervisor pages ({@link GuestPhysMemory}: physmap, frames by number, grant table), its
 * {@code shared_info} page bound as the words its events go to, two vCPUs, timers on the test's clock.
 * Its hypercalls see its memory as a vCPU with paging off does ({@link VcpuMemory}): guest-physical
 * addresses, cut to 32 bits for a compat call.
 *
 * <p>Two things are watched for the fuzz targets: references on its frames by other domains
 * ({@link CrossDomainAudit}) and where it moved its vcpu_infos (host pages that other domains' events
 * may write).
 */
final class FuzzGuest {

    static final int RAM_PAGES = 32;
    static final long RAM = RAM_PAGES * GuestPhysMemory.PAGE_SIZE;
    static final int VCPUS = 2;
    /** Where the fuzz targets put hypercall arguments: guest frames 0x10 and 0x11. */
    static final long ARGS = 0x10_000;

    final Domain domain;
    final GuestPhysMemory phys;
    final SharedInfoPage sharedInfo;
    private final VcpuMemory flat;
    private final VcpuMemory flat64;
    /** Host pages that hold a vcpu_info moved there by {@code VCPUOP_register_vcpu_info}. */
    final Set<Long> vcpuInfoPages = new HashSet<>();
    /** Grant refs the guest wrote while they were pinned: their flags are its own until the pin goes. */
    final Set<Integer> overwrittenWhilePinned = new HashSet<>();
    /** Whether a frame of its grant table was ever mapped into its physmap, where its calls may write it. */
    boolean grantTableExposed;

    FuzzGuest(int domid, Arena arena, TestingTimers timers, CrossDomainAudit audit) {
        domain = FakeDomains.guest(domid);
        FakeDomains.attachVcpuTimers(domain, timers);
        MemorySegment host = arena.allocate(RAM + GuestPhysMemory.HYPERVISOR_PAGES * GuestPhysMemory.PAGE_SIZE,
                GuestPhysMemory.PAGE_SIZE);
        phys = new GuestPhysMemory(host, RAM, List.of(new MemoryMapEntry(0, RAM, MemoryMapEntry.E820_RAM)),
                GuestPhysMemory.Slots.NONE);
        // what phys.attachTo(domain) attaches, with the frames by number audited
        domain.attach(PhysMap.KEY, phys);
        domain.attach(ForeignFrames.KEY, audit.wrap(domain, phys));
        domain.attach(GrantTable.KEY, phys.grantTable());
        EventChannels channels = domain.state(EventChannels.KEY);
        sharedInfo = new SharedInfoPage(phys, channels, timers.clock());
        domain.attach(SharedInfo.KEY, watched(sharedInfo));
        domain.state(Vcpus.KEY).setOnline(VCPUS);
        channels.setMaxVcpus(VCPUS);
        channels.bind(sharedInfo, Upcall.NONE);      // no CPU to interrupt: events stay in the words
        flat = new VcpuMemory(phys);
        flat.refresh(1, 0, 0, 0);                  // CR0.PE, no paging: 32-bit flat
        flat64 = new VcpuMemory(phys);
        flat64.refresh(1, 0, 0, 1L << 10);         // EFER.LMA: addresses in full
    }

    /**
     * The guest writes grant entry {@code ref} of its table, as a guest may at any time. Overwriting an entry
     * that is pinned leaves the pin (as on Xen) with whatever flags the guest wrote, so the entry is not held
     * to the flags rule until its last unpin ({@link #overwrittenWhilePinned}).
     */
    void writeGrant(int ref, int flags, int domid, long gfn) {
        GrantTable table = phys.grantTable();
        if (table.pin(ref) != 0) {
            overwrittenWhilePinned.add(ref);
        }
        table.writeEntry(ref, flags, domid, gfn);
    }

    /** The memory a call of this ABI sees. */
    VcpuMemory memory(boolean compat) {
        return compat ? flat : flat64;
    }

    /** The host page behind guest frame {@code gfn}, or -1 for a hole. */
    long hostPage(long gfn) {
        long host = phys.translate(gfn << GuestPhysMemory.PAGE_SHIFT);
        return host < 0 ? -1 : host >>> GuestPhysMemory.PAGE_SHIFT;
    }

    /** The guest's RAM as it is now (host pages 0..RAM_PAGES-1). */
    MemorySegment ram() {
        return phys.host().asSlice(0, RAM);
    }

    private SharedInfo watched(SharedInfoPage page) {
        return new SharedInfo() {
            @Override
            public int registerVcpuInfo(int vcpu, long gfn, int offset) {
                int rc = page.registerVcpuInfo(vcpu, gfn, offset);
                if (rc == 0) {
                    vcpuInfoPages.add(hostPage(gfn));
                }
                return rc;
            }

            @Override
            public void updateTime(int vcpu) {
                page.updateTime(vcpu);
            }
        };
    }
}
