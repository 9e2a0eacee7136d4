package xenshim.xenstore;

import java.io.IOException;
import java.io.Writer;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store daemon: one tree of nodes, its connections (guest rings,
 * socket clients, in-process clients) and the domains introduced to it.
 * Every request is served under one lock, as xenstored serves them on its
 * one thread; replies and watch events are queued per connection in the
 * order they are made.
 */
public final class Xenstored {

    /** The special watch fired when a domain is introduced. */
    public static final String INTRODUCE_DOMAIN = "@introduceDomain";
    /** The special watch fired when a domain is released. */
    public static final String RELEASE_DOMAIN = "@releaseDomain";

    private static final Logger LOG = LoggerFactory.getLogger(Xenstored.class);

    final ReentrantLock lock = new ReentrantLock(true);
    final NodeTree tree = new NodeTree();
    final XsQuotas quotas;
    final NodeOps ops;
    private final Requests requests;
    private final RingMapper mapper;
    private final List<XsConnection> connections = new ArrayList<>();
    private final Map<Integer, RingConnection> domains = new HashMap<>();
    /** The permissions of the special watch paths, dom0's alone at first ({@code XS_SET_PERMS} may change them). */
    final Map<String, XsPerms> special = new HashMap<>(Map.of(
            INTRODUCE_DOMAIN, XsPerms.of(XsPerm.none(0)),
            RELEASE_DOMAIN, XsPerms.of(XsPerm.none(0))));

    /** A store with xenstored's default quotas, which cannot map rings introduced over the wire. */
    public Xenstored() {
        this(XsQuotas.DEFAULTS, RingMapper.NONE);
    }

    public Xenstored(XsQuotas quotas, RingMapper mapper) {
        this.quotas = quotas;
        this.mapper = mapper;
        this.ops = new NodeOps(this, quotas);
        this.requests = new Requests(this);
    }

    /** A new in-process client: dom0, privileged. Close it to drop its watches and transactions. */
    public XsClient client() {
        return new XsClient(this);
    }

    /**
     * Introduces a guest: its ring page ({@code struct
     * xenstore_domain_interface}, 4096 bytes, shared with the running guest)
     * is served from now on, and {@code notify} is run after the store
     * consumed requests or produced replies (send the guest an event on its
     * store channel). Fires {@code @introduceDomain}.
     *
     * @return the connection, whose {@link RingConnection#kick()} the
     *         runtime calls when the guest notifies
     * @throws IllegalStateException if {@code domid} is already introduced
     * @throws IllegalArgumentException if the page is smaller than the interface
     */
    public RingConnection introduce(int domid, MemorySegment ring, Runnable notify) {
        return locked(() -> {
            if (domains.containsKey(domid) || domid == 0) {
                throw new IllegalStateException("domain " + domid + " is already introduced");
            }
            return connect(domid, ring, notify);
        });
    }

    /**
     * Releases a guest as {@code XS_RELEASE} does: its ring is no longer
     * served, its watches and transactions are dropped, the nodes it owns
     * are removed (xenstored without {@code --keep-orphans}), entries naming
     * it in other nodes' permissions are ignored from now on, and
     * {@code @releaseDomain} fires.
     *
     * @throws XsException ENOENT if it is not introduced, EINVAL for dom0
     */
    public void release(int domid) {
        locked(() -> {
            releaseLocked(domid);
            return null;
        });
    }

    /** Whether {@code domid} is introduced (dom0 always is). */
    public boolean isIntroduced(int domid) {
        return locked(() -> domid == 0 || domains.containsKey(domid));
    }

    /**
     * Writes the whole store, one line per node, parents before children in
     * the order children were made:
     * <pre>{@code /local/domain/5/name = "guest"  (n0,r5)}</pre>
     * the absolute path, {@code = }, the value in double quotes, two spaces,
     * the permissions in parentheses ({@code xenstore-ls -f -p}'s form). In
     * values, printable ASCII stands as is except {@code \} and {@code "},
     * which get a backslash; tab, newline and carriage return are
     * {@code \t \n \r}; any other byte is {@code \ooo} in octal.
     */
    public void dump(Writer out) throws IOException {
        lock.lock();
        try {
            tree.dump(out);
        } finally {
            lock.unlock();
        }
        out.flush();
    }

    // ---- package: connections and requests -----------------------------------------

    <T> T locked(Supplier<T> body) {
        lock.lock();
        try {
            return body.get();
        } finally {
            lock.unlock();
        }
    }

    void attach(XsConnection connection) {
        locked(() -> connections.add(connection));
    }

    void detach(XsConnection connection) {
        locked(() -> {
            connection.dropWatchesAndTransactions();
            return connections.remove(connection);
        });
    }

    /** Serves one request of {@code connection}; its reply and any events are sent through the connections. */
    void process(XsConnection connection, XsMessage request) {
        lock.lock();
        try {
            requests.process(connection, request);
        } catch (RuntimeException e) {
            LOG.error("xenstore request of type {} from domain {} failed", request.type(), connection.domid, e);
            connection.send(XsMessage.reply(request, XsWire.XS_ERROR, XsMessage.strings(XsError.EINVAL.name())));
        } finally {
            lock.unlock();
        }
    }

    RingConnection domain(int domid) {
        return domains.get(domid);
    }

    /** Connects a ring under the lock: the connection, its server features, {@code @introduceDomain}. */
    RingConnection connect(int domid, MemorySegment ring, Runnable notify) {
        RingConnection connection = new RingConnection(this, domid, ring, notify);
        domains.put(domid, connection);
        connections.add(connection);
        connection.start();
        fireSpecial(INTRODUCE_DOMAIN);
        return connection;
    }

    /** A ring for a wire introduction, or {@code null}. */
    RingMapper.Ring map(int domid, long gfn, int port) {
        return mapper.map(domid, gfn, port);
    }

    void releaseLocked(int domid) {
        if (domid == 0) {
            throw new XsException(XsError.EINVAL);
        }
        RingConnection connection = domains.remove(domid);
        if (connection == null) {
            throw new XsException(XsError.ENOENT);
        }
        connection.dropWatchesAndTransactions();
        connections.remove(connection);
        connection.close();
        removeOwnedBy(domid);
        fireSpecial(RELEASE_DOMAIN);
    }

    /** {@code domain_tree_remove}: the nodes a released domain owns go, and entries naming it are ignored. */
    private void removeOwnedBy(int domid) {
        XsConnection dom0 = new Dom0();
        List<String> owned = new ArrayList<>();
        for (String name : NodeTree.subtreeBottomUp(tree, XsPath.ROOT).reversed()) {
            Node node = tree.get(name);
            boolean under = owned.stream().anyMatch(root -> XsPath.isAtOrBelow(name, root));
            if (node.perms().owner() == domid && !name.equals(XsPath.ROOT) && !under) {
                owned.add(name);
            } else if (!under) {
                tree.replacePermsQuietly(name, node.perms().ignoring(domid));
            }
        }
        for (String name : owned) {
            ops.removeTree(dom0, tree, name);
        }
    }

    /**
     * {@code fire_watches}: a change of {@code name} fires, on every
     * connection allowed to see it, each watch on the name or (unless
     * {@code exact}) above it. Inside a transaction the event waits for the
     * commit.
     *
     * @param node     the node as it is now (or was, when removed)
     * @param oldPerms the permissions before a change of them, else {@code null}
     */
    void fire(XsConnection origin, String name, Node node, boolean exact, XsPerms oldPerms) {
        if (origin != null && origin.current != null) {
            origin.current.queue(new Transaction.PendingEvent(name, exact, oldPerms != null ? oldPerms
                    : node.perms()));
            return;
        }
        for (XsConnection connection : connections) {
            if (connection.ignored() || connection.watches.isEmpty()
                    || !watchPermitted(connection, name, node, oldPerms)) {
                continue;
            }
            for (Watch watch : connection.watches) {
                if (watch.matches(name, exact)) {
                    sendEvent(connection, watch.eventPath(name), watch.token());
                }
            }
        }
    }

    void fireSpecial(String name) {
        fire(null, name, Node.empty(special.get(name)), true, null);
    }

    /** Sends one watch event; one longer than a payload may be is dropped, as xenstored drops it. */
    static void sendEvent(XsConnection connection, String path, String token) {
        if (path.length() + token.length() + 2 <= XsWire.XENSTORE_PAYLOAD_MAX) {
            connection.send(XsMessage.watchEvent(path, token));
        }
    }

    /**
     * {@code watch_permitted}: the watcher may read the node (or could
     * before its permissions changed), or may read its parent.
     */
    private boolean watchPermitted(XsConnection connection, String name, Node node, XsPerms oldPerms) {
        if (oldPerms != null && NodeOps.canRead(connection, oldPerms)) {
            return true;
        }
        Node seen = node != null ? node : tree.get(name);
        if (seen == null) {
            return false;
        }
        if (NodeOps.canRead(connection, seen.perms())) {
            return true;
        }
        Node parent = tree.get(XsPath.parent(name));
        return parent != null && NodeOps.canRead(connection, parent.perms());
    }

    /** The store itself acting, as dom0, for what it does on its own (removing a released domain's nodes). */
    private static final class Dom0 extends XsConnection {

        Dom0() {
            super(0, true);
        }

        @Override
        void send(XsMessage message) {
            // nothing asked, nothing answered
        }
    }
}
