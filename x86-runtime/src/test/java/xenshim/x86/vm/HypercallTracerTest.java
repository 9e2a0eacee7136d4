package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import xenshim.api.Abi;

class HypercallTracerTest {

    @Test
    void oneLinePerCall() {
        StringWriter out = new StringWriter();
        HypercallTracer tracer = new HypercallTracer(new PrintWriter(out));
        tracer.trace(0, Abi.X86_64, 17, 0, 0, 0, 0, 0, 0x40011, 1);
        tracer.trace(1, Abi.X86_32, 18, 0, 0x2c, 0x10bad0, 0, 0, -14, 1);
        tracer.trace(0, Abi.X86_64, 12, 6, 0x1000, 0, 0, 0, 1 << 20, 17);
        String[] lines = out.toString().split("\\R");
        assertThat(lines[0]).isEqualTo("[vcpu0] xen_version(XENVER_version, 0x0, 0x0, 0x0, 0x0) = 262161");
        assertThat(lines[1]).startsWith("[vcpu1 compat] console_io(CONSOLEIO_write, 0x2c, 0x10bad0, 0x0, 0x0)")
                .endsWith("= -EFAULT");
        assertThat(lines[2]).endsWith("= 1048576 (17 entries)");
    }
}
