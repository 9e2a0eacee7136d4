package xenshim.handlers.memory;

import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeEach;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.DomainType;
import xenshim.api.PhysMap;
import xenshim.api.abi.AbiLayouts;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

/** Domains with fake physmaps, a directory and guest memory shared by the memory_op tests. */
abstract class MemoryOpTestBase {

    final Domain guest = FakeDomains.guest(5);
    final Domain other = FakeDomains.guest(6);
    final Domain dom0 = FakeDomains.privilegedGuest(0);
    /** An in-process domain with no physmap: not translated, as far as memory_op can tell. */
    final Domain local = new Domain(9, true, DomainType.LOCAL, new UUID(0, 9));
    final FakePhysMap guestMap = new FakePhysMap(16, 8);
    final FakePhysMap otherMap = new FakePhysMap(32, 4);
    final FakePhysMap dom0Map = new FakePhysMap(1 << 19, 0);
    final Map<Integer, Domain> byId = new ConcurrentHashMap<>();
    final DomainDirectory directory = domid -> Optional.ofNullable(byId.get(domid));
    FakeGuestMemory memory;
    long arg;

    @BeforeEach
    void setUpDomains() {
        guest.attach(PhysMap.KEY, guestMap);
        other.attach(PhysMap.KEY, otherMap);
        dom0.attach(PhysMap.KEY, dom0Map);
        for (Domain d : new Domain[] {guest, other, dom0, local}) {
            byId.put(d.domid(), d);
        }
        memory = FakeGuestMemory.of(0x10000, 64);
        arg = memory.page(1) + 0x80;
    }

    HandlerHarness harness(Domain caller, Abi abi) {
        return HandlerHarness.of(new MemoryOpHandler(directory)).domain(caller).memory(memory).abi(abi);
    }

    static long off(java.lang.foreign.StructLayout layout, String member) {
        return AbiLayouts.offset(layout, member);
    }
}
