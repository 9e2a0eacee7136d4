package xenshim.x86.record;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.Map;
import xenshim.api.Domain;
import xenshim.api.DomainType;
import xenshim.api.PhysMap;
import xenshim.api.XenClock;
import xenshim.dispatcher.record.CallLog;
import xenshim.x86.Platform;
import xenshim.x86.kvm.GuestRam;
import xenshim.x86.memory.GuestPhysMemory;
import xenshim.x86.vm.DomainWiring;

/**
 * A replay's domains, made and unmade as the recording says, by the runtime's own code: a guest is
 * {@link Platform#newGuest(int, java.util.UUID) the platform's new guest} with the recorded handle,
 * gets guest memory (anonymous, untouched pages cost nothing) wired by {@link DomainWiring} as a
 * machine wires it, only with no CPU, and is torn down as a machine's domain is. Its platform pages
 * are set to the recorded bytes before the call they precede.
 */
final class ReplayDomains implements AutoCloseable {

    /** A recording that cannot be played: two domains with one id, memory for a domain never made, .... */
    static final class Inconsistent extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Inconsistent(String message) {
            super(message);
        }
    }

    private final Platform platform;
    private final XenClock clock;
    private final Map<Integer, GuestRam> ram = new HashMap<>();

    ReplayDomains(Platform platform, XenClock clock) {
        this.platform = platform;
        this.clock = clock;
    }

    /** Applies a DOMAIN, MEMORY, GONE or PAGE entry. */
    void apply(CallLog.Entry entry) {
        switch (entry) {
            case CallLog.DomainCreated d -> created(d);
            case CallLog.DomainMemory m -> memory(m);
            case CallLog.DomainGone g -> gone(domain(g.domid(), "GONE"));
            case CallLog.PlatformPage p -> page(p);
            case CallLog.Call c -> throw new IllegalArgumentException("a call is played, not applied");
        }
    }

    private Domain domain(int domid, String what) {
        return platform.domains().byId(domid).orElseThrow(() -> new Inconsistent(what + " for d" + domid
                + ", which the recording has not created (or has removed)"));
    }

    private void created(CallLog.DomainCreated d) {
        if (d.domid() == 0) {
            if (d.type() != DomainType.LOCAL || !d.privileged()) {
                throw new Inconsistent("d0 is recorded as an unprivileged or HVM domain; xenshim's dom0 is the "
                        + "privileged in-process one");
            }
            return; // the platform's own
        }
        if (d.type() != DomainType.HVM || d.privileged()) {
            throw new Inconsistent("d" + d.domid() + " is recorded as " + d.type() + (d.privileged() ? ", privileged" : "")
                    + "; a replay makes unprivileged HVM guests, as xenshim runs them");
        }
        try {
            platform.newGuest(d.domid(), d.handle());
        } catch (IllegalStateException taken) {
            throw new Inconsistent("DOMAIN d" + d.domid() + " twice");
        }
    }

    private void memory(CallLog.DomainMemory m) {
        Domain domain = domain(m.domid(), "MEMORY");
        if (domain.find(PhysMap.KEY).isPresent()) {
            throw new Inconsistent("MEMORY for d" + m.domid() + " twice");
        }
        GuestRam memory = GuestRam.allocate(m.ramBytes() + GuestPhysMemory.HYPERVISOR_PAGES * GuestPhysMemory.PAGE_SIZE);
        try {
            GuestPhysMemory phys = new GuestPhysMemory(memory.segment(), m.ramBytes(), m.memoryMap(),
                    slots(m.slotLimit()));
            DomainWiring.wireWithoutCpus(domain, phys, clock, m.vcpus());
        } catch (RuntimeException e) {
            memory.close();
            throw new Inconsistent("MEMORY for d" + m.domid() + ": " + e.getMessage());
        }
        ram.put(m.domid(), memory);
    }

    /** Slots that go nowhere but allow as many as the recorded backend did. */
    private static GuestPhysMemory.Slots slots(int limit) {
        return new GuestPhysMemory.Slots() {
            @Override
            public void set(int slot, long guestPhysAddr, MemorySegment host) {
            }

            @Override
            public int limit() {
                return limit;
            }
        };
    }

    private void page(CallLog.PlatformPage p) {
        Domain domain = domain(p.domid(), "PAGE");
        if (!(domain.find(PhysMap.KEY).orElse(null) instanceof GuestPhysMemory phys)) {
            throw new Inconsistent("PAGE for d" + p.domid() + ", which has no guest memory yet");
        }
        byte[] bytes = p.bytes();
        MemorySegment.copy(bytes, 0, phys.host(), ValueLayout.JAVA_BYTE, phys.hypervisorPageOffset(p.page()) + p.offset(),
                bytes.length);
    }

    private void gone(Domain domain) {
        if (domain.domid() == 0) {
            throw new Inconsistent("GONE for d0");
        }
        DomainWiring.endEvents(domain);
        DomainWiring.releaseMappings(domain);
        platform.domains().remove(domain);
        GuestRam memory = ram.remove(domain.domid());
        if (memory != null) {
            memory.close();
        }
    }

    /** Unmaps every replayed domain's memory. */
    @Override
    public void close() {
        ram.values().forEach(GuestRam::close);
        ram.clear();
    }
}
