package xenshim.dispatcher;

import xenshim.api.CallContext;

/**
 * What a {@link HypercallPage} calls around every entry while one is set
 * ({@link HypercallPage#tap(CallTap)}): the hook of {@code xenshim run --record}
 * ({@link xenshim.dispatcher.record.HypercallRecorder}). With none set, as by default, a call
 * reads one null field and nothing else, as with fault injection.
 *
 * <p>A tap sees each entry of the page, a preempted call's entries one by one, and the
 * calls fault injection failed, which never reach a table.
 */
public interface CallTap {

    /**
     * One entry of hypercall {@code nr}, about to go into the installed table. The tap must
     * call {@code entry} exactly once, on the calling thread, and return what it returns; the
     * context it passes may wrap {@code ctx} (to see the memory the handler reads and writes),
     * and the handler sees that context. Whatever {@code entry} throws (a JVM {@link Error})
     * the tap throws on.
     */
    long call(CallContext ctx, long nr, long a0, long a1, long a2, long a3, long a4, Entry entry);

    /** An entry that fault injection failed with {@code result} ({@code -errno}) before it reached a table. */
    void faulted(CallContext ctx, long nr, long a0, long a1, long a2, long a3, long a4, long result);

    /** The rest of an entry: the table, with the context the handler is to see. */
    @FunctionalInterface
    interface Entry {
        long enter(CallContext ctx);
    }
}
