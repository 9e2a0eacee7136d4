package xenshim.xenstore;

import java.util.ArrayList;
import java.util.List;

/**
 * One node as the store keeps it, immutable: value, permissions, the names
 * of its children in the order they were made, and its generation (the
 * store's change count when it was last written; what transactions compare).
 */
record Node(byte[] value, XsPerms perms, List<String> children, long generation) {

    /** The size of xenstored's record header ({@code struct xs_tdb_record_hdr}), counted in a node's size. */
    static final int RECORD_HEADER = 24;
    /** The size of one {@code struct xs_permissions}. */
    static final int PERM_SIZE = 8;

    /** A generation for "no node": what a transaction records for a name it found absent. */
    static final long NO_GENERATION = -1;

    Node {
        children = List.copyOf(children);
    }

    static Node empty(XsPerms perms) {
        return new Node(new byte[0], perms, List.of(), NO_GENERATION);
    }

    Node withValue(byte[] newValue) {
        return new Node(newValue, perms, children, generation);
    }

    Node withPerms(XsPerms newPerms) {
        return new Node(value, newPerms, children, generation);
    }

    Node withChild(String name) {
        List<String> more = new ArrayList<>(children);
        more.add(name);
        return new Node(value, perms, more, generation);
    }

    Node withoutChild(String name) {
        List<String> fewer = new ArrayList<>(children);
        fewer.remove(name);
        return new Node(value, perms, fewer, generation);
    }

    Node withGeneration(long newGeneration) {
        return new Node(value, perms, children, newGeneration);
    }

    /** The children as {@code XS_DIRECTORY} sends them: each name and a NUL. */
    byte[] childList() {
        return XsMessage.strings(children);
    }

    /** The record size xenstored checks against its entry-size quota. */
    int recordSize() {
        int childLength = 0;
        for (String child : children) {
            childLength += child.length() + 1;
        }
        return RECORD_HEADER + PERM_SIZE * perms.entries().size() + value.length + childLength;
    }
}
