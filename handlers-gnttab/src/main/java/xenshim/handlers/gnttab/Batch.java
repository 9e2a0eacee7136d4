package xenshim.handlers.gnttab;

import xenshim.api.CallContext;

/**
 * The loop of {@code grant_table_op}'s batched sub-ops ({@code count} structs from {@code uop}, one after
 * another): each element is served in turn, and between elements the call may be preempted, as Xen's
 * {@code gnttab_map_grant_ref} and its siblings are, never before the first. A preempted call returns a
 * continuation as {@code do_grant_table_op} encodes it: the same {@code cmd}, {@code uop} advanced past
 * the elements done, and {@code count} less them.
 */
final class Batch {

    /** One element at {@code address}: 0 to go on, or a negative errno that ends the whole call. */
    @FunctionalInterface
    interface Element {
        int serve(CallContext ctx, long address);
    }

    private Batch() {
    }

    /**
     * @param stride the struct's size in the caller's ABI
     * @param chunk  preemption is checked after every {@code chunk} elements (unmaps go in batches of
     *               {@code GNTTAB_UNMAP_BATCH_SIZE}, 32; the others 1)
     */
    static long run(CallContext ctx, int cmd, long uop, int count, long stride, int chunk, Element element,
                    long a3, long a4) {
        for (int i = 0; i < count; i++) {
            if (i > 0 && i % chunk == 0 && ctx.preemptCheck()) {
                return ctx.createContinuation(cmd, uop + i * stride, count - i, a3, a4);
            }
            int rc = element.serve(ctx, uop + i * stride);
            if (rc < 0) {
                return rc;
            }
        }
        return 0;
    }
}
