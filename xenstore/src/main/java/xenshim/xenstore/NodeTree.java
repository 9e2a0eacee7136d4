package xenshim.xenstore;

import java.io.IOException;
import java.io.Writer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The store's nodes, by name, like xenstored's database: each node lists
 * its children, so the tree is walked from {@code /}. Every write stamps
 * the node with a new generation (xenstored's change counter), and the
 * nodes each domain owns are counted for its quota.
 */
final class NodeTree implements NodeView {

    private final Map<String, Node> nodes = new HashMap<>();
    private final Map<Integer, Integer> owned = new HashMap<>();
    private long generation;

    /** The nodes xenstored starts with: {@code /}, {@code /tool}, {@code /tool/xenstored}, dom0's, no access for others. */
    NodeTree() {
        XsPerms dom0 = XsPerms.of(XsPerm.none(0));
        put("/", Node.empty(dom0).withChild("tool"));
        put("/tool", Node.empty(dom0).withChild("xenstored"));
        put("/tool/xenstored", Node.empty(dom0));
    }

    @Override
    public Node get(String name) {
        return nodes.get(name);
    }

    @Override
    public void put(String name, Node node) {
        count(nodes.put(name, node.withGeneration(++generation)), -1);
        count(node, 1);
    }

    @Override
    public void remove(String name) {
        count(nodes.remove(name), -1);
    }

    @Override
    public int entries(int domid) {
        return owned.getOrDefault(domid, 0);
    }

    /** The change counter: the generation of the latest write. */
    long generation() {
        return generation;
    }

    /** Replaces a node's permissions without counting a change (a released domain's entries being ignored). */
    void replacePermsQuietly(String name, XsPerms perms) {
        Node node = nodes.get(name);
        nodes.put(name, node.withPerms(perms));
    }

    /** Every node name below {@code root} and {@code root} itself, children before their parent. */
    static List<String> subtreeBottomUp(NodeView view, String root) {
        List<String> order = new ArrayList<>();
        collect(view, root, order);
        return order;
    }

    private static void collect(NodeView view, String name, List<String> order) {
        Node node = view.get(name);
        if (node == null) {
            return;
        }
        for (String child : node.children()) {
            collect(view, XsPath.child(name, child), order);
        }
        order.add(name);
    }

    private void count(Node node, int delta) {
        if (node != null) {
            owned.merge(node.perms().owner(), delta, Integer::sum);
        }
    }

    /** Writes the store as {@link Xenstored#dump} documents. */
    void dump(Writer out) throws IOException {
        dump(out, XsPath.ROOT);
    }

    private void dump(Writer out, String name) throws IOException {
        Node node = nodes.get(name);
        out.write(name + " = \"" + DumpText.escape(node.value()) + "\"  (" + String.join(",", node.perms().strings())
                + ")\n");
        for (String child : node.children()) {
            dump(out, XsPath.child(name, child));
        }
    }
}
