package xenshim.api;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The bookkeeping behind {@link ForeignFrames}' references, for an implementation to use under its own
 * lock (not thread-safe): how many references each frame has, and which referenced frames have left
 * the physmap and wait for their last {@link #put} before they may be freed.
 */
public final class FrameReferences {

    private final Map<Long, Integer> counts = new HashMap<>();
    private final Set<Long> released = new HashSet<>();

    /** Takes a reference on {@code mfn}. */
    public void get(long mfn) {
        counts.merge(mfn, 1, Integer::sum);
    }

    /**
     * Drops a reference on {@code mfn}.
     *
     * @return whether the page is to be freed now: it left the physmap and this was its last reference
     * @throws IllegalStateException if {@code mfn} has no reference
     */
    public boolean put(long mfn) {
        Integer count = counts.get(mfn);
        if (count == null) {
            throw new IllegalStateException("frame " + mfn + " has no reference to put");
        }
        if (count > 1) {
            counts.put(mfn, count - 1);
            return false;
        }
        counts.remove(mfn);
        return released.remove(mfn);
    }

    /**
     * The page {@code mfn} leaves the physmap ({@code guest_remove_page}).
     *
     * @return whether it may be freed now; if not, a later {@link #put} says when
     */
    public boolean release(long mfn) {
        if (counts.containsKey(mfn)) {
            released.add(mfn);
            return false;
        }
        return true;
    }

    /**
     * Checks that {@code mfn} has a reference, as {@link ForeignFrames#window} requires.
     *
     * @return {@code mfn}
     * @throws IllegalStateException if it has none
     */
    public long requireHeld(long mfn) {
        if (!counts.containsKey(mfn)) {
            throw new IllegalStateException("frame " + mfn + " is not referenced");
        }
        return mfn;
    }

    /** The references on {@code mfn}. */
    public int count(long mfn) {
        return counts.getOrDefault(mfn, 0);
    }
}
