package xenshim.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.xenstore.XsWire.*;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What an unprivileged domain may reach, make, own and learn, and its quotas. */
class PermissionsTest {

    private Xenstored xs;
    private TestConnection dom0;
    private TestConnection dom5;
    private TestConnection dom7;

    @BeforeEach
    void setUp() {
        xs = new Xenstored();
        dom0 = new TestConnection(xs, 0);
        dom5 = new TestConnection(xs, 5);
        dom7 = new TestConnection(xs, 7);
        dom0.ok(XS_MKDIR, "/local/domain/5");
        dom0.ok(XS_SET_PERMS, "/local/domain/5", "n5");
        dom0.ok(XS_MKDIR, "/local/domain/7");
        dom0.ok(XS_SET_PERMS, "/local/domain/7", "n7");
    }

    @Test
    void aDomainReachesItsHomeByRelativePathsAndOwnsWhatItMakes() {
        assertThat(dom5.ok(XS_WRITE, "data/x", "1")).isEqualTo("OK");
        assertThat(dom5.ok(XS_READ, "data/x")).isEqualTo("1");
        assertThat(dom0.ok(XS_GET_PERMS, "/local/domain/5/data/x")).isEqualTo("n5");
    }

    @Test
    void aNodeADomainMakesUnderAnotherOwnersNodeInheritsItsAclWithTheMakerAsOwner() {
        dom0.ok(XS_MKDIR, "/shared");
        dom0.ok(XS_SET_PERMS, "/shared", "r0", "b5");
        dom5.ok(XS_WRITE, "/shared/mine", "v");
        assertThat(dom0.call(XS_GET_PERMS, "/shared/mine").strings()).containsExactly("r5", "b5");
        assertThat(dom0.ok(XS_WRITE, "/shared/dom0s", "")).isEqualTo("OK");
        assertThat(dom0.call(XS_GET_PERMS, "/shared/dom0s").strings()).containsExactly("r0", "b5");
    }

    @Test
    void anotherDomainsNodeIsEACCESAndSoIsAnythingMissingBelowIt() {
        dom7.ok(XS_WRITE, "secret", "s");
        assertThat(dom5.error(XS_READ, "/local/domain/7/secret")).isEqualTo("EACCES");
        assertThat(dom5.error(XS_READ, "/local/domain/7/missing")).isEqualTo("EACCES");
        assertThat(dom5.error(XS_WRITE, "/local/domain/7/new", "x")).isEqualTo("EACCES");
        assertThat(dom5.error(XS_DIRECTORY, "/local/domain/7")).isEqualTo("EACCES");
        assertThat(dom5.error(XS_RM, "/local/domain/7/secret")).isEqualTo("EACCES");
        assertThat(dom5.error(XS_READ, "/")).isEqualTo("EACCES");
        assertThat(dom0.ok(XS_READ, "/local/domain/7/secret")).isEqualTo("s");
    }

    @Test
    void aMissingNodeIsENOENTOnlyWhereTheNearestParentGrantsTheAccess() {
        assertThat(dom5.error(XS_READ, "/local/domain/5/nothing/deeper")).isEqualTo("ENOENT");
        dom0.ok(XS_SET_PERMS, "/local/domain/7", "n7", "r5");
        assertThat(dom5.error(XS_READ, "/local/domain/7/nothing")).isEqualTo("ENOENT");
        assertThat(dom5.error(XS_WRITE, "/local/domain/7/nothing", "x")).isEqualTo("EACCES");
    }

    @Test
    void anAclEntryGrantsWhatItSaysAndTheFirstMatchWins() {
        dom7.ok(XS_WRITE, "pub", "p");
        dom7.ok(XS_SET_PERMS, "pub", "n7", "r5", "b5");
        assertThat(dom5.ok(XS_READ, "/local/domain/7/pub")).isEqualTo("p");
        assertThat(dom5.error(XS_WRITE, "/local/domain/7/pub", "x")).isEqualTo("EACCES");
        dom7.ok(XS_SET_PERMS, "pub", "r7");
        assertThat(dom5.ok(XS_READ, "/local/domain/7/pub")).isEqualTo("p");
    }

    @Test
    void onlyTheOwnerOrDom0SetsPermissionsAndADomainCannotGiveANodeAway() {
        dom7.ok(XS_WRITE, "n", "");
        dom7.ok(XS_SET_PERMS, "n", "n7", "b5");
        assertThat(dom5.error(XS_SET_PERMS, "/local/domain/7/n", "n5")).isEqualTo("EACCES");
        assertThat(dom7.error(XS_SET_PERMS, "n", "n5")).isEqualTo("EPERM");
        assertThat(dom0.ok(XS_SET_PERMS, "/local/domain/7/n", "n5")).isEqualTo("OK");
        assertThat(dom5.ok(XS_SET_PERMS, "/local/domain/7/n", "n5", "r7")).isEqualTo("OK");
        assertThat(dom5.error(XS_SET_PERMS, "/local/domain/7/n", "n5", "r1", "r2", "r3", "r4", "r6"))
                .isEqualTo("ENOSPC");
    }

    @Test
    void privilegedRequestsFromADomainAreEACCES() {
        for (int type : new int[] {XS_INTRODUCE, XS_RELEASE, XS_IS_DOMAIN_INTRODUCED, XS_RESUME, XS_SET_TARGET,
                XS_CONTROL}) {
            assertThat(dom5.error(type, "1", "2", "3")).as("type %d", type).isEqualTo("EACCES");
        }
    }

    @Test
    void theNodeQuotaIsENOSPCForADomainAndNoneForDom0() {
        XsQuotas small = new XsQuotas(5, 128, 10, 2048, 5, 1024, 20, 1 << 20);
        xs = new Xenstored(small, RingMapper.NONE);
        dom0 = new TestConnection(xs, 0);
        dom5 = new TestConnection(xs, 5);
        dom0.ok(XS_MKDIR, "/local/domain/5");
        dom0.ok(XS_SET_PERMS, "/local/domain/5", "n5");
        for (int i = 1; i < 5; i++) {
            dom5.ok(XS_WRITE, "n" + i, "");
        }
        assertThat(dom5.error(XS_WRITE, "n5", "")).isEqualTo("ENOSPC");
        dom5.ok(XS_RM, "n4");
        assertThat(dom5.error(XS_WRITE, "a/b", "")).as("two new nodes, one left").isEqualTo("ENOSPC");
        assertThat(dom5.error(XS_READ, "a")).isEqualTo("ENOENT");
        for (int i = 0; i < 20; i++) {
            dom0.ok(XS_WRITE, "/dom0/" + i, "");
        }
    }

    @Test
    void aRecordOfTheEntrySizeOrMoreIsENOSPCForADomain() {
        int header = Node.RECORD_HEADER + Node.PERM_SIZE;
        assertThat(dom5.ok(XS_WRITE, "big", "x".repeat(2048 - header - 1))).isEqualTo("OK");
        assertThat(dom5.error(XS_WRITE, "big", "x".repeat(2048 - header))).isEqualTo("ENOSPC");
        assertThat(dom0.ok(XS_WRITE, "/local/domain/5/big", "x".repeat(4000))).isEqualTo("OK");
    }

    @Test
    void theWatchQuotaIsE2BIGPastOneMoreThanTheLimit() {
        for (int i = 0; i <= XsQuotas.DEFAULTS.watches(); i++) {
            dom5.ok(XS_WATCH, "w" + i, "t");
        }
        assertThat(dom5.error(XS_WATCH, "one-too-many", "t")).isEqualTo("E2BIG");
    }

    @Test
    void specialWatchesNeedReadPermissionWhichOnlyDom0Grants() {
        dom5.ok(XS_WATCH, "@introduceDomain", "intro");
        assertThat(dom5.events()).containsExactly(java.util.List.of("@introduceDomain", "intro"));
        dom0.ok(XS_WATCH, "@introduceDomain", "intro");
        dom0.events();
        xs.fireSpecial(Xenstored.INTRODUCE_DOMAIN);
        assertThat(dom5.events()).isEmpty();
        assertThat(dom0.events()).hasSize(1);
        assertThat(dom5.error(XS_SET_PERMS, "@introduceDomain", "r5")).isEqualTo("EACCES");
        dom0.ok(XS_SET_PERMS, "@introduceDomain", "n0", "r5");
        xs.fireSpecial(Xenstored.INTRODUCE_DOMAIN);
        assertThat(dom5.events()).containsExactly(java.util.List.of("@introduceDomain", "intro"));
        assertThat(dom0.error(XS_SET_PERMS, "@other", "n0")).isEqualTo("ENOENT");
    }
}
