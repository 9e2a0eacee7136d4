package xenshim.xenstore;

/**
 * The limits xenstored puts on an unprivileged domain (dom0 has none), with
 * C xenstored's defaults and its comparisons: a domain may own
 * {@code nodes} nodes, hold one watch more than {@code watches} and one
 * transaction more than {@code transactions} (xenstored tests with
 * {@code >}), write a node whose record is under {@code entrySize} bytes,
 * give a node at most {@code permsPerNode} entries, touch
 * {@code transactionNodes} nodes in one transaction, and have
 * {@code outstanding} replies unread before its ring is read no further.
 * Its queued watch events are dropped past {@code eventBytes}.
 */
public record XsQuotas(int nodes, int watches, int transactions, int entrySize, int permsPerNode,
        int transactionNodes, int outstanding, int eventBytes) {

    /** xenstored's defaults: -E 1000, -W 128, -t 10, -S 2048, -A 5, transaction-nodes 1024, outstanding 20. */
    public static final XsQuotas DEFAULTS = new XsQuotas(1000, 128, 10, 2048, 5, 1024, 20, 1024 * 1024);
}
