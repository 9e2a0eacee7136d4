package xenshim.xenstore;

import java.lang.foreign.MemorySegment;
import java.util.UUID;

/**
 * What the toolstack writes for a guest (libxl's {@code libxl__domain_make}
 * and {@code libxl__build_post}, and the console's frontend nodes), and its
 * introduction and release. Written as dom0:
 * <pre>
 * /vm/&lt;uuid&gt;                        n0,r&lt;id&gt;   uuid, name
 * /local/domain/&lt;id&gt;                n0,r&lt;id&gt;   name, domid, vm, memory/static-max, memory/target,
 *                                               store/port, store/ring-ref (all n0,r&lt;id&gt;)
 * /local/domain/&lt;id&gt;/control        n0,r&lt;id&gt;   control/shutdown: &lt;id&gt;'s (n&lt;id&gt;)
 * /local/domain/&lt;id&gt;/data, attr, drivers, feature, error     &lt;id&gt;'s
 * /local/domain/&lt;id&gt;/device         n0,r&lt;id&gt;
 * /local/domain/&lt;id&gt;/console        n&lt;id&gt;,r0  ring-ref, port, type=xenconsoled, limit=1048576
 * </pre>
 */
public final class DomainNodes {

    /** libxl's {@code LIBXL_XENCONSOLE_LIMIT}. */
    public static final int CONSOLE_LIMIT = 1048576;

    /**
     * The guest's facts the nodes hold.
     *
     * @param storeRingRef   the frame of the store ring page
     * @param consoleRingRef the frame of the console ring page
     */
    public record Guest(int domid, String name, UUID uuid, long memoryKiB, long storeRingRef, int storePort,
            long consoleRingRef, int consolePort) {
    }

    private final Xenstored xs;

    public DomainNodes(Xenstored xs) {
        this.xs = xs;
    }

    /** Writes the guest's nodes (replacing any left from an earlier guest of that id), in one transaction. */
    public void create(Guest guest) {
        int id = guest.domid();
        String home = XsPath.domainPath(id);
        String vm = "/vm/" + guest.uuid();
        XsPerms readable = XsPerms.of(XsPerm.none(0), XsPerm.read(id));
        XsPerms guests = XsPerms.of(XsPerm.none(id));
        try (XsClient client = xs.client()) {
            client.transaction(t -> {
                removeIfThere(t, home);
                removeIfThere(t, vm);
                node(t, vm, "", readable);
                t.write(vm + "/uuid", guest.uuid().toString());
                t.write(vm + "/name", guest.name());
                node(t, home, "", readable);
                t.write(home + "/vm", vm);
                t.write(home + "/name", guest.name());
                t.write(home + "/domid", Integer.toString(id));
                t.write(home + "/memory/static-max", Long.toString(guest.memoryKiB()));
                t.write(home + "/memory/target", Long.toString(guest.memoryKiB()));
                t.write(home + "/store/port", Integer.toString(guest.storePort()));
                t.write(home + "/store/ring-ref", Long.toString(guest.storeRingRef()));
                t.mkdir(home + "/device");
                t.mkdir(home + "/control");
                node(t, home + "/control/shutdown", "", guests);
                for (String own : new String[] {"data", "attr", "drivers", "feature", "error"}) {
                    node(t, home + "/" + own, "", guests);
                }
                node(t, home + "/console", "", XsPerms.of(XsPerm.none(id), XsPerm.read(0)));
                t.write(home + "/console/ring-ref", Long.toString(guest.consoleRingRef()));
                t.write(home + "/console/port", Integer.toString(guest.consolePort()));
                t.write(home + "/console/type", "xenconsoled");
                t.write(home + "/console/limit", Integer.toString(CONSOLE_LIMIT));
            });
        }
    }

    /** {@link Xenstored#introduce}: the guest's ring is served from now on; fires {@code @introduceDomain}. */
    public RingConnection introduce(int domid, MemorySegment ring, Runnable notify) {
        return xs.introduce(domid, ring, notify);
    }

    /**
     * What the toolstack and xenstored do when a guest goes: its
     * {@code /local/domain/<id>} and {@code /vm/<uuid>} are removed, then it is
     * {@linkplain Xenstored#release released} (its ring, watches and
     * transactions dropped, the nodes it owns elsewhere removed,
     * {@code @releaseDomain} fired).
     */
    public void release(int domid) {
        String home = XsPath.domainPath(domid);
        try (XsClient client = xs.client()) {
            client.transaction(t -> {
                if (t.exists(home + "/vm")) {
                    removeIfThere(t, t.read(home + "/vm"));
                }
                removeIfThere(t, home);
            });
        }
        if (xs.isIntroduced(domid)) {
            xs.release(domid);
        }
    }

    private static void removeIfThere(XsTransaction t, String path) {
        if (t.exists(path)) {
            t.rm(path);
        }
    }

    private static void node(XsTransaction t, String path, String value, XsPerms perms) {
        t.write(path, value);
        t.setPerms(path, perms);
    }
}
