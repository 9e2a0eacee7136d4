package xenshim.example.entropy;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;

import java.security.SecureRandom;
import java.util.Objects;
import xenshim.api.CallContext;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.xen.Hypercalls;

/**
 * A paravirtual entropy source on {@code __HYPERVISOR_arch_7} (55): the
 * example of a plugin that fills a slot no built-in handler serves.
 *
 * <h2>The ABI</h2>
 * (also in {@code examples/entropy-plugin/include/xenshim-entropy.h}, which
 * the bundled guest {@code plugin} uses)
 * <pre>
 * long arch_7(unsigned int cmd, void *buffer, unsigned long length);
 * </pre>
 * <ul>
 * <li>{@code cmd} {@link #XENSHIM_ENTROPY_get} (0): writes {@code length}
 *     random bytes, 1 to {@link #XENSHIM_ENTROPY_MAX} (4096), at the guest
 *     address {@code buffer} and returns {@code length}. The bytes come from
 *     a {@link SecureRandom}.</li>
 * <li>any other {@code cmd}: {@code -ENOSYS}. That is Xen's convention for a
 *     sub-op it does not know ({@code do_xen_version},
 *     {@code do_event_channel_op}, {@code do_grant_table_op},
 *     {@code do_sched_op} and {@code do_hvm_op} all end in
 *     {@code default: rc = -ENOSYS}); Xen keeps {@code -EOPNOTSUPP} for an
 *     operation it knows but will not do here (grant tables v2 under
 *     {@code gnttab=max-ver:1}). It is also what an empty slot returns, so a
 *     guest probes for the source with one call, as Linux probes hypercalls.</li>
 * <li>a {@code length} of 0 or above 4096: {@code -EINVAL}, and nothing is
 *     written.</li>
 * <li>a {@code buffer} the caller cannot write (unmapped, read-only, outside
 *     its memory, in part or in whole): {@code -EFAULT}, and nothing is
 *     written ({@link xenshim.api.GuestMemory}'s copies are all or
 *     nothing).</li>
 * </ul>
 * {@code cmd} is an {@code unsigned int}, as Xen's sub-op arguments are in
 * its C prototypes: the upper half of a 64-bit register is not looked at.
 * Nothing in the ABI depends on the caller's word size, so 32-bit (compat)
 * callers use it as 64-bit ones do.
 *
 * <h2>As a plugin</h2>
 * The class depends on {@code xenshim.api} only. The dispatcher reads
 * {@link Hypercall} before it makes anything, then lets Guice construct the
 * handler with its public no-argument constructor (there is no platform
 * service to inject: the module needs no {@code jakarta.inject}); tests pass
 * their own random source to the other constructor. A bad buffer is
 * {@link xenshim.api.GuestFault}, thrown by the write and turned into
 * {@code -EFAULT} by the dispatcher, as for every handler. It keeps no state but a
 * {@link SecureRandom}, which is thread-safe, so vCPUs may call it at once,
 * and a swap that retires it loses nothing.
 */
@Hypercall(Hypercalls.__HYPERVISOR_arch_7)
public final class EntropyHandler implements HypercallHandler {

    /** {@code cmd}: fill {@code buffer} with {@code length} random bytes. */
    public static final int XENSHIM_ENTROPY_get = 0;

    /**
     * The most bytes one call fills: a page, so that one call is bounded work
     * and needs no continuation.
     */
    public static final int XENSHIM_ENTROPY_MAX = 4096;

    private final SecureRandom random;

    /** What the dispatcher (Guice) and a plain {@link java.util.ServiceLoader} use: the platform's default {@link SecureRandom}. */
    public EntropyHandler() {
        this(new SecureRandom());
    }

    /** With the given source: for tests, which mock it. */
    EntropyHandler(SecureRandom random) {
        this.random = Objects.requireNonNull(random);
    }

    @Override
    public long handle(CallContext ctx, long cmd, long buffer, long length, long a3, long a4) {
        if ((int) cmd != XENSHIM_ENTROPY_get) {
            return -XEN_ENOSYS;
        }
        if (length < 1 || length > XENSHIM_ENTROPY_MAX) { // unsigned: a "negative" length is huge
            return -XEN_EINVAL;
        }
        byte[] bytes = new byte[(int) length];
        random.nextBytes(bytes);
        // a bad buffer throws GuestFault, which the dispatcher turns into -EFAULT
        ctx.memory().write(buffer, bytes, 0, bytes.length);
        return length;
    }
}
