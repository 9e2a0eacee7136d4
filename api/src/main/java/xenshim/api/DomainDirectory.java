package xenshim.api;

import java.util.Optional;
import xenshim.api.xen.XenDomains;

/** The platform's domains by id, for hypercalls that name another domain. Bound by the platform. */
public interface DomainDirectory {

    /** The domain with this id, if it exists. */
    Optional<Domain> byId(int domid);

    /**
     * What Xen's {@code rcu_lock_domain_by_any_id} finds: the caller for
     * {@code DOMID_SELF}, else the domain with that id.
     */
    default Optional<Domain> byAnyId(Domain caller, int domid) {
        return domid == XenDomains.DOMID_SELF ? Optional.of(caller) : byId(domid);
    }
}
