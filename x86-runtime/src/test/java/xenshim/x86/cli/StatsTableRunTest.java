package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.x86.Accel;
import xenshim.x86.vm.Backends;

/**
 * The end-of-run table of {@code run --bundled badcall}, on every CPU backend: the guest's deliberately
 * bad hypercalls (guests/badcall/badcall.c) are its errors, counted per hypercall with the most common
 * errno (the lowest errno of those tied).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StatsTableRunTest {

    /** A row: name, calls, entries (any), errors, top errno; times follow. */
    private static String row(String name, String calls, int errors, String errno) {
        String padded = String.format("%-11s", errno).replace("-", "\\-");
        return "(?m)^" + name + " +" + calls + " +\\d+ +" + errors + " " + padded + " +\\d";
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void badcallsErrorsArePerHypercallWithTheirMostCommonErrno(Accel accel) {
        Backends.assume(accel, StatsTableRunTest.class);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out), new PrintWriter(err), "run", "--accel", accel.id(),
                "--timeout", "60s", "--bundled", "badcall");
        String table = err.toString();
        System.out.printf("[%s] %s", accel.id(), table);
        assertThat(status).as(table).isZero();
        assertThat(table).containsPattern("(?m)^hypercall +calls +entries +errors top errno +mean +p50 +p99 +p99\\.9 "
                + "+max entry$");
        // the numbers Xen leaves empty: one call each, -ENOSYS
        assertThat(table).containsPattern(row("55 arch_7", "1", 1, "-ENOSYS"));
        assertThat(table).containsPattern(row("127 hypercall_127", "1", 1, "-ENOSYS"));
        // unknown cmd -ENOSYS, unmapped buffer -EFAULT, bad submap -EINVAL; commandline and pagesize succeed
        assertThat(table).containsPattern(row("17 xen_version", "5", 3, "-EFAULT"));
        // -EPERM twice (a domU's unknown cmd and read), -EFAULT once (unmapped buffer); every printk succeeds
        assertThat(table).containsPattern(row("18 console_io", "\\d+", 3, "-EPERM"));
        // unknown cmd -ENOSYS, add_to_physmap -EINVAL; decrease_reservation and the long populate succeed
        assertThat(table).containsPattern(row("12 memory_op", "4", 2, "-EINVAL"));
        // unknown cmd -ENOSYS, unmapped shutdown argument -EFAULT; the last shutdown succeeds
        assertThat(table).containsPattern(row("29 sched_op", "3", 2, "-EFAULT"));
        // -EINVAL, -EPERM, -ESRCH, -ENOSYS: every call fails, each its own way
        assertThat(table).containsPattern(row("34 hvm_op", "4", 4, "-EPERM"));
        assertThat(table.lines().filter(l -> l.matches("^\\d+ \\w+ .*"))).as(table).hasSize(7)
                .allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(100));
    }
}
