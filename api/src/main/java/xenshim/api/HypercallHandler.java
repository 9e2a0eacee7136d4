package xenshim.api;

/**
 * The SPI: serves one Xen hypercall number.
 *
 * <p>A handler is found with {@link java.util.ServiceLoader} ({@code provides
 * xenshim.api.HypercallHandler with ...} in its module), and its class says
 * which slot it fills with {@link Hypercall}. The dispatcher reads that
 * annotation before anything is instantiated, then lets Guice construct the
 * handler, so a handler may take platform services in an
 * {@code @jakarta.inject.Inject} constructor.
 *
 * <p>Arguments arrive as the raw register values, as Xen sees them: for a
 * 64-bit caller rdi, rsi, rdx, r10, r8; for a 32-bit (compat) caller ebx,
 * ecx, edx, esi, edi, zero-extended. Every one of them comes from a guest and
 * may be wrong on purpose: check before use.
 *
 * <p>The return value goes to the guest's rax: a result, or a negative Xen
 * errno ({@code -XenErrno.XEN_EINVAL}). A {@link GuestFault} thrown by
 * {@link GuestMemory} becomes {@code -XEN_EFAULT}; any other exception
 * becomes {@code -XEN_EIO} and is logged by the dispatcher.
 *
 * <p>Handlers are code, not state: per-domain state lives in
 * {@link Domain#state(DomainKey)}, so that a handler can be swapped while a
 * guest runs without losing it. Handlers may be called from several vCPU
 * threads at once and must be thread-safe.
 */
@FunctionalInterface
public interface HypercallHandler {

    /**
     * Serves one call.
     *
     * @param ctx who calls, with which ABI and which memory; valid only for
     *            the duration of this call (see {@link CallContext})
     * @return the value for the caller's rax
     */
    long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4);
}
