package xenshim.xenstore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One client of the store: a guest's ring, a socket client, or dom0 code in
 * the process. It has a domain (0 for the socket and the in-process
 * client, which are privileged), its watches and open transactions, and a
 * way to send replies and events; {@link Xenstored} calls
 * {@link #send} under its lock, in the order the messages are made.
 */
abstract class XsConnection {

    final int domid;
    final boolean privileged;
    /** The domain this one acts for ({@code XS_SET_TARGET}, a device-model stub domain), or -1. */
    int target = -1;
    final List<Watch> watches = new ArrayList<>();
    final Map<Integer, Transaction> transactions = new LinkedHashMap<>();
    /** The transaction of the request being processed, or {@code null}. */
    Transaction current;
    private int nextTransactionId = 1;

    XsConnection(int domid, boolean privileged) {
        this.domid = domid;
        this.privileged = privileged;
    }

    /** Queues a reply or an event for the client, in order. Called under the store's lock. */
    abstract void send(XsMessage message);

    /** Whether the connection stopped being served (a ring that broke the protocol). */
    boolean ignored() {
        return false;
    }

    /** {@code get_implicit_path}: where relative names point. */
    String home() {
        return XsPath.domainPath(domid);
    }

    /** The open transaction {@code txId} names: {@code null} for 0, else ENOENT if there is none. */
    Transaction transaction(int txId) {
        if (txId == 0) {
            return null;
        }
        Transaction transaction = transactions.get(txId);
        if (transaction == null) {
            throw new XsException(XsError.ENOENT);
        }
        return transaction;
    }

    /** An unused transaction id: the next one after the last given out, skipping 0 and ids in use. */
    int newTransactionId() {
        while (nextTransactionId == 0 || transactions.containsKey(nextTransactionId)) {
            nextTransactionId++;
        }
        return nextTransactionId++;
    }

    /** What {@code XS_RESET_WATCHES} and a dropped connection do. */
    void dropWatchesAndTransactions() {
        watches.clear();
        transactions.clear();
    }
}
