package xenshim.handlers.console;

import static xenshim.api.xen.XenErrno.XEN_E2BIG;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;

import jakarta.inject.Inject;
import java.util.Objects;
import xenshim.api.ConsoleText;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;
import xenshim.api.GuestMemory;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenConsole;

/**
 * {@code console_io(unsigned int cmd, unsigned int count, char *buffer)}, as
 * Xen 4.17's {@code do_console_io} serves it in a <em>debug</em> build
 * ({@code CONFIG_VERBOSE_DEBUG}) with the dummy XSM policy. The same code
 * serves both ABIs: {@code cmd} and {@code count} are 32-bit.
 *
 * <ul>
 * <li>XSM ({@code xsm_console_io}) runs before the cmd switch: a privileged
 *     domain may use every cmd; any other domain may use
 *     {@code CONSOLEIO_write} only, and gets {@code -EPERM} for
 *     {@code CONSOLEIO_read} and for unknown cmds.</li>
 * <li>{@code CONSOLEIO_write} ({@code guest_console_write}): {@code count}
 *     bytes copied in chunks of at most 127 (Xen's 128-byte {@code kbuf} with
 *     its NUL); a chunk that cannot be read is {@code -EFAULT}, after the
 *     earlier chunks were written. A privileged domain's bytes go out raw;
 *     an unprivileged domain's keep only printable characters, {@code '\t'}
 *     and {@code '\n'} (see {@link ConsoleText}). Each chunk goes to the
 *     injected {@link GuestConsole}. Returns 0, not the byte count.
 *     An unprivileged domain's call stops after {@link #DOMU_WRITE_LIMIT}
 *     bytes (see below).</li>
 * <li>{@code CONSOLEIO_read}: {@code count > INT_MAX} is {@code -E2BIG};
 *     otherwise up to {@code count} bytes of console input, at most 128 (the
 *     size of Xen's serial RX ring), are copied to {@code buffer}, and their
 *     number returned. A copy fault is {@code -EFAULT}; the bytes were
 *     consumed anyway, as in Xen.</li>
 * <li>any other cmd (privileged caller): {@code -ENOSYS}.</li>
 * </ul>
 *
 * <p>Differences from Xen: Xen gathers an unprivileged domain's output into
 * lines in a 200-byte per-domain buffer and prints each with a
 * {@code "(d<id>) "} prefix; here each filtered chunk goes to the console as
 * it is, and the platform's console decides how to prefix lines.
 *
 * <p>A long write is preempted as Xen preempts it: before each chunk after
 * the first of an entry, {@link CallContext#preemptCheck} may end the entry
 * with a continuation of {@code CONSOLEIO_write} for the {@code count} left
 * at the {@code buffer} reached.
 *
 * <p>Host protection (xenshim's own limit): one write may ask for up to 4 GiB,
 * and a guest can alias one page over the whole range. Of an unprivileged
 * domain's write only the first {@link #DOMU_WRITE_LIMIT} bytes are copied,
 * checked and printed; the rest is dropped unread and the call returns 0, as
 * a complete write does. Xen rate-limits domU console output as well (it
 * goes through the printk rate limit for guest messages), so a guest cannot
 * rely on every byte of a huge write reaching the console either.
 */
@Hypercall(Hypercalls.__HYPERVISOR_console_io)
public final class ConsoleIoHandler implements HypercallHandler {

    /** Bytes copied from the guest at a time: {@code sizeof(kbuf) - 1} in {@code guest_console_write}. */
    static final int WRITE_CHUNK = 127;

    /** The most one unprivileged domain's {@code CONSOLEIO_write} prints (1 MiB; see the class comment). */
    static final long DOMU_WRITE_LIMIT = 1L << 20;

    /** {@code SERIAL_RX_SIZE}: the most console input one {@code CONSOLEIO_read} can return in Xen. */
    static final int SERIAL_RX_SIZE = 128;

    /** One buffer per thread (vCPU), reused for every call: the hot path allocates nothing. */
    private static final ThreadLocal<byte[]> KBUF = ThreadLocal.withInitial(() -> new byte[SERIAL_RX_SIZE]);

    private final GuestConsole console;

    @Inject
    public ConsoleIoHandler(GuestConsole console) {
        this.console = Objects.requireNonNull(console);
    }

    /**
     * For plain {@link java.util.ServiceLoader} use (javac wants a no-argument
     * way to make a provider): a handler whose console discards output. The
     * dispatcher never calls this; it constructs the handler with Guice and
     * the platform's {@link GuestConsole}.
     */
    public static ConsoleIoHandler provider() {
        return new ConsoleIoHandler((domain, bytes, offset, length) -> { });
    }

    @Override
    public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) {
        int cmd = (int) a0;
        long count = a1 & 0xFFFF_FFFFL;
        long buffer = a2;
        Domain caller = ctx.domain();
        if (!consoleIoPermitted(caller, cmd)) {
            return -XEN_EPERM;
        }
        return switch (cmd) {
            case XenConsole.CONSOLEIO_write -> write(ctx, buffer, count, a3, a4);
            case XenConsole.CONSOLEIO_read -> read(ctx.memory(), buffer, count);
            default -> -XEN_ENOSYS;
        };
    }

    /** {@code xsm_console_io} of the dummy policy with {@code CONFIG_VERBOSE_DEBUG}; no domain is {@code is_console} on x86. */
    static boolean consoleIoPermitted(Domain caller, int cmd) {
        return caller.isPrivileged() || cmd == XenConsole.CONSOLEIO_write;
    }

    /**
     * {@code guest_console_write}: the loop is bounded by {@code count}, which is at most 2^32 - 1,
     * for an unprivileged domain by {@link #DOMU_WRITE_LIMIT}, and per entry by the caller's
     * preemption.
     */
    private long write(CallContext ctx, long buffer, long count, long a3, long a4) {
        Domain caller = ctx.domain();
        GuestMemory memory = ctx.memory();
        byte[] kbuf = KBUF.get();
        boolean raw = caller.isPrivileged();
        if (!raw) {
            count = Math.min(count, DOMU_WRITE_LIMIT); // the rest is dropped unread: host protection
        }
        boolean first = true;
        while (count > 0) {
            if (!first && ctx.preemptCheck()) {
                return ctx.createContinuation(XenConsole.CONSOLEIO_write, count, buffer, a3, a4);
            }
            first = false;
            int kcount = (int) Math.min(count, WRITE_CHUNK);
            memory.read(buffer, kbuf, 0, kcount); // a GuestFault is -EFAULT; earlier chunks are out
            int length = raw ? kcount : ConsoleText.strip(kbuf, kcount);
            if (length > 0) {
                console.write(caller, kbuf, 0, length);
            }
            buffer += kcount;
            count -= kcount;
        }
        return 0;
    }

    /** The {@code CONSOLEIO_read} case of {@code do_console_io}. */
    private long read(GuestMemory memory, long buffer, long count) {
        if (count > Integer.MAX_VALUE) {
            return -XEN_E2BIG;
        }
        byte[] kbuf = KBUF.get();
        int max = (int) Math.min(count, SERIAL_RX_SIZE);
        if (max == 0) {
            return 0;
        }
        int n = console.read(kbuf, max);
        if (n <= 0) {
            return 0;
        }
        n = Math.min(n, max); // never trust the platform's count past what we asked for
        memory.write(buffer, kbuf, 0, n);
        return n;
    }
}
