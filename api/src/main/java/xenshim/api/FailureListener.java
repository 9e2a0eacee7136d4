package xenshim.api;

/** Told when a handler throws something other than a {@link GuestFault}. */
@FunctionalInterface
public interface FailureListener {
    void handlerFailed(int nr, CallContext ctx, HypercallHandler handler, Throwable failure);
}
