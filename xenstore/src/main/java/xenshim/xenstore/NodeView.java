package xenshim.xenstore;

/**
 * The nodes a request sees: the store itself, or a transaction's view of
 * it (its own changes over the store).
 */
interface NodeView {

    /**
     * The node at {@code name}, or {@code null}.
     *
     * @throws XsException ENOSPC when a transaction of an unprivileged domain
     *         would touch more nodes than its quota allows
     */
    Node get(String name);

    /** Writes {@code node} at {@code name} (its generation is the view's to set). */
    void put(String name, Node node);

    void remove(String name);

    /** The number of nodes {@code domid} owns, as this view sees them. */
    int entries(int domid);
}
