package xenshim.xenstore;

import static xenshim.xenstore.XsWire.XS_PERM_OWNER;
import static xenshim.xenstore.XsWire.XS_PERM_READ;
import static xenshim.xenstore.XsWire.XS_PERM_WRITE;

import java.util.ArrayList;
import java.util.List;

/**
 * The node requests on a view of the store, with xenstored's permission
 * rules: who may read, write or own a node, what an unprivileged domain may
 * learn of a node it cannot see, what new nodes inherit, and the node and
 * size quotas. Watch events go through {@link Xenstored#fire}.
 */
final class NodeOps {

    private static final int ALL = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

    private final Xenstored xs;
    private final XsQuotas quotas;

    NodeOps(Xenstored xs, XsQuotas quotas) {
        this.xs = xs;
        this.quotas = quotas;
    }

    /**
     * {@code perm_for_conn}: everything for a privileged connection and the
     * owner (or the domain it is the target of); else the first later entry
     * naming the domain, else the owner's entry, the default.
     */
    static int permFor(XsConnection conn, XsPerms perms) {
        int owner = perms.owner();
        if (conn.privileged || owner == conn.domid || (conn.target >= 0 && owner == conn.target)) {
            return ALL;
        }
        List<XsPerm> entries = perms.entries();
        for (int i = 1; i < entries.size(); i++) {
            XsPerm entry = entries.get(i);
            if (!entry.ignored() && (entry.domid() == conn.domid || (conn.target >= 0 && entry.domid() == conn.target))) {
                return entry.access() & ALL;
            }
        }
        return entries.getFirst().access() & ALL;
    }

    static boolean canRead(XsConnection conn, XsPerms perms) {
        return (permFor(conn, perms) & XS_PERM_READ) != 0;
    }

    /**
     * {@code get_node}: the node at the absolute {@code name} if the
     * connection has {@code perm} on it.
     *
     * @throws XsException EINVAL for an invalid name; EACCES, or ENOENT where
     *         the nearest existing parent grants some of {@code perm}
     *         ({@code errno_from_parents}: a domain learns nothing of nodes
     *         it cannot reach)
     */
    Node get(XsConnection conn, NodeView view, String name, int perm) {
        if (name == null || !XsPath.isValid(name)) {
            throw new XsException(XsError.EINVAL);
        }
        Node node = view.get(name);
        XsError error = XsError.ENOENT;
        if (node != null) {
            if ((permFor(conn, node.perms()) & perm) == perm) {
                return node;
            }
            error = XsError.EACCES;
        }
        Node parent = nearestParent(view, name);
        boolean parentAllows = parent != null && (permFor(conn, parent.perms()) & perm) != 0;
        throw new XsException(parentAllows ? error : XsError.EACCES);
    }

    byte[] read(XsConnection conn, NodeView view, String name) {
        return get(conn, view, name, XS_PERM_READ).value();
    }

    Node directory(XsConnection conn, NodeView view, String name) {
        return get(conn, view, name, XS_PERM_READ);
    }

    XsPerms perms(XsConnection conn, NodeView view, String name) {
        return get(conn, view, name, XS_PERM_READ).perms();
    }

    /** {@code do_write}: replaces the value, or creates the node and any missing parents. */
    void write(XsConnection conn, NodeView view, String name, byte[] value) {
        Node node = find(conn, view, name, XS_PERM_WRITE);
        if (node == null) {
            node = create(conn, view, name, value);
        } else {
            node = node.withValue(value);
            checkSize(conn, node);
            view.put(name, node);
        }
        xs.fire(conn, name, node, false, null);
    }

    /** {@code do_mkdir}: creates the node if it is missing; an existing one is fine, and fires nothing. */
    void mkdir(XsConnection conn, NodeView view, String name) {
        if (find(conn, view, name, XS_PERM_WRITE) == null) {
            Node node = create(conn, view, name, new byte[0]);
            xs.fire(conn, name, node, false, null);
        }
    }

    /**
     * {@code do_rm}: removes the node and everything below it. A missing
     * node whose parent exists is fine; {@code /} cannot go (EINVAL). Each
     * node removed fires the watches on it, the watches on and above the
     * named node fire once.
     */
    void rm(XsConnection conn, NodeView view, String name) {
        Node node = find(conn, view, name, XS_PERM_WRITE);
        if (node == null) {
            if (view.get(XsPath.parent(name)) == null) {
                throw new XsException(XsError.ENOENT);
            }
            return;
        }
        if (name.equals(XsPath.ROOT)) {
            throw new XsException(XsError.EINVAL);
        }
        removeTree(conn, view, name);
    }

    /** Removes {@code name} and its subtree, firing as {@code rm} does; the caller has checked access. */
    void removeTree(XsConnection conn, NodeView view, String name) {
        for (String gone : NodeTree.subtreeBottomUp(view, name)) {
            Node node = view.get(gone);
            view.remove(gone);
            xs.fire(conn, gone, node, !gone.equals(name), null);
        }
        String parentName = XsPath.parent(name);
        Node parent = view.get(parentName);
        view.put(parentName, parent.withoutChild(XsPath.basename(name)));
    }

    /**
     * {@code do_set_perms} on a node: needs write and owner access; an
     * unprivileged domain may not give the node away (EPERM).
     */
    void setPerms(XsConnection conn, NodeView view, String name, XsPerms perms) {
        Node node = get(conn, view, name, XS_PERM_WRITE | XS_PERM_OWNER);
        if (!conn.privileged && perms.owner() != node.perms().owner()) {
            throw new XsException(XsError.EPERM);
        }
        XsPerms old = node.perms();
        Node changed = node.withPerms(perms);
        checkSize(conn, changed);
        view.put(name, changed);
        xs.fire(conn, name, changed, false, old);
    }

    /** The node if it exists and the connection has {@code perm}; {@code null} if it is missing and may be made. */
    private Node find(XsConnection conn, NodeView view, String name, int perm) {
        try {
            return get(conn, view, name, perm);
        } catch (XsException e) {
            if (e.error() == XsError.ENOENT) {
                return null;
            }
            throw e;
        }
    }

    /**
     * {@code create_node}: makes the node and its missing parents, each
     * inheriting its parent's permissions, owned by the creating domain if it
     * is unprivileged. Checked whole before anything is written: the node
     * quota (ENOSPC) and every written record's size (ENOSPC).
     */
    private Node create(XsConnection conn, NodeView view, String name, byte[] value) {
        List<String> missing = new ArrayList<>();
        String at = name;
        Node parent;
        do {
            missing.add(at);
            at = XsPath.parent(at);
            parent = view.get(at);
        } while (parent == null && !at.equals(XsPath.ROOT));
        if (parent == null) {
            throw new XsException(XsError.EIO);
        }
        if (!conn.privileged && view.entries(conn.domid) + missing.size() > quotas.nodes()) {
            throw new XsException(XsError.ENOSPC);
        }
        List<Node> made = new ArrayList<>();
        String parentName = at;
        Node above = parent;
        for (String child : missing.reversed()) {
            XsPerms perms = conn.privileged ? above.perms() : above.perms().withOwner(conn.domid);
            above = above.withChild(XsPath.basename(child));
            checkSize(conn, above);
            made.add(above);
            above = Node.empty(perms);
        }
        Node node = above.withValue(value);
        checkSize(conn, node);
        made.add(node);
        view.put(parentName, made.getFirst());
        for (int i = 0; i < missing.size(); i++) {
            view.put(missing.get(missing.size() - 1 - i), made.get(i + 1));
        }
        return node;
    }

    private void checkSize(XsConnection conn, Node node) {
        if (!conn.privileged && node.recordSize() >= quotas.entrySize()) {
            throw new XsException(XsError.ENOSPC);
        }
    }

    /** The nearest existing node above {@code name} ({@code ask_parents}), or {@code null}. */
    private static Node nearestParent(NodeView view, String name) {
        String at = name;
        do {
            at = XsPath.parent(at);
            Node node = view.get(at);
            if (node != null) {
                return node;
            }
        } while (!at.equals(XsPath.ROOT));
        return null;
    }
}
