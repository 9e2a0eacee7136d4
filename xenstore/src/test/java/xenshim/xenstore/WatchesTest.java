package xenshim.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.xenstore.XsWire.*;

import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Watches: the first event, what fires them and where, relative paths, permissions, unwatch. */
class WatchesTest {

    private Xenstored xs;
    private TestConnection dom0;
    private TestConnection watcher;

    @BeforeEach
    void setUp() {
        xs = new Xenstored();
        dom0 = new TestConnection(xs, 0);
        watcher = new TestConnection(xs, 0);
    }

    @Test
    void aWatchIsAcknowledgedThenFiresOnceAtOnce() {
        assertThat(watcher.ok(XS_WATCH, "/w", "tok")).isEqualTo("OK");
        assertThat(watcher.events()).containsExactly(List.of("/w", "tok"));
        assertThat(watcher.error(XS_WATCH, "/w", "tok")).isEqualTo("EEXIST");
        assertThat(watcher.ok(XS_WATCH, "/w", "other")).isEqualTo("OK");
    }

    @Test
    void writesMkdirRmAndSetPermsAtOrBelowTheWatchFireIt() {
        watcher.ok(XS_WATCH, "/w", "tok");
        watcher.events();
        dom0.ok(XS_WRITE, "/w/a/b", "1");
        dom0.ok(XS_MKDIR, "/w/c");
        dom0.ok(XS_SET_PERMS, "/w/c", "n0", "r3");
        dom0.ok(XS_WRITE, "/wx", "not below /w");
        dom0.ok(XS_RM, "/w/a");
        // rm fires the named node's watchers once; nodes below it only fire watches on themselves
        assertThat(watcher.events()).containsExactly(List.of("/w/a/b", "tok"), List.of("/w/c", "tok"),
                List.of("/w/c", "tok"), List.of("/w/a", "tok"));
    }

    @Test
    void removingAParentFiresWatchesOnNodesBelowIt() {
        dom0.ok(XS_WRITE, "/p/q/r", "1");
        watcher.ok(XS_WATCH, "/p/q/r", "deep");
        watcher.events();
        dom0.ok(XS_RM, "/p");
        assertThat(watcher.events()).containsExactly(List.of("/p/q/r", "deep"));
    }

    @Test
    void aRelativeWatchGetsRelativePaths() {
        TestConnection dom5 = new TestConnection(xs, 5);
        dom0.ok(XS_MKDIR, "/local/domain/5");
        dom0.ok(XS_SET_PERMS, "/local/domain/5", "n5");
        dom5.ok(XS_WATCH, "device", "dev");
        assertThat(dom5.events()).containsExactly(List.of("device", "dev"));
        dom0.ok(XS_WRITE, "/local/domain/5/device/vif/0", "x");
        assertThat(dom5.events()).containsExactly(List.of("device/vif/0", "dev"));
    }

    @Test
    void aDomainIsNotToldOfChangesToNodesItCannotRead() {
        TestConnection dom5 = new TestConnection(xs, 5);
        dom0.ok(XS_MKDIR, "/hidden");
        dom5.ok(XS_WATCH, "/hidden", "h");
        dom5.events();
        dom0.ok(XS_WRITE, "/hidden/secret", "s");
        assertThat(dom5.events()).isEmpty();
        dom0.ok(XS_SET_PERMS, "/hidden", "n0", "r5");
        assertThat(dom5.events()).containsExactly(List.of("/hidden", "h"));
        dom0.ok(XS_WRITE, "/hidden/visible-through-parent", "v");
        assertThat(dom5.events()).containsExactly(List.of("/hidden/visible-through-parent", "h"));
        dom0.ok(XS_SET_PERMS, "/hidden", "n0");
        assertThat(dom5.events()).as("losing access is told").containsExactly(List.of("/hidden", "h"));
    }

    @Test
    void unwatchAndResetWatchesStopEvents() {
        watcher.ok(XS_WATCH, "/u", "a");
        watcher.ok(XS_WATCH, "/v", "b");
        assertThat(watcher.error(XS_UNWATCH, "/u", "wrong")).isEqualTo("ENOENT");
        assertThat(watcher.ok(XS_UNWATCH, "/u", "a")).isEqualTo("OK");
        watcher.events();
        dom0.ok(XS_WRITE, "/u", "1");
        dom0.ok(XS_WRITE, "/v", "1");
        assertThat(watcher.events()).containsExactly(List.of("/v", "b"));
        watcher.ok(XS_RESET_WATCHES);
        dom0.ok(XS_WRITE, "/v", "2");
        assertThat(watcher.events()).isEmpty();
    }

    @Test
    void badWatchArgumentsAreEINVAL() {
        assertThat(watcher.error(XS_WATCH, "/only-path")).isEqualTo("EINVAL");
        assertThat(watcher.error(XS_WATCH, "/a//b", "t")).isEqualTo("EINVAL");
        assertThat(watcher.error(XS_WATCH, "@" + "x".repeat(XENSTORE_REL_PATH_MAX), "t")).isEqualTo("EINVAL");
        assertThat(watcher.ok(XS_WATCH, "@anything", "t")).isEqualTo("OK");
    }

    @Test
    void aWatchOnRootSeesEverything() {
        watcher.ok(XS_WATCH, "/", "all");
        watcher.events();
        dom0.ok(XS_WRITE, "/x/y", "1");
        assertThat(watcher.events()).containsExactly(List.of("/x/y", "all"));
    }
}
