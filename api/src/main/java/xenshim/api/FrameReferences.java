package xenshim.api;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The bookkeeping behind {@link ForeignFrames}' references, for frames numbered {@code 0..frames-1}: how
 * many references each frame has, and which referenced frames have left the physmap and wait for their
 * last {@link #put} before they may be freed.
 *
 * <p>Thread-safe and allocation free: one {@code int} a frame, the count and a "released" bit updated
 * together by compare-and-set, so {@link #get} and {@link #put} need no lock of the caller's. Exactly one
 * caller learns that a frame is to be freed: the {@link #release} that finds it unreferenced, or the
 * {@link #put} that drops the last reference of a released frame (which clears the bit as it does).
 *
 * <p>An implementation that takes references without its own lock must check, after {@link #get}, that the
 * frame is still where it looked it up, and {@link #put} the reference back if not: {@link #release} is
 * called after the frame has left the physmap, so a {@code get} that raced with it either comes first
 * (the frame is then released, not freed) or finds the frame gone on that second look.
 */
public final class FrameReferences {

    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(int[].class);
    /** Set while a referenced frame waits, out of the physmap, for its last put. */
    private static final int RELEASED = 1 << 31;
    private static final int COUNT = ~RELEASED;

    private final int[] words;

    /** Frames {@code 0..frames-1}, none referenced. */
    public FrameReferences(int frames) {
        this.words = new int[frames];
    }

    private int word(long mfn) {
        return (int) WORD.getVolatile(words, index(mfn));
    }

    private int index(long mfn) {
        if (mfn < 0 || mfn >= words.length) {
            throw new IllegalStateException("no frame " + mfn);
        }
        return (int) mfn;
    }

    /** Takes a reference on {@code mfn}. */
    public void get(long mfn) {
        int i = index(mfn);
        int word = (int) WORD.getVolatile(words, i);
        for (;;) {
            if ((word & COUNT) == COUNT) {
                throw new IllegalStateException("frame " + mfn + " has too many references");
            }
            int seen = (int) WORD.compareAndExchange(words, i, word, word + 1);
            if (seen == word) {
                return;
            }
            word = seen;
        }
    }

    /**
     * Drops a reference on {@code mfn}.
     *
     * @return whether the page is to be freed now: it left the physmap and this was its last reference
     * @throws IllegalStateException if {@code mfn} has no reference
     */
    public boolean put(long mfn) {
        int i = index(mfn);
        int word = (int) WORD.getVolatile(words, i);
        for (;;) {
            int count = word & COUNT;
            if (count == 0) {
                throw new IllegalStateException("frame " + mfn + " has no reference to put");
            }
            boolean free = count == 1 && (word & RELEASED) != 0;
            int seen = (int) WORD.compareAndExchange(words, i, word, free ? 0 : word - 1);
            if (seen == word) {
                return free;
            }
            word = seen;
        }
    }

    /**
     * The page {@code mfn} leaves the physmap ({@code guest_remove_page}).
     *
     * @return whether it may be freed now; if not, a later {@link #put} says when
     */
    public boolean release(long mfn) {
        int i = index(mfn);
        int word = (int) WORD.getVolatile(words, i);
        for (;;) {
            if ((word & COUNT) == 0) {
                return true;
            }
            int seen = (int) WORD.compareAndExchange(words, i, word, word | RELEASED);
            if (seen == word) {
                return false;
            }
            word = seen;
        }
    }

    /**
     * Checks that {@code mfn} has a reference, as {@link ForeignFrames#window} requires.
     *
     * @return {@code mfn}
     * @throws IllegalStateException if it has none
     */
    public long requireHeld(long mfn) {
        if (mfn < 0 || mfn >= words.length || (word(mfn) & COUNT) == 0) {
            throw new IllegalStateException("frame " + mfn + " is not referenced");
        }
        return mfn;
    }

    /** The references on {@code mfn} (0 for a frame out of range). */
    public int count(long mfn) {
        return mfn < 0 || mfn >= words.length ? 0 : word(mfn) & COUNT;
    }
}
