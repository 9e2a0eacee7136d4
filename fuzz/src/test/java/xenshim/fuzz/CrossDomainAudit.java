package xenshim.fuzz;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import xenshim.api.Domain;
import xenshim.api.ForeignFrames;

/**
 * Who reaches which domain's RAM outside a grant. Each fuzzed domain's {@link ForeignFrames} (the way a
 * handler reaches a domain's frames by number: a copy naming a frame, a transfer) is wrapped, and a
 * reference taken on one domain's frame during a call by another, unprivileged, domain is recorded: Xen
 * lets a domain name only its own frames ({@code DOMID_SELF}), and another's only through a grant, which
 * goes through the granting domain's {@link xenshim.api.GrantTable}, not through this wrapper.
 */
final class CrossDomainAudit {

    private Domain caller;
    private final List<String> violations = new ArrayList<>();

    /** The domain whose call runs now; null between calls. */
    void calling(Domain domain) {
        this.caller = domain;
    }

    /** What was reached that should not have been, since the last {@link #clear}. */
    List<String> violations() {
        return List.copyOf(violations);
    }

    void clear() {
        violations.clear();
    }

    /** {@code frames}, as {@code owner}'s, with every reference taken checked against the caller. */
    ForeignFrames wrap(Domain owner, ForeignFrames frames) {
        return new ForeignFrames() {
            @Override
            public long get(long gfn) {
                Domain now = caller;
                if (now != null && now != owner && !now.isPrivileged()) {
                    violations.add(now + " took a reference on " + owner + "'s frame 0x" + Long.toHexString(gfn)
                            + " without a grant");
                }
                return frames.get(gfn);
            }

            @Override
            public void put(long mfn) {
                frames.put(mfn);
            }

            @Override
            public MemorySegment window(long mfn) {
                return frames.window(mfn);
            }

            @Override
            public MemorySegment readOnlyWindow(long mfn) {
                return frames.readOnlyWindow(mfn);
            }

            @Override
            public void copy(long mfn, int offset, ForeignFrames to, long toMfn, int toOffset, int length) {
                frames.copy(mfn, offset, to, toMfn, toOffset, length);
            }

            @Override
            public int references(long mfn) {
                return frames.references(mfn);
            }
        };
    }
}
