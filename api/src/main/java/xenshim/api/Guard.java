package xenshim.api;

import xenshim.api.xen.XenErrno;

/**
 * How every caller of a handler turns exceptions into errnos, so that the
 * dispatcher and the testkit's harness agree: a {@link GuestFault} is
 * {@code -XEN_EFAULT} (Xen's answer to a bad guest pointer); any other
 * {@link Exception} a handler throws is {@code -XEN_EIO} and is reported to
 * the listener. So is a negative result that is not a Xen errno (nor a
 * {@link Continuation}): garbage a guest must not see as if Xen had said it.
 *
 * <p>An {@link Error} is not a guest error and is not turned into one: out of
 * memory, a stack overflow, a linkage error from a broken plugin or a failed
 * assertion says the handler (or the JVM) cannot serve this caller. It is
 * reported to the listener and thrown on to the caller, whose job is to stop
 * what it serves: the vCPU loop stops that domain with a report (as Xen
 * crashes a domain it cannot serve), the JVM and the other domains go on, and
 * an in-process backend sees the error itself.
 */
public final class Guard {

    private Guard() {
    }

    public static long call(HypercallHandler handler, int nr, CallContext ctx,
                            long a0, long a1, long a2, long a3, long a4, FailureListener listener) {
        try {
            long result = handler.handle(ctx, a0, a1, a2, a3, a4);
            if (result < 0 && result != Continuation.PENDING && !XenErrno.isErrno(-result)) {
                report(listener, nr, ctx, handler, new IllegalStateException("the handler returned " + result
                        + ", which is neither a value nor -errno of a Xen errno"));
                return -XenErrno.XEN_EIO;
            }
            return result;
        } catch (GuestFault fault) {
            return -XenErrno.XEN_EFAULT;
        } catch (Exception failure) {
            report(listener, nr, ctx, handler, failure);
            return -XenErrno.XEN_EIO;
        } catch (Error error) {
            report(listener, nr, ctx, handler, error);
            throw error;
        }
    }

    private static void report(FailureListener listener, int nr, CallContext ctx, HypercallHandler handler,
                               Throwable failure) {
        try {
            listener.handlerFailed(nr, ctx, handler, failure);
        } catch (Throwable ignored) {
            // a failing listener must not turn into an escaping exception either
        }
    }
}
