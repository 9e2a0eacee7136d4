package xenshim.testkit;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.DomainType;
import xenshim.api.VcpuTimers;

/** Domains for tests, with fixed handles so results are repeatable. */
public final class FakeDomains {

    private FakeDomains() {
    }

    /** An unprivileged HVM guest. */
    public static Domain guest(int domid) {
        return new Domain(domid, false, DomainType.HVM, new UUID(0x1111_2222_3333_4444L, domid));
    }

    /** A privileged HVM guest (a control domain booted as a guest). */
    public static Domain privilegedGuest(int domid) {
        return new Domain(domid, true, DomainType.HVM, new UUID(0x5555_6666_7777_8888L, domid));
    }

    /** The in-process dom0 of backend code. */
    public static Domain localDom0() {
        return Domain.localDom0();
    }

    /**
     * A directory that finds these domains by id, and no other ({@code DOMID_SELF} names the caller
     * through {@link DomainDirectory#byAnyId}, as the platform's does).
     *
     * @throws IllegalArgumentException if two domains share an id
     */
    public static DomainDirectory directory(Domain... domains) {
        Map<Integer, Domain> byId = new HashMap<>();
        for (Domain domain : domains) {
            if (byId.putIfAbsent(domain.domid(), domain) != null) {
                throw new IllegalArgumentException("two domains with id " + domain.domid());
            }
        }
        Map<Integer, Domain> known = Map.copyOf(byId);
        return domid -> Optional.ofNullable(known.get(domid));
    }

    /**
     * Attaches to {@code domain} the {@link VcpuTimers} a platform attaches to every guest, on
     * {@code timers} and their clock, so the test decides when they fire.
     *
     * @return the attached timers
     * @throws IllegalStateException if the domain has its timers already
     */
    public static VcpuTimers attachVcpuTimers(Domain domain, TestingTimers timers) {
        VcpuTimers vcpuTimers = new VcpuTimers(domain, timers.clock(), timers);
        domain.attach(VcpuTimers.KEY, vcpuTimers);
        return vcpuTimers;
    }
}
