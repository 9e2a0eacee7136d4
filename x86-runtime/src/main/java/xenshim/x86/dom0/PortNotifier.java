package xenshim.x86.dom0;

import xenshim.api.Domain;
import xenshim.dispatcher.HypercallPage;

/**
 * Sends on one dom0 port from any thread: a backend's notification of its guest, with an argument page
 * of its own ({@link Dom0Calls} is one thread at a time).
 */
final class PortNotifier implements Runnable, AutoCloseable {

    private final Dom0Calls calls;
    private final int port;
    private boolean closed;

    PortNotifier(HypercallPage page, Domain dom0, int port) {
        this.calls = new Dom0Calls(page, dom0);
        this.port = port;
    }

    /** {@code EVTCHNOP_send}; nothing once closed (the port may be gone, or another's). */
    @Override
    public synchronized void run() {
        if (!closed) {
            calls.send(port);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            calls.close();
        }
    }
}
