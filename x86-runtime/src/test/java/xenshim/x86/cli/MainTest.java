package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line without KVM: table, help, and every refusal before a VM is made. */
class MainTest {

    record Result(int status, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(status, out.toString(), err.toString());
    }

    @Test
    void tableListsTheBuiltInHandlers() {
        Result r = run("table");
        assertThat(r.status()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).containsPattern(
                "(?m)^ 17  xen_version +xenshim\\.handlers\\.version +xenshim\\.handlers\\.version\\.XenVersionHandler$");
        assertThat(r.out()).containsPattern("(?m)^ 12  memory_op +xenshim\\.handlers\\.memory ");
        assertThat(r.out()).containsPattern("(?m)^ 15  set_timer_op +xenshim\\.handlers\\.vcpu ");
        assertThat(r.out()).containsPattern("(?m)^ 18  console_io +xenshim\\.handlers\\.console ");
        assertThat(r.out()).containsPattern("(?m)^ 20  grant_table_op +xenshim\\.handlers\\.gnttab ");
        assertThat(r.out()).containsPattern("(?m)^ 24  vcpu_op +xenshim\\.handlers\\.vcpu ");
        assertThat(r.out()).containsPattern("(?m)^ 29  sched_op +xenshim\\.handlers\\.sched ");
        assertThat(r.out()).containsPattern("(?m)^ 32  event_channel_op +xenshim\\.handlers\\.evtchn ");
        assertThat(r.out()).containsPattern("(?m)^ 34  hvm_op +xenshim\\.handlers\\.hvm ");
        assertThat(r.out()).containsPattern("(?m)^\\d+ of 128 slots filled$");
        long slots = r.out().lines().filter(l -> l.matches("^ *\\d+  .*")).count();
        assertThat(r.out()).contains(slots + " of 128 slots filled");
        assertThat(slots).isGreaterThanOrEqualTo(5);
    }

    @Test
    void helpListsTheCommands() {
        Result r = run("--help");
        assertThat(r.status()).isZero();
        assertThat(r.out()).contains("Usage: xenshim").containsPattern("(?m)^\\s+run\\s").containsPattern("(?m)^\\s+table\\s");
        Result runHelp = run("run", "--help");
        assertThat(runHelp.status()).isZero();
        assertThat(runHelp.out()).contains("--memory").contains("--timeout").contains("Exit status");
        Result bare = run();
        assertThat(bare.status()).isZero();
        assertThat(bare.out()).contains("Usage: xenshim");
    }

    @Test
    void anUnknownAccelIsStatus2NamingTheChoices() {
        Result r = run("run", "--accel", "hvf");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--accel must be kvm, tcg or auto, not 'hvf'");
        assertThat(run("run", "--help").out()).contains("--accel").contains("kvm|tcg|auto");
    }

    @Test
    void unknownFlagOrCommandIsStatus2() {
        Result r = run("run", "--no-such-flag");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--no-such-flag");
        Result c = run("frobnicate");
        assertThat(c.status()).isEqualTo(2);
        assertThat(c.err()).contains("frobnicate");
    }

    @Test
    void badMemoryIsStatus2NamingTheFlag() {
        Result r = run("run", "--memory", "1K");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--memory").contains("'1K'");
        assertThat(run("run", "--memory", "lots").err()).contains("--memory").contains("'lots'");
        assertThat(run("run", "--memory", "4G").status()).isEqualTo(2);
        assertThat(run("run", "-m", "99999999999999999G").status()).isEqualTo(2);
    }

    @Test
    void badTimeoutIsStatus2NamingTheFlag() {
        Result r = run("run", "--timeout", "abc");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--timeout").contains("'abc'");
        Result neg = run("run", "--timeout", "-5s");
        assertThat(neg.status()).isEqualTo(2);
        assertThat(neg.err()).contains("--timeout");
    }

    @Test
    void unknownBundledGuestIsStatus2() {
        Result r = run("run", "--bundled", "nope");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--bundled").contains("'nope'").contains("demo");
    }

    @Test
    void badXenVersionIsStatus2() {
        Result r = run("run", "--xen-version", "4");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--xen-version").contains("'4'");
        assertThat(run("run", "--xen-version", "4.70000").status()).isEqualTo(2);
        assertThat(run("run", "--xen-version", "x.y").status()).isEqualTo(2);
    }

    @Test
    void badDomidIsStatus2() {
        Result r = run("run", "--domid", "0");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("--domid");
    }

    @Test
    void guestFileAndBundledTogetherIsStatus2() {
        Result r = run("run", "--bundled", "demo", "guest.elf");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.err()).contains("not both");
    }

    @Test
    void missingGuestFileIsStatus1(@TempDir Path dir) {
        Path missing = dir.resolve("missing-guest.elf");
        Result r = run("run", missing.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains("xenshim: ").contains(missing.toString()).contains("no such file");
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void nonElfFileIsStatus1NamingTheFile(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("readme.txt");
        Files.writeString(text, "this is not a kernel\n");
        Result r = run("run", text.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains(text.toString()).contains("not an ELF file");
        assertThat(r.err()).doesNotContain("\tat ");
    }

    @Test
    void wrongMachineElfIsStatus1(@TempDir Path dir) throws Exception {
        byte[] elf = new byte[64];
        elf[0] = 0x7f;
        elf[1] = 'E';
        elf[2] = 'L';
        elf[3] = 'F';
        elf[4] = 1;
        elf[5] = 1;
        elf[18] = (byte) 183; // EM_AARCH64 (EM_386, 3, is x86 and loads, as on Xen)
        Path file = dir.resolve("aarch64.elf");
        Files.write(file, elf);
        Result r = run("run", file.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains(file.toString()).contains("e_machine is 183");
    }

    @Test
    void directoryAsGuestIsStatus1(@TempDir Path dir) {
        Result r = run("run", dir.toString());
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).contains(dir.toString());
    }
}
