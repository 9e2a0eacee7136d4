package xenshim.x86.vm;

import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.ConsoleText;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;

/**
 * Port 0x12, the byte-wide debug console some guests write before they have
 * a hypercall page: every byte written goes to the domain's console, filtered
 * as a domU's {@code console_io} output is ({@link ConsoleText}).
 *
 * <p>Host protection, the same kind {@code console_io} has: a guest can write
 * this port in a loop forever, so each domain gets a budget of
 * {@link #BURST} bytes that refills at {@link #BYTES_PER_SECOND}; bytes over
 * it are dropped, counted, and reported once per burst of drops in the log.
 * One per domain, shared by its vCPUs.
 */
final class DebugPort {

    /** The port. */
    static final int PORT = 0x12;
    /** Bytes a domain may write at once: as much as one {@code console_io} write prints for a domU (1 MiB). */
    static final long BURST = 1L << 20;
    /** How fast the budget refills: 64 KiB/s, far more than a human reads. */
    static final long BYTES_PER_SECOND = 64 * 1024;

    private static final Logger LOG = LoggerFactory.getLogger(DebugPort.class);

    private final Domain domain;
    private final GuestConsole console;
    private final LongSupplier nanoTime;
    private final byte[] one = new byte[1];
    private long budget = BURST;
    private long refilledAt;
    private long dropped;
    private boolean consoleFailed;

    DebugPort(Domain domain, GuestConsole console, LongSupplier nanoTime) {
        this.domain = domain;
        this.console = console;
        this.nanoTime = nanoTime;
        this.refilledAt = nanoTime.getAsLong();
    }

    /** A byte the guest wrote from vCPU {@code vcpu}. */
    synchronized void write(int vcpu, byte b) {
        if (!ConsoleText.kept(b)) {
            return;
        }
        refill();
        if (budget == 0) {
            if (dropped++ == 0) {
                LOG.warn("{}: debug port 0x{} output over {} bytes/s; dropping it", domain,
                        Integer.toHexString(PORT), BYTES_PER_SECOND);
            }
            return;
        }
        budget--;
        if (dropped > 0) {
            LOG.warn("{}: debug port 0x{}: {} bytes were dropped", domain, Integer.toHexString(PORT), dropped);
            dropped = 0;
        }
        one[0] = b;
        try {
            console.write(domain, one, 0, 1);
        } catch (RuntimeException e) {
            // a failing console must not end the vCPU loop: the guest did nothing wrong
            if (!consoleFailed) {
                consoleFailed = true;
                LOG.warn("vCPU {}: console write for debug port 0x{} failed; dropping its output",
                        vcpu, Integer.toHexString(PORT), e);
            }
        }
    }

    /** Bytes dropped since output last got through. */
    synchronized long dropped() {
        return dropped;
    }

    private void refill() {
        long now = nanoTime.getAsLong();
        long elapsed = Math.min(now - refilledAt, 60_000_000_000L); // a minute refills it all; no overflow
        long earned = elapsed * BYTES_PER_SECOND / 1_000_000_000L;
        if (earned > 0) {
            budget = Math.min(BURST, budget + earned);
            refilledAt = now;
        }
    }
}
