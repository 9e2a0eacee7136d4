package xenshim.xenstore;

import java.lang.foreign.MemorySegment;

/**
 * How a toolstack's {@code XS_INTRODUCE} over the wire finds a guest's ring:
 * the runtime maps the page the introduction names (xenstored maps the
 * domain's reserved grant, {@code GNTTAB_RESERVED_XENSTORE}) and gives the
 * way to notify the guest's store event channel.
 */
@FunctionalInterface
public interface RingMapper {

    /** A guest's mapped ring page and its notifier. */
    record Ring(MemorySegment page, Runnable notifier) {
    }

    /**
     * The ring of {@code domid}, whose store page is at {@code gfn} and
     * event channel {@code port}, or {@code null} if it cannot be mapped
     * (the introduction is answered EINVAL).
     */
    Ring map(int domid, long gfn, int port);

    /** Maps nothing: every wire introduction of an unknown domain fails. */
    RingMapper NONE = (domid, gfn, port) -> null;
}
