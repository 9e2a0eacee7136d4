package xenshim.api;

import java.lang.foreign.MemorySegment;

/**
 * A domain's RAM by guest frame number, as another domain (or the hypervisor on its behalf) reaches it:
 * Xen's {@code get_page_from_gfn} / {@code put_page} and {@code map_domain_page}. Attached by the platform
 * to each domain with guest memory.
 *
 * <p>{@link #get} takes a reference on the RAM page now at a frame and names it by a frame number of its
 * own (xenshim's {@code mfn}), which stays valid while the reference is held whatever happens to the
 * frame: a page with references beyond its owner's may leave the domain's physmap (a
 * {@code decrease_reservation}, an {@code add_to_physmap} over it), as on Xen, but it is never handed back
 * for reuse, nor counted out of the domain's pages, before its last {@link #put}. Xen's
 * {@code guest_remove_page} does the same: it succeeds, drops the allocation reference, and the page is
 * freed by the last {@code put_page}.
 *
 * <p>Implementations are thread-safe.
 */
public interface ForeignFrames {

    /** Attached by the platform to each domain with guest memory. */
    DomainKey<ForeignFrames> KEY = DomainKey.attached("foreign frames");

    /** What {@link #get} returns for a frame it cannot reference. */
    long NO_FRAME = -1;

    /** The size of one frame. */
    long PAGE_SIZE = 4096;

    /** A domain with no RAM: every {@link #get} fails. */
    ForeignFrames NONE = new ForeignFrames() {
        @Override
        public long get(long gfn) {
            return NO_FRAME;
        }

        @Override
        public void put(long mfn) {
            throw new IllegalStateException("no frame " + mfn + " is referenced");
        }

        @Override
        public MemorySegment window(long mfn) {
            throw new IllegalStateException("no frame " + mfn + " is referenced");
        }

        @Override
        public int references(long mfn) {
            return 0;
        }
    };

    /**
     * {@code get_page_from_gfn}: takes a reference on the RAM page at {@code gfn}.
     *
     * @return the page's frame number ({@code >= 0}), or {@link #NO_FRAME} for a hole, a frame that is not
     *         RAM (shared_info, a grant-table frame) or one out of range; any {@code gfn} may be asked
     */
    long get(long gfn);

    /**
     * {@code put_page}: drops a reference {@link #get} took; the last one frees a page that has left the
     * physmap meanwhile.
     *
     * @throws IllegalStateException if {@code mfn} holds no reference (a bug in the caller, never a guest's)
     */
    void put(long mfn);

    /**
     * The referenced page's 4 KiB, writable ({@code map_domain_page}). Valid while the reference is held:
     * a caller must not use it after its {@link #put}.
     *
     * @throws IllegalStateException if {@code mfn} holds no reference
     */
    MemorySegment window(long mfn);

    /** The same page, read-only. */
    default MemorySegment readOnlyWindow(long mfn) {
        return window(mfn).asReadOnly();
    }

    /**
     * Copies {@code length} bytes at {@code offset} of referenced frame {@code mfn} to {@code toOffset} of
     * frame {@code toMfn} of {@code to}, referenced too: {@code GNTTABOP_copy}'s {@code memcpy} between two
     * mapped pages. An implementation may copy between its memory and another's directly, with no window.
     *
     * @throws IllegalStateException     if either frame holds no reference
     * @throws IndexOutOfBoundsException if either range runs outside its page
     */
    default void copy(long mfn, int offset, ForeignFrames to, long toMfn, int toOffset, int length) {
        MemorySegment.copy(readOnlyWindow(mfn), offset, to.window(toMfn), toOffset, length);
    }

    /** The references held on frame {@code mfn} beyond its owner's (0 for a frame nobody holds). */
    int references(long mfn);
}
