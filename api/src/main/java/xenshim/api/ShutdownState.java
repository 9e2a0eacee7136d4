package xenshim.api;

import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;

/**
 * A domain's shutdown state, as Xen's {@code domain_shutdown} keeps it: the
 * first shutdown code recorded wins (whether set by
 * {@code SCHEDOP_shutdown_code} or by the shutdown itself), and a domain shuts
 * down once. The platform listens to stop the domain's vCPUs.
 *
 * <p>A listener hears of the shutdown exactly once: if it is registered after
 * the domain already shut down, it is called at once with the recorded code.
 */
public final class ShutdownState {

    /** Every domain's shutdown state. */
    public static final DomainKey<ShutdownState> KEY = DomainKey.of("shutdown state", ShutdownState::new);

    private static final int SHUTDOWN_CODE_INVALID = -1;

    private int code = SHUTDOWN_CODE_INVALID;
    private boolean shuttingDown;
    private final List<IntConsumer> listeners = new CopyOnWriteArrayList<>();

    /** {@code SCHEDOP_shutdown_code}: records {@code reason} (as a u8) unless a code is already recorded. */
    public synchronized void setCode(int reason) {
        if (code == SHUTDOWN_CODE_INVALID) {
            code = reason & 0xFF;
        }
    }

    /**
     * {@code domain_shutdown}: records the reason unless a code is already
     * recorded, and shuts the domain down with the recorded code, once.
     * Listeners run on the calling thread.
     */
    public void shutdown(int reason) {
        int finalCode;
        synchronized (this) {
            if (code == SHUTDOWN_CODE_INVALID) {
                code = reason & 0xFF;
            }
            if (shuttingDown) {
                return;
            }
            shuttingDown = true;
            finalCode = code;
        }
        for (IntConsumer listener : listeners) {
            listener.accept(finalCode);
        }
    }

    public synchronized boolean isShuttingDown() {
        return shuttingDown;
    }

    /** The code the domain shut down with, once it has. */
    public synchronized OptionalInt reason() {
        return shuttingDown ? OptionalInt.of(code) : OptionalInt.empty();
    }

    /**
     * Calls {@code listener} with the shutdown code when the domain shuts down
     * (on the thread that shuts it down), or now, on this thread, if it already has.
     *
     * @return a handle whose {@link Registration#close()} removes the listener (idempotent)
     */
    public Registration onShutdown(IntConsumer listener) {
        Objects.requireNonNull(listener);
        int finalCode;
        synchronized (this) {
            if (!shuttingDown) {
                // shutdown() sets shuttingDown under this lock before it reads the list, so
                // a listener added here is either in its snapshot or sees shuttingDown below.
                listeners.add(listener);
                AtomicBoolean removed = new AtomicBoolean();
                return () -> {
                    if (removed.compareAndSet(false, true)) {
                        listeners.remove(listener);
                    }
                };
            }
            finalCode = code;
        }
        listener.accept(finalCode);
        return () -> { };
    }

    /** How many listeners are registered and not yet removed: what a closed machine must have given back. */
    public int listenerCount() {
        return listeners.size();
    }

    /** A registered shutdown listener; closing it removes the listener. */
    @FunctionalInterface
    public interface Registration extends AutoCloseable {
        /** Removes the listener; does nothing the second time. Throws nothing. */
        @Override
        void close();
    }
}
