package xenshim.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import xenshim.xenstore.XsClient;
import xenshim.xenstore.XsException;
import xenshim.xenstore.XsPerm;
import xenshim.xenstore.XsPerms;
import xenshim.xenstore.XsWire;
import xenshim.xenstore.Xenstored;

/**
 * Across random sequences of xenstore requests (read, write, mkdir, rm, set_perms) by dom0 and two guests
 * (on their rings; {@link RandomSequences}), a guest never reads or changes a node its permissions do not
 * allow. The permissions
 * are checked against xenstored's rule ({@code perm_for_conn}): the owner (first entry) has every access,
 * another domain has the access of the entry naming it, else the first entry's; dom0 has all. Before each
 * request dom0 reads what the node's permissions are; after it:
 *
 * <ul>
 * <li>a read that succeeded was allowed, and a read of an existing node that was allowed succeeded;</li>
 * <li>a write, mkdir, rm or set_perms that succeeded had write access to the node, or, for a node it
 *     created, to its nearest existing ancestor;</li>
 * <li>no node the guest could not write (nor remove with an ancestor it could) changed.</li>
 * </ul>
 */
class StoreIsolationProperties {

    private static final int[] DOMAINS = {0, 5, 6};
    private static final String[] PATHS = {"/local/domain/5", "/local/domain/5/pub", "/local/domain/5/x",
        "/local/domain/5/x/y", "/local/domain/6", "/local/domain/6/pub", "/local/domain/6/rw", "/local/domain/6/x",
        "/local/domain/6/rw/z", "/local/domain/0/secret", "/local/domain/0/x", "/local", "/tool"};
    private static final List<XsPerms> PERMS = List.of(XsPerms.of(XsPerm.none(5)), XsPerms.of(XsPerm.none(6)),
            XsPerms.of(XsPerm.none(5), XsPerm.read(6)), XsPerms.of(XsPerm.none(6), XsPerm.both(5)),
            XsPerms.of(XsPerm.read(0)), XsPerms.of(XsPerm.none(0)), XsPerms.of(XsPerm.both(6)));

    enum Kind { READ, WRITE, MKDIR, RM, SET_PERMS }

    /** Domain {@code who} makes a request of {@code kind} on {@code PATHS[path]}. */
    record Request(int who, Kind kind, int path, int perms) {
    }

    static Request request(Random random) {
        Kind[] kinds = Kind.values();
        return new Request(DOMAINS[random.nextInt(DOMAINS.length)], kinds[random.nextInt(kinds.length)],
                random.nextInt(PATHS.length), random.nextInt(PERMS.size()));
    }

    @Test
    void noGuestReadsOrChangesANodeItsPermissionsDoNotAllow() {
        RandomSequences.forAll(30, StoreIsolationProperties::request, StoreIsolationProperties::run);
    }

    private static void run(List<Request> requests) {
        Xenstored xs = new Xenstored();
        try (XsClient dom0 = xs.client()) {
            seed(dom0);
            StoreRingGuest five = new StoreRingGuest(xs, 5, 0);
            StoreRingGuest six = new StoreRingGuest(xs, 6, 0xFFFF_FF00);
            try {
                int[] sent = new int[2];
                for (Request request : requests) {
                    apply(xs, dom0, request, request.who() == 5 ? five : six, sent);
                }
            } finally {
                xs.release(5);
                xs.release(6);
                five.close();
                six.close();
            }
        }
    }

    private static void seed(XsClient dom0) {
        for (int domid : new int[] {5, 6}) {
            String home = "/local/domain/" + domid;
            dom0.mkdir(home);
            dom0.setPerms(home, XsPerms.of(XsPerm.none(domid)));
        }
        dom0.write("/local/domain/5/pub", "five");
        dom0.setPerms("/local/domain/5/pub", XsPerms.of(XsPerm.none(5), XsPerm.read(6)));
        dom0.write("/local/domain/6/pub", "six");
        dom0.setPerms("/local/domain/6/pub", XsPerms.of(XsPerm.none(6), XsPerm.read(5)));
        dom0.write("/local/domain/6/rw", "shared");
        dom0.setPerms("/local/domain/6/rw", XsPerms.of(XsPerm.none(6), XsPerm.both(5)));
        dom0.write("/local/domain/0/secret", "dom0's");
    }

    private static void apply(Xenstored xs, XsClient dom0, Request request, StoreRingGuest ring, int[] sent) {
        String path = PATHS[request.path()];
        XsPerms perms = PERMS.get(request.perms());
        if (request.who() == 0) {
            try {
                switch (request.kind()) {
                    case READ -> dom0.read(path);
                    case WRITE -> dom0.write(path, "by dom0");
                    case MKDIR -> dom0.mkdir(path);
                    case RM -> dom0.rm(path);
                    case SET_PERMS -> dom0.setPerms(path, perms);
                }
            } catch (XsException e) {
                // dom0 may fail too (no such node); its requests only change what the guests may do
            }
            return;
        }
        int domid = request.who();
        Optional<XsPerms> before = permsOf(dom0, path);
        int access = before.map(p -> access(domid, p)).orElse(0);
        int ancestorAccess = access(domid, nearestExisting(dom0, path));
        StoreView was = StoreView.of(xs);
        StoreRingGuest.Message reply = send(ring, request, path, perms, sent, domid == 5 ? 0 : 1);
        boolean ok = reply.type() != XsWire.XS_ERROR;
        String what = request + " on " + path + " with perms " + before.orElse(null) + " = " + reply.text();
        boolean canRead = (access & XsWire.XS_PERM_READ) != 0;
        boolean canWrite = (access & XsWire.XS_PERM_WRITE) != 0;
        switch (request.kind()) {
            case READ -> {
                assertThat(!ok || canRead).as("a read it may not make succeeded: %s", what).isTrue();
                assertThat(ok || before.isEmpty() || !canRead).as("an allowed read failed: %s", what).isTrue();
            }
            default -> {
                if (ok && before.isPresent()) {
                    assertThat(canWrite).as("a change it may not make succeeded: %s", what).isTrue();
                }
                if (ok && before.isEmpty() && request.kind() != Kind.RM) {
                    assertThat(ancestorAccess & XsWire.XS_PERM_WRITE).as("a node made under one it may not write: %s",
                            what).isNotZero();
                }
            }
        }
        StoreView is = StoreView.of(xs);
        List<String> changed = new ArrayList<>(was.lines());
        changed.removeAll(is.lines());
        for (String line : changed) {
            String node = line.substring(0, line.indexOf(" = \""));
            boolean writable = (access(domid, nearestExisting(was, node)) & XsWire.XS_PERM_WRITE) != 0
                    || request.kind() == Kind.RM && canWrite && (node.equals(path) || node.startsWith(path + "/"));
            assertThat(writable).as("d%d changed %s, which it may not write: %s", domid, line, what).isTrue();
        }
    }

    private static StoreRingGuest.Message send(StoreRingGuest ring, Request request, String path, XsPerms perms,
                                                int[] sent, int which) {
        byte[] payload = switch (request.kind()) {
            case READ -> StoreRingGuest.strings(path);
            case WRITE -> concat(StoreRingGuest.strings(path), ("by d" + request.who()).getBytes());
            case MKDIR -> StoreRingGuest.strings(path);
            case RM -> StoreRingGuest.strings(path);
            case SET_PERMS -> {
                List<String> strings = new ArrayList<>(List.of(path));
                strings.addAll(perms.entries().stream().map(XsPerm::toString).toList());
                yield StoreRingGuest.strings(strings.toArray(String[]::new));
            }
        };
        int type = switch (request.kind()) {
            case READ -> XsWire.XS_READ;
            case WRITE -> XsWire.XS_WRITE;
            case MKDIR -> XsWire.XS_MKDIR;
            case RM -> XsWire.XS_RM;
            case SET_PERMS -> XsWire.XS_SET_PERMS;
        };
        assertThat(ring.send(StoreRingGuest.request(type, ++sent[which], 0, payload))).as("sent").isTrue();
        assertThat(ring.awaitReplies(sent[which])).as("answered: %s", request).isTrue();
        return ring.replies().get(sent[which] - 1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] all = new byte[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private static Optional<XsPerms> permsOf(XsClient dom0, String path) {
        try {
            return Optional.of(dom0.getPerms(path));
        } catch (XsException e) {
            return Optional.empty();
        }
    }

    /** The permissions of {@code path}'s nearest existing ancestor (or itself). */
    private static XsPerms nearestExisting(XsClient dom0, String path) {
        for (String p = path; ; p = parent(p)) {
            Optional<XsPerms> perms = permsOf(dom0, p);
            if (perms.isPresent()) {
                return perms.get();
            }
        }
    }

    /** The same from a dump taken before the request: the nearest ancestor there of a node that changed. */
    private static XsPerms nearestExisting(StoreView view, String path) {
        for (String p = path; ; p = parent(p)) {
            for (String line : view.lines()) {
                if (line.startsWith(p + " = \"")) {
                    return XsPerms.parse(List.of(line.substring(line.lastIndexOf("  (") + 3, line.length() - 1)
                            .split(",")));
                }
            }
        }
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    /** xenstored's {@code perm_for_conn} for an unprivileged domain. */
    static int access(int domid, XsPerms perms) {
        List<XsPerm> entries = perms.entries();
        if (entries.getFirst().domid() == domid) {
            return XsWire.XS_PERM_READ | XsWire.XS_PERM_WRITE;
        }
        for (XsPerm entry : entries.subList(1, entries.size())) {
            if (entry.domid() == domid) {
                return entry.access() & (XsWire.XS_PERM_READ | XsWire.XS_PERM_WRITE);
            }
        }
        return entries.getFirst().access() & (XsWire.XS_PERM_READ | XsWire.XS_PERM_WRITE);
    }
}
