package xenshim.xenstore;

import static xenshim.xenstore.XsWire.XS_PERM_IGNORE;

import java.util.ArrayList;
import java.util.List;

/**
 * A node's permissions: the first entry is the owner and the default for
 * every domain not named; later entries give named domains their access.
 * Shown as {@code xenstore-ls -p} and {@code xenstore-chmod} write them:
 * {@code n0 r5 b7}.
 */
public record XsPerms(List<XsPerm> entries) {

    public XsPerms {
        entries = List.copyOf(entries);
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("a node has at least its owner's entry");
        }
    }

    public static XsPerms of(XsPerm owner, XsPerm... others) {
        List<XsPerm> entries = new ArrayList<>(List.of(owner));
        entries.addAll(List.of(others));
        return new XsPerms(entries);
    }

    /** The owner's domain id. */
    public int owner() {
        return entries.getFirst().domid();
    }

    /** The same list with another owner (the default access kept). */
    XsPerms withOwner(int domid) {
        List<XsPerm> copy = new ArrayList<>(entries);
        copy.set(0, new XsPerm(domid, entries.getFirst().access()));
        return new XsPerms(copy);
    }

    /** The same list with every later entry naming {@code domid} ignored ({@code XS_PERM_IGNORE}). */
    XsPerms ignoring(int domid) {
        List<XsPerm> copy = new ArrayList<>(entries);
        for (int i = 1; i < copy.size(); i++) {
            XsPerm perm = copy.get(i);
            if (perm.domid() == domid) {
                copy.set(i, new XsPerm(domid, perm.access() | XS_PERM_IGNORE));
            }
        }
        return new XsPerms(copy);
    }

    /** Each entry as its string, for {@code XS_GET_PERMS}. */
    List<String> strings() {
        return entries.stream().map(XsPerm::toString).toList();
    }

    /**
     * Parses {@code xenstore-chmod}'s strings ({@code n0}, {@code r5}, ...).
     *
     * @throws XsException EINVAL for a malformed entry
     */
    public static XsPerms parse(List<String> strings) {
        List<XsPerm> entries = new ArrayList<>();
        for (String text : strings) {
            XsPerm perm = XsPerm.parse(text);
            if (perm == null) {
                throw new XsException(XsError.EINVAL);
            }
            entries.add(perm);
        }
        if (entries.isEmpty()) {
            throw new XsException(XsError.EINVAL);
        }
        return new XsPerms(entries);
    }

    @Override
    public String toString() {
        return String.join(" ", strings());
    }
}
