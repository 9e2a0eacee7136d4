package xenshim.x86;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;

/** The platform's domains by id. */
public final class DomainRegistry implements DomainDirectory {

    private final ConcurrentHashMap<Integer, Domain> domains = new ConcurrentHashMap<>();

    /** Adds a domain; its id must be free. */
    public void add(Domain domain) {
        if (domains.putIfAbsent(domain.domid(), domain) != null) {
            throw new IllegalStateException("domain " + domain.domid() + " exists already");
        }
    }

    public void remove(Domain domain) {
        domains.remove(domain.domid(), domain);
    }

    /** The domains now, in id order. */
    public List<Domain> all() {
        return domains.values().stream().sorted(Comparator.comparingInt(Domain::domid)).toList();
    }

    @Override
    public Optional<Domain> byId(int domid) {
        return Optional.ofNullable(domains.get(domid));
    }
}
