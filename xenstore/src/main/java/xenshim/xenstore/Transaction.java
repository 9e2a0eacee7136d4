package xenshim.xenstore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An open transaction: its own changes over the store, the generation of
 * every node it touched (read or written, present or absent) when it first
 * touched it, and the watch events its changes will fire. It commits only
 * if none of those nodes changed meanwhile; else its end is answered EAGAIN,
 * as in C xenstored.
 */
final class Transaction implements NodeView {

    /** A watch event held until commit, with the permissions the node had when it changed. */
    record PendingEvent(String name, boolean exact, XsPerms perms) {
    }

    private final int id;
    private final NodeTree tree;
    private final int nodeLimit;
    private final long generation;
    /** Name to new node, or to {@code null} where the transaction removed it. */
    private final Map<String, Node> changes = new LinkedHashMap<>();
    private final Map<String, Long> seen = new HashMap<>();
    private final Map<Integer, Integer> ownedDelta = new HashMap<>();
    private final List<PendingEvent> events = new ArrayList<>();

    /**
     * @param nodeLimit how many nodes it may touch ({@code Integer.MAX_VALUE} for a privileged connection)
     */
    Transaction(int id, NodeTree tree, int nodeLimit) {
        this.id = id;
        this.tree = tree;
        this.nodeLimit = nodeLimit;
        this.generation = tree.generation();
    }

    int id() {
        return id;
    }

    @Override
    public Node get(String name) {
        touch(name);
        return changes.containsKey(name) ? changes.get(name) : tree.get(name);
    }

    @Override
    public void put(String name, Node node) {
        change(name, node.withGeneration(generation));
    }

    @Override
    public void remove(String name) {
        change(name, null);
    }

    @Override
    public int entries(int domid) {
        return tree.entries(domid) + ownedDelta.getOrDefault(domid, 0);
    }

    void queue(PendingEvent event) {
        events.add(event);
    }

    /**
     * Applies the changes to the store if no node the transaction touched
     * changed since.
     *
     * @return the watch events to fire now
     * @throws XsException EAGAIN if one did
     */
    List<PendingEvent> commit() {
        for (Map.Entry<String, Long> touched : seen.entrySet()) {
            Node now = tree.get(touched.getKey());
            long current = now == null ? Node.NO_GENERATION : now.generation();
            if (current != touched.getValue()) {
                throw new XsException(XsError.EAGAIN);
            }
        }
        changes.forEach((name, node) -> {
            if (node == null) {
                tree.remove(name);
            } else {
                tree.put(name, node);
            }
        });
        return events;
    }

    private void change(String name, Node node) {
        Node old = get(name);
        if (old != null) {
            ownedDelta.merge(old.perms().owner(), -1, Integer::sum);
        }
        if (node != null) {
            ownedDelta.merge(node.perms().owner(), 1, Integer::sum);
        }
        changes.put(name, node);
    }

    private void touch(String name) {
        if (seen.containsKey(name)) {
            return;
        }
        if (seen.size() >= nodeLimit) {
            throw new XsException(XsError.ENOSPC);
        }
        Node node = tree.get(name);
        seen.put(name, node == null ? Node.NO_GENERATION : node.generation());
    }
}
