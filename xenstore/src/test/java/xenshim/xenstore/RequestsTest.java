package xenshim.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.xenstore.XsWire.*;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every request type as dom0 sends it, answered as C xenstored answers. */
class RequestsTest {

    private Xenstored xs;
    private TestConnection dom0;

    @BeforeEach
    void setUp() {
        xs = new Xenstored();
        dom0 = new TestConnection(xs, 0);
    }

    @Test
    void theStoreStartsWithXenstoredsNodes() {
        assertThat(dom0.ok(XS_DIRECTORY, "/")).isEqualTo("tool");
        assertThat(dom0.ok(XS_DIRECTORY, "/tool")).isEqualTo("xenstored");
        assertThat(dom0.ok(XS_GET_PERMS, "/")).isEqualTo("n0");
    }

    @Test
    void writeMakesTheNodeAndItsParentsAndReadReturnsTheValue() {
        assertThat(dom0.ok(XS_WRITE, "/a/b/c", "")).isEqualTo("OK");
        XsMessage write = dom0.call(XS_WRITE, 0, concat("/a/b/c\0", "va\0lue"));
        assertThat(write.text()).isEqualTo("OK");
        assertThat(dom0.call(XS_READ, "/a/b/c").payload()).isEqualTo(concat("va\0lue"));
        assertThat(dom0.ok(XS_READ, "/a/b")).isEmpty();
        assertThat(dom0.call(XS_DIRECTORY, "/").payload()).isEqualTo(concat("tool\0a\0"));
    }

    @Test
    void aRelativePathOfDom0IsUnderItsHome() {
        dom0.ok(XS_WRITE, "x", "1");
        assertThat(dom0.ok(XS_READ, "/local/domain/0/x")).isEqualTo("1");
    }

    @Test
    void readOfAMissingNodeIsENOENTAndOfABadNameEINVAL() {
        assertThat(dom0.error(XS_READ, "/nothing")).isEqualTo("ENOENT");
        for (String bad : List.of("/a/", "/a//b", "/a b", "/tab\t", "")) {
            assertThat(dom0.error(XS_READ, bad)).as(bad).isEqualTo("EINVAL");
        }
        assertThat(dom0.error(XS_READ, "/" + "x".repeat(XENSTORE_ABS_PATH_MAX))).isEqualTo("EINVAL");
        assertThat(dom0.error(XS_READ, "/" + "x".repeat(XENSTORE_ABS_PATH_MAX - 2))).isEqualTo("ENOENT");
    }

    @Test
    void aRequestWithoutExactlyOneArgumentIsEINVAL() {
        assertThat(dom0.call(XS_READ, 0, concat("/tool")).text()).isEqualTo("EINVAL");
        assertThat(dom0.call(XS_READ, 0, concat("/tool\0/tool\0")).text()).isEqualTo("EINVAL");
        assertThat(dom0.call(XS_WRITE, 0, concat("/no-nul")).text()).isEqualTo("EINVAL");
    }

    @Test
    void mkdirOfAnExistingNodeIsFineAndKeepsItsValue() {
        dom0.ok(XS_WRITE, "/d", "keep");
        assertThat(dom0.ok(XS_MKDIR, "/d")).isEqualTo("OK");
        assertThat(dom0.ok(XS_READ, "/d")).isEqualTo("keep");
        assertThat(dom0.ok(XS_MKDIR, "/e/f")).isEqualTo("OK");
        assertThat(dom0.ok(XS_DIRECTORY, "/e")).isEqualTo("f");
    }

    @Test
    void rmRemovesTheSubtreeAndAMissingNodeUnderAnExistingParentIsFine() {
        dom0.ok(XS_WRITE, "/r/a/b", "1");
        dom0.ok(XS_WRITE, "/r/c", "2");
        assertThat(dom0.ok(XS_RM, "/r/a")).isEqualTo("OK");
        assertThat(dom0.error(XS_READ, "/r/a/b")).isEqualTo("ENOENT");
        assertThat(dom0.ok(XS_DIRECTORY, "/r")).isEqualTo("c");
        assertThat(dom0.ok(XS_RM, "/r/missing")).isEqualTo("OK");
        assertThat(dom0.error(XS_RM, "/r/missing/deeper")).isEqualTo("ENOENT");
        assertThat(dom0.error(XS_RM, "/")).isEqualTo("EINVAL");
    }

    @Test
    void setPermsThenGetPerms() {
        dom0.ok(XS_WRITE, "/p", "");
        assertThat(dom0.ok(XS_SET_PERMS, "/p", "w5", "r7", "b0x10", "n010")).isEqualTo("OK");
        assertThat(dom0.call(XS_GET_PERMS, "/p").strings()).containsExactly("w5", "r7", "b16", "n8");
        assertThat(dom0.error(XS_SET_PERMS, "/p")).isEqualTo("EINVAL");
        for (String bad : List.of("x5", "r", "r5x", "r 5 ")) {
            assertThat(dom0.error(XS_SET_PERMS, "/p", bad)).as(bad).isEqualTo("EINVAL");
        }
        assertThat(dom0.error(XS_SET_PERMS, "/missing", "n0")).isEqualTo("ENOENT");
    }

    @Test
    void directoryPartReturnsTheGenerationThenChildrenAndAnEmptyStringAtTheEnd() {
        dom0.ok(XS_WRITE, "/dp/one", "");
        dom0.ok(XS_WRITE, "/dp/two", "");
        byte[] whole = dom0.call(XS_DIRECTORY_PART, "/dp", "0").payload();
        List<String> strings = new XsMessage(0, 0, 0, whole).strings();
        assertThat(strings).hasSize(4);
        assertThat(Long.parseLong(strings.get(0))).isPositive();
        assertThat(strings.subList(1, 4)).containsExactly("one", "two", "");
        List<String> rest = new XsMessage(0, 0, 0, dom0.call(XS_DIRECTORY_PART, "/dp", "4").payload()).strings();
        assertThat(rest.subList(1, rest.size())).containsExactly("two", "");
        List<String> past = new XsMessage(0, 0, 0, dom0.call(XS_DIRECTORY_PART, "/dp", "99").payload()).strings();
        assertThat(past).containsExactly(strings.get(0), "");
        assertThat(dom0.error(XS_DIRECTORY_PART, "/dp")).isEqualTo("EINVAL");
    }

    @Test
    void aDirectoryTooLongForOneReplyIsE2BigAndComesWholeByDirectoryPart() {
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            String name = "child-with-a-long-name-" + i;
            dom0.ok(XS_MKDIR, "/big/" + name);
            expected.append(name).append('\0');
        }
        assertThat(dom0.error(XS_DIRECTORY, "/big")).isEqualTo("E2BIG");
        StringBuilder listed = new StringBuilder();
        int offset = 0;
        while (true) {
            byte[] part = dom0.call(XS_DIRECTORY_PART, "/big", Integer.toString(offset)).payload();
            assertThat(part.length).isLessThanOrEqualTo(XENSTORE_PAYLOAD_MAX);
            String text = new String(part, XsMessage.BYTES);
            String names = text.substring(text.indexOf('\0') + 1);
            if (names.endsWith("\0\0") || names.equals("\0")) {
                listed.append(names, 0, names.length() - 1);
                break;
            }
            listed.append(names);
            offset += names.length();
        }
        assertThat(listed.toString()).isEqualTo(expected.toString());
    }

    @Test
    void getDomainPathAndIsDomainIntroduced() {
        assertThat(dom0.ok(XS_GET_DOMAIN_PATH, "7")).isEqualTo("/local/domain/7");
        assertThat(dom0.ok(XS_GET_DOMAIN_PATH, "12abc")).isEqualTo("/local/domain/12");
        assertThat(dom0.error(XS_GET_DOMAIN_PATH)).isEqualTo("EINVAL");
        assertThat(dom0.ok(XS_IS_DOMAIN_INTRODUCED, "0")).isEqualTo("T");
        assertThat(dom0.ok(XS_IS_DOMAIN_INTRODUCED, "7")).isEqualTo("F");
        assertThat(dom0.ok(XS_IS_DOMAIN_INTRODUCED, Integer.toString(0x7FF0))).isEqualTo("T");
    }

    @Test
    void releaseAndResumeOfAnUnknownDomainAreENOENTAndOfDom0EINVAL() {
        assertThat(dom0.error(XS_RELEASE, "9")).isEqualTo("ENOENT");
        assertThat(dom0.error(XS_RELEASE, "0")).isEqualTo("EINVAL");
        assertThat(dom0.error(XS_RESUME, "9")).isEqualTo("ENOENT");
        assertThat(dom0.error(XS_SET_TARGET, "9", "8")).isEqualTo("ENOENT");
        assertThat(dom0.error(XS_SET_TARGET, "9")).isEqualTo("EINVAL");
    }

    @Test
    void introduceOverTheWireNeedsAMappableRingOrAPositivePort() {
        assertThat(dom0.error(XS_INTRODUCE, "5", "1234", "0")).isEqualTo("EINVAL");
        assertThat(dom0.error(XS_INTRODUCE, "5", "1234")).isEqualTo("EINVAL");
        assertThat(dom0.error(XS_INTRODUCE, "5", "1234", "3")).isEqualTo("EINVAL");
        assertThat(dom0.ok(XS_IS_DOMAIN_INTRODUCED, "5")).isEqualTo("F");
    }

    @ParameterizedTest
    @ValueSource(ints = {XS_WATCH_EVENT, XS_ERROR, 20, XS_TYPE_COUNT, 99, XS_INVALID, -1})
    void typesWithoutAFunctionAreENOSYS(int type) {
        assertThat(dom0.call(type, 0, XsMessage.strings("/")).text()).isEqualTo("ENOSYS");
    }

    @Test
    void controlCheckPrintAndHelp() {
        assertThat(dom0.ok(XS_CONTROL, "check")).isEqualTo("OK");
        assertThat(dom0.ok(XS_CONTROL, "print", "hello")).isEqualTo("OK");
        assertThat(dom0.ok(XS_CONTROL, "help")).startsWith("Valid commands:");
        assertThat(dom0.error(XS_CONTROL, "no-such-command")).isEqualTo("EINVAL");
        assertThat(dom0.call(XS_CONTROL, 0, new byte[0]).text()).isEqualTo("EINVAL");
    }

    @Test
    void aReplyEchoesTheRequestAndTransactionIds() {
        XsMessage start = dom0.call(XS_TRANSACTION_START, "");
        int tx = Integer.parseInt(start.text());
        XsMessage read = dom0.call(XS_READ, tx, XsMessage.strings("/tool"));
        assertThat(read.txId()).isEqualTo(tx);
        assertThat(read.type()).isEqualTo(XS_READ);
    }

    @Test
    void theDumpListsEveryNodeWithItsPermissionsAndEscapedValue() throws Exception {
        dom0.call(XS_WRITE, 0, concat("/v/x\0", "a\"b\\c\n\u0001é"));
        dom0.ok(XS_SET_PERMS, "/v/x", "n0", "r5");
        java.io.StringWriter out = new java.io.StringWriter();
        xs.dump(out);
        assertThat(out.toString()).isEqualTo("""
                / = ""  (n0)
                /tool = ""  (n0)
                /tool/xenstored = ""  (n0)
                /v = ""  (n0)
                /v/x = "a\\"b\\\\c\\n\\001\\351"  (n0,r5)
                """);
    }

    static byte[] concat(String... parts) {
        return String.join("", Arrays.asList(parts)).getBytes(XsMessage.BYTES);
    }
}
