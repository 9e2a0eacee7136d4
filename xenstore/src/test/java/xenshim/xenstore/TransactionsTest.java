package xenshim.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.xenstore.XsWire.*;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Transactions: isolation, commit, EAGAIN on conflict, the ids and the quota. */
class TransactionsTest {

    private Xenstored xs;
    private TestConnection a;
    private TestConnection b;

    @BeforeEach
    void setUp() {
        xs = new Xenstored();
        a = new TestConnection(xs, 0);
        b = new TestConnection(xs, 0);
        a.ok(XS_WRITE, "/t/x", "0");
    }

    private int start(TestConnection conn) {
        return Integer.parseInt(conn.ok(XS_TRANSACTION_START, ""));
    }

    private XsMessage in(TestConnection conn, int tx, int type, String... strings) {
        return conn.call(type, tx, XsMessage.strings(strings));
    }

    @Test
    void changesAreSeenInsideOnlyUntilCommit() {
        int tx = start(a);
        assertThat(in(a, tx, XS_WRITE, "/t/y", "1").text()).isEqualTo("OK");
        assertThat(in(a, tx, XS_READ, "/t/y").text()).isEqualTo("1");
        assertThat(in(a, tx, XS_DIRECTORY, "/t").strings()).containsExactly("x", "y");
        assertThat(b.error(XS_READ, "/t/y")).isEqualTo("ENOENT");
        assertThat(in(a, tx, XS_TRANSACTION_END, "T").text()).isEqualTo("OK");
        assertThat(b.ok(XS_READ, "/t/y")).isEqualTo("1");
    }

    @Test
    void anAbortedTransactionLeavesNoTrace() {
        int tx = start(a);
        in(a, tx, XS_RM, "/t/x");
        assertThat(in(a, tx, XS_TRANSACTION_END, "F").text()).isEqualTo("OK");
        assertThat(b.ok(XS_READ, "/t/x")).isEqualTo("0");
    }

    @Test
    void aNodeReadInTheTransactionAndChangedOutsideMakesTheCommitEAGAIN() {
        int tx = start(a);
        in(a, tx, XS_READ, "/t/x");
        in(a, tx, XS_WRITE, "/t/other", "1");
        b.ok(XS_WRITE, "/t/x", "changed");
        assertThat(in(a, tx, XS_TRANSACTION_END, "T").text()).isEqualTo("EAGAIN");
        assertThat(b.error(XS_READ, "/t/other")).isEqualTo("ENOENT");
        assertThat(in(a, tx, XS_READ, "/t/x").text()).as("the transaction is gone").isEqualTo("ENOENT");
    }

    @Test
    void aNodeFoundMissingAndMadeOutsideMakesTheCommitEAGAIN() {
        int tx = start(a);
        assertThat(in(a, tx, XS_READ, "/t/new").text()).isEqualTo("ENOENT");
        b.ok(XS_WRITE, "/t/new", "");
        assertThat(in(a, tx, XS_TRANSACTION_END, "T").text()).isEqualTo("EAGAIN");
    }

    @Test
    void twoTransactionsWritingTheSameNodeTheSecondCommitIsEAGAIN() {
        int ta = start(a);
        int tb = start(b);
        in(a, ta, XS_WRITE, "/t/x", "a");
        in(b, tb, XS_WRITE, "/t/x", "b");
        assertThat(in(a, ta, XS_TRANSACTION_END, "T").text()).isEqualTo("OK");
        assertThat(in(b, tb, XS_TRANSACTION_END, "T").text()).isEqualTo("EAGAIN");
        assertThat(b.ok(XS_READ, "/t/x")).isEqualTo("a");
    }

    @Test
    void changesToNodesItNeverTouchedDoNotConflict() {
        int tx = start(a);
        in(a, tx, XS_WRITE, "/t/mine", "1");
        b.ok(XS_WRITE, "/elsewhere", "2");
        assertThat(in(a, tx, XS_TRANSACTION_END, "T").text()).isEqualTo("OK");
    }

    @Test
    void endArgumentsAndUnknownIds() {
        int tx = start(a);
        assertThat(in(a, tx, XS_TRANSACTION_END, "X").text()).isEqualTo("EINVAL");
        assertThat(a.error(XS_TRANSACTION_END, "T")).isEqualTo("ENOENT");
        assertThat(in(a, tx + 100, XS_READ, "/t/x").text()).isEqualTo("ENOENT");
        assertThat(in(b, tx, XS_READ, "/t/x").text()).as("another connection's id").isEqualTo("ENOENT");
        assertThat(in(a, tx, XS_TRANSACTION_START, "").text()).isEqualTo("EBUSY");
        assertThat(start(a)).isEqualTo(tx + 1);
    }

    @Test
    void watchesFireAtCommitNotBefore() {
        b.ok(XS_WATCH, "/t", "tok");
        b.events();
        int tx = start(a);
        in(a, tx, XS_WRITE, "/t/z", "1");
        assertThat(b.events()).isEmpty();
        in(a, tx, XS_TRANSACTION_END, "T");
        assertThat(b.events()).containsExactly(List.of("/t/z", "tok"));
    }

    @Test
    void aDomainMayHoldOneTransactionMoreThanItsQuota() {
        TestConnection dom5 = new TestConnection(xs, 5);
        for (int i = 0; i <= XsQuotas.DEFAULTS.transactions(); i++) {
            start(dom5);
        }
        assertThat(dom5.error(XS_TRANSACTION_START, "")).isEqualTo("ENOSPC");
        dom5.ok(XS_RESET_WATCHES);
        start(dom5);
    }

    @Test
    void aDomainsTransactionTouchesAtMostTheNodeQuota() {
        XsQuotas small = new XsQuotas(1000, 128, 10, 2048, 5, 5, 20, 1 << 20);
        xs = new Xenstored(small, RingMapper.NONE);
        TestConnection dom5 = new TestConnection(xs, 5);
        int tx = start(dom5);
        // the node, then its parents up to / while looking for one that says what the domain may know
        assertThat(in(dom5, tx, XS_READ, "/local/domain/5/a").text()).isEqualTo("EACCES");
        assertThat(in(dom5, tx, XS_READ, "/local/domain/5/b").text()).isEqualTo("ENOSPC");
    }
}
