package xenshim.xenstore;

import static xenshim.xenstore.XsWire.*;

import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * xenstored's {@code wire_funcs}: what each message type does and what it
 * answers. Types without a function ({@code XS_WATCH_EVENT}, {@code XS_ERROR},
 * the removed 20, anything at or past {@code XS_TYPE_COUNT}) are answered
 * ENOSYS; privileged types from an unprivileged domain EACCES; a
 * transaction id the connection has not open ENOENT. Called under the
 * store's lock.
 */
final class Requests {

    private static final Logger LOG = LoggerFactory.getLogger(Requests.class);
    private static final int DOMID_SELF = xenshim.api.xen.XenDomains.DOMID_SELF;

    @FunctionalInterface
    private interface Handler {
        void handle(XsConnection conn, XsMessage in);
    }

    /** One row of the table: the function, whether it ignores the transaction id, whether it is dom0's alone. */
    private record Row(Handler handler, boolean noTransaction, boolean privileged) {
    }

    private final Xenstored xs;
    private final NodeOps ops;
    private final Row[] table = new Row[XS_TYPE_COUNT];

    Requests(Xenstored xs) {
        this.xs = xs;
        this.ops = xs.ops;
        table[XS_CONTROL] = new Row(this::control, false, true);
        table[XS_DIRECTORY] = new Row(this::directory, false, false);
        table[XS_READ] = new Row(this::read, false, false);
        table[XS_GET_PERMS] = new Row(this::getPerms, false, false);
        table[XS_WATCH] = new Row(this::watch, true, false);
        table[XS_UNWATCH] = new Row(this::unwatch, true, false);
        table[XS_TRANSACTION_START] = new Row(this::transactionStart, false, false);
        table[XS_TRANSACTION_END] = new Row(this::transactionEnd, false, false);
        table[XS_INTRODUCE] = new Row(this::introduce, false, true);
        table[XS_RELEASE] = new Row(this::release, false, true);
        table[XS_GET_DOMAIN_PATH] = new Row(this::getDomainPath, false, false);
        table[XS_WRITE] = new Row(this::write, false, false);
        table[XS_MKDIR] = new Row(this::mkdir, false, false);
        table[XS_RM] = new Row(this::rm, false, false);
        table[XS_SET_PERMS] = new Row(this::setPerms, false, false);
        table[XS_IS_DOMAIN_INTRODUCED] = new Row(this::isDomainIntroduced, false, true);
        table[XS_RESUME] = new Row(this::resume, false, true);
        table[XS_SET_TARGET] = new Row(this::setTarget, false, true);
        table[XS_RESET_WATCHES] = new Row(this::resetWatches, false, false);
        table[XS_DIRECTORY_PART] = new Row(this::directoryPart, false, false);
    }

    /** {@code process_message}: serves {@code in} and sends its reply (an {@code XS_ERROR} on failure). */
    void process(XsConnection conn, XsMessage in) {
        try {
            int type = in.type();
            Row row = type >= 0 && type < table.length ? table[type] : null;
            if (row == null) {
                LOG.debug("domain {}: unknown operation {}", conn.domid, Integer.toUnsignedString(type));
                throw new XsException(XsError.ENOSYS);
            }
            if (row.privileged && !conn.privileged) {
                throw new XsException(XsError.EACCES);
            }
            conn.current = row.noTransaction ? null : conn.transaction(in.txId());
            row.handler.handle(conn, in);
        } catch (XsException e) {
            error(conn, in, e.error());
        } finally {
            conn.current = null;
        }
    }

    // ---- replies -------------------------------------------------------------------------

    /** {@code send_reply}: a payload over {@code XENSTORE_PAYLOAD_MAX} becomes E2BIG. */
    private static void reply(XsConnection conn, XsMessage in, byte[] payload) {
        if (payload.length > XENSTORE_PAYLOAD_MAX) {
            error(conn, in, XsError.E2BIG);
            return;
        }
        conn.send(XsMessage.reply(in, in.type(), payload));
    }

    private static void reply(XsConnection conn, XsMessage in, String text) {
        reply(conn, in, XsMessage.strings(text));
    }

    private static void ack(XsConnection conn, XsMessage in) {
        reply(conn, in, "OK");
    }

    private static void error(XsConnection conn, XsMessage in, XsError error) {
        conn.send(XsMessage.reply(in, XS_ERROR, XsMessage.strings(error.name())));
    }

    // ---- nodes -----------------------------------------------------------------------------

    private NodeView view(XsConnection conn) {
        return conn.current != null ? conn.current : xs.tree;
    }

    /** The request's one argument made absolute ({@code canonicalize}); {@code null} if it has not exactly one. */
    private static String oneName(XsConnection conn, XsMessage in) {
        return XsPath.canonical(conn.home(), in.oneArg());
    }

    private void read(XsConnection conn, XsMessage in) {
        reply(conn, in, ops.read(conn, view(conn), oneName(conn, in)));
    }

    private void directory(XsConnection conn, XsMessage in) {
        reply(conn, in, ops.directory(conn, view(conn), oneName(conn, in)).childList());
    }

    /**
     * {@code send_directory_part}: the node's generation and NUL, then as many
     * child names from byte {@code offset} of its list as fit; an empty
     * string marks the end of the list.
     */
    private void directoryPart(XsConnection conn, XsMessage in) {
        if (in.countStrings() != 2) {
            throw new XsException(XsError.EINVAL);
        }
        List<String> args = in.strings();
        Node node = ops.directory(conn, view(conn), XsPath.canonical(conn.home(), args.get(0)));
        int offset = CNumber.atoi(args.get(1));
        byte[] children = node.childList();
        byte[] generation = XsMessage.strings(Long.toUnsignedString(node.generation()));
        if (offset < 0 || offset >= children.length) {
            reply(conn, in, Arrays.copyOf(generation, generation.length + 1));
            return;
        }
        int max = XENSTORE_PAYLOAD_MAX - generation.length - 1;
        int length = 0;
        while (length + nameLength(children, offset + length) < max) {
            length += nameLength(children, offset + length) + 1;
            if (offset + length == children.length) {
                break;
            }
        }
        boolean end = offset + length == children.length;
        byte[] data = Arrays.copyOf(generation, generation.length + length + (end ? 1 : 0));
        System.arraycopy(children, offset, data, generation.length, length);
        reply(conn, in, data);
    }

    private static int nameLength(byte[] list, int from) {
        int end = from;
        while (list[end] != 0) {
            end++;
        }
        return end - from;
    }

    private void getPerms(XsConnection conn, XsMessage in) {
        reply(conn, in, XsMessage.strings(ops.perms(conn, view(conn), oneName(conn, in)).strings()));
    }

    /** {@code do_write}: the name, a NUL, then the value (which may hold NULs). */
    private void write(XsConnection conn, XsMessage in) {
        if (in.countStrings() < 1) {
            throw new XsException(XsError.EINVAL);
        }
        String arg = in.strings().getFirst();
        byte[] payload = in.payload();
        byte[] value = Arrays.copyOfRange(payload, arg.length() + 1, payload.length);
        ops.write(conn, view(conn), XsPath.canonical(conn.home(), arg), value);
        ack(conn, in);
    }

    private void mkdir(XsConnection conn, XsMessage in) {
        ops.mkdir(conn, view(conn), oneName(conn, in));
        ack(conn, in);
    }

    private void rm(XsConnection conn, XsMessage in) {
        ops.rm(conn, view(conn), oneName(conn, in));
        ack(conn, in);
    }

    /** {@code do_set_perms}: the name, then one string per entry (owner first). */
    private void setPerms(XsConnection conn, XsMessage in) {
        int count = in.countStrings();
        if (count < 2) {
            throw new XsException(XsError.EINVAL);
        }
        if (!conn.privileged && count - 1 > xs.quotas.permsPerNode()) {
            throw new XsException(XsError.ENOSPC);
        }
        List<String> args = in.strings();
        XsPerms perms = XsPerms.parse(args.subList(1, args.size()));
        String name = args.getFirst();
        if (name.startsWith("@")) {
            setSpecialPerms(conn, name, perms);
        } else {
            ops.setPerms(conn, view(conn), XsPath.canonical(conn.home(), name), perms);
        }
        ack(conn, in);
    }

    private void setSpecialPerms(XsConnection conn, String name, XsPerms perms) {
        XsPerms old = xs.special.get(name);
        if (old == null) {
            throw new XsException(XsError.ENOENT);
        }
        int needed = XS_PERM_WRITE | XS_PERM_OWNER;
        if ((NodeOps.permFor(conn, old) & needed) != needed) {
            throw new XsException(XsError.EACCES);
        }
        xs.special.put(name, perms);
    }

    // ---- watches -------------------------------------------------------------------------

    /**
     * {@code do_watch}: path and token. Acknowledged, then fired once at
     * once (the path as given, whatever the watcher may read).
     */
    private void watch(XsConnection conn, XsMessage in) {
        List<String> args = in.strings();
        if (args.size() != 2) {
            throw new XsException(XsError.EINVAL);
        }
        Watch watch = newWatch(conn, args.get(0), args.get(1));
        for (Watch existing : conn.watches) {
            if (existing.node().equals(watch.node()) && existing.token().equals(watch.token())) {
                throw new XsException(XsError.EEXIST);
            }
        }
        if (!conn.privileged && conn.watches.size() > xs.quotas.watches()) {
            throw new XsException(XsError.E2BIG);
        }
        conn.watches.add(watch);
        ack(conn, in);
        Xenstored.sendEvent(conn, watch.eventPath(watch.node()), watch.token());
    }

    /** {@code check_watch_path}: a special {@code @} name up to REL_PATH_MAX, or a valid node name. */
    private static Watch newWatch(XsConnection conn, String path, String token) {
        if (path.startsWith("@")) {
            if (path.length() > XENSTORE_REL_PATH_MAX) {
                throw new XsException(XsError.EINVAL);
            }
            return new Watch(path, token, null);
        }
        boolean relative = !path.startsWith("/");
        String name = XsPath.canonical(conn.home(), path);
        if (!XsPath.isValid(name)) {
            throw new XsException(XsError.EINVAL);
        }
        return new Watch(name, token, relative ? conn.home() : null);
    }

    private void unwatch(XsConnection conn, XsMessage in) {
        List<String> args = in.strings();
        if (args.size() != 2) {
            throw new XsException(XsError.EINVAL);
        }
        String name = XsPath.canonical(conn.home(), args.get(0));
        boolean removed = conn.watches.removeIf(watch -> watch.node().equals(name)
                && watch.token().equals(args.get(1)));
        if (!removed) {
            throw new XsException(XsError.ENOENT);
        }
        ack(conn, in);
    }

    private void resetWatches(XsConnection conn, XsMessage in) {
        conn.dropWatchesAndTransactions();
        ack(conn, in);
    }

    // ---- transactions ------------------------------------------------------------------

    private void transactionStart(XsConnection conn, XsMessage in) {
        if (conn.current != null) {
            throw new XsException(XsError.EBUSY);
        }
        if (!conn.privileged && conn.transactions.size() > xs.quotas.transactions()) {
            throw new XsException(XsError.ENOSPC);
        }
        int id = conn.newTransactionId();
        int limit = conn.privileged ? Integer.MAX_VALUE : xs.quotas.transactionNodes();
        conn.transactions.put(id, new Transaction(id, xs.tree, limit));
        reply(conn, in, Integer.toUnsignedString(id));
    }

    private void transactionEnd(XsConnection conn, XsMessage in) {
        String arg = in.oneArg();
        if (!"T".equals(arg) && !"F".equals(arg)) {
            throw new XsException(XsError.EINVAL);
        }
        Transaction transaction = conn.current;
        if (transaction == null) {
            throw new XsException(XsError.ENOENT);
        }
        conn.transactions.remove(transaction.id());
        conn.current = null;
        if (arg.equals("T")) {
            for (Transaction.PendingEvent event : transaction.commit()) {
                xs.fire(conn, event.name(), null, event.exact(), event.perms());
            }
        }
        ack(conn, in);
    }

    // ---- domains -----------------------------------------------------------------------

    private void getDomainPath(XsConnection conn, XsMessage in) {
        String arg = in.oneArg();
        if (arg == null) {
            throw new XsException(XsError.EINVAL);
        }
        reply(conn, in, XsPath.domainPath(CNumber.atoi(arg)));
    }

    private void isDomainIntroduced(XsConnection conn, XsMessage in) {
        String arg = in.oneArg();
        if (arg == null) {
            throw new XsException(XsError.EINVAL);
        }
        int domid = CNumber.atoi(arg);
        boolean introduced = domid == DOMID_SELF || domid == 0 || xs.domain(domid) != null;
        reply(conn, in, introduced ? "T" : "F");
    }

    /**
     * {@code do_introduce}: domain id, ring frame, event channel. A domain
     * already introduced is acknowledged again (its ring indexes reset, as
     * {@code domain_conn_reset} does); a new one needs its ring mapped.
     */
    private void introduce(XsConnection conn, XsMessage in) {
        List<String> args = in.strings();
        if (args.size() < 3) {
            throw new XsException(XsError.EINVAL);
        }
        int domid = CNumber.atoi(args.get(0));
        int port = CNumber.atoi(args.get(2));
        if (port <= 0) {
            throw new XsException(XsError.EINVAL);
        }
        RingConnection known = xs.domain(domid);
        if (known != null) {
            known.reset();
        } else if (domid != 0) {
            Long gfn = CNumber.strtol(args.get(1));
            RingMapper.Ring ring = xs.map(domid, gfn == null ? 0 : gfn, port);
            if (ring == null) {
                throw new XsException(XsError.EINVAL);
            }
            xs.connect(domid, ring.page(), ring.notifier());
        }
        ack(conn, in);
    }

    /** {@code onearg_domain}: an introduced domain other than dom0 (EINVAL for dom0 or no argument, else ENOENT). */
    private RingConnection oneDomain(XsMessage in) {
        String arg = in.oneArg();
        if (arg == null) {
            throw new XsException(XsError.EINVAL);
        }
        return introducedDomain(CNumber.atoi(arg));
    }

    private RingConnection introducedDomain(int domid) {
        if (domid == 0) {
            throw new XsException(XsError.EINVAL);
        }
        RingConnection domain = xs.domain(domid);
        if (domain == null) {
            throw new XsException(XsError.ENOENT);
        }
        return domain;
    }

    private void release(XsConnection conn, XsMessage in) {
        RingConnection domain = oneDomain(in);
        xs.releaseLocked(domain.domid);
        ack(conn, in);
    }

    private void resume(XsConnection conn, XsMessage in) {
        oneDomain(in);
        ack(conn, in);
    }

    /** {@code do_set_target}: domain id, then the domain it acts for (a device model stub domain's guest). */
    private void setTarget(XsConnection conn, XsMessage in) {
        List<String> args = in.strings();
        if (args.size() != 2) {
            throw new XsException(XsError.EINVAL);
        }
        RingConnection domain = introducedDomain(CNumber.atoi(args.get(0)));
        RingConnection target = introducedDomain(CNumber.atoi(args.get(1)));
        domain.target = target.domid;
        ack(conn, in);
    }

    // ---- control -----------------------------------------------------------------------

    /** {@code do_control}, the commands that need no daemon internals: check, print, help. */
    private void control(XsConnection conn, XsMessage in) {
        if (in.countStrings() < 1) {
            throw new XsException(XsError.EINVAL);
        }
        List<String> args = in.strings();
        switch (args.getFirst()) {
            case "check" -> ack(conn, in);
            case "print" -> {
                if (args.size() != 2) {
                    throw new XsException(XsError.EINVAL);
                }
                LOG.info("control: {}", args.get(1));
                ack(conn, in);
            }
            case "help" -> reply(conn, in, "Valid commands:\ncheck\nhelp\nprint <string>\n");
            default -> throw new XsException(XsError.EINVAL);
        }
    }
}
