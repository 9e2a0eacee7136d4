package xenshim.x86.vm;

import java.io.PrintWriter;
import xenshim.api.Abi;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.SubOps;
import xenshim.api.xen.XenErrno;

/**
 * {@code --trace}: one line per hypercall — vCPU, name, sub-op, the arguments
 * it was made with, result — and, for a call that was preempted and
 * continued, how many entries it took.
 */
public final class HypercallTracer {

    private final PrintWriter out;

    public HypercallTracer(PrintWriter out) {
        this.out = out;
    }

    public void trace(int vcpu, Abi abi, long nr, long a0, long a1, long a2, long a3, long a4, long result,
                      int entries) {
        String line = String.format("[vcpu%d%s] %s(%s, %#x, %#x, %#x, %#x) = %s%s", vcpu,
                abi == Abi.X86_32 ? " compat" : "", Hypercalls.name(nr), SubOps.describe(nr, a0),
                a1, a2, a3, a4, XenErrno.describe(result), entries > 1 ? " (" + entries + " entries)" : "");
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }
}
