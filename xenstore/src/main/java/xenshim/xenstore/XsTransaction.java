package xenshim.xenstore;

import static xenshim.xenstore.XsWire.XS_TRANSACTION_END;

/**
 * An open transaction of an {@link XsClient}: its requests see its own
 * changes, which reach the store at {@link #commit()} only if nothing it
 * touched changed meanwhile.
 */
public final class XsTransaction extends XsOperations implements AutoCloseable {

    private final XsClient client;
    private final int id;
    private boolean ended;

    XsTransaction(XsClient client, int id) {
        this.client = client;
        this.id = id;
    }

    /** The transaction id xenstored gave. */
    public int id() {
        return id;
    }

    @Override
    byte[] request(int type, byte[] payload) {
        return client.request(type, id, payload);
    }

    /**
     * Ends the transaction, applying its changes.
     *
     * @throws XsException EAGAIN if a node it read or wrote changed since (start again)
     */
    public void commit() {
        end("T");
    }

    /** Ends the transaction, dropping its changes. */
    public void abort() {
        end("F");
    }

    /** Aborts the transaction if it was neither committed nor aborted. */
    @Override
    public void close() {
        if (!ended) {
            abort();
        }
    }

    private void end(String how) {
        ended = true;
        request(XS_TRANSACTION_END, XsMessage.strings(how));
    }
}
