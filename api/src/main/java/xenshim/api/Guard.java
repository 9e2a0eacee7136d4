package xenshim.api;

import xenshim.api.xen.XenErrno;

/**
 * How every caller of a handler turns exceptions into errnos, so that the
 * dispatcher and the testkit's harness agree: a {@link GuestFault} is
 * {@code -XEN_EFAULT} (Xen's answer to a bad guest pointer); anything else a
 * handler throws is {@code -XEN_EIO} and is reported to the listener. Nothing
 * is thrown to the caller.
 */
public final class Guard {

    private Guard() {
    }

    public static long call(HypercallHandler handler, int nr, CallContext ctx,
                            long a0, long a1, long a2, long a3, long a4, FailureListener listener) {
        try {
            return handler.handle(ctx, a0, a1, a2, a3, a4);
        } catch (GuestFault fault) {
            return -XenErrno.XEN_EFAULT;
        } catch (Throwable failure) {
            try {
                listener.handlerFailed(nr, ctx, handler, failure);
            } catch (Throwable ignored) {
                // a failing listener must not turn into an escaping exception either
            }
            return -XenErrno.XEN_EIO;
        }
    }
}
