package xenshim.dispatcher.jfr;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import xenshim.api.CallContext;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.SubOps;

/**
 * One hypercall served through {@code HypercallPage.invoke}, a guest's or an
 * in-process backend's; its duration is the handler's time.
 *
 * <p>The page creates one only while a recording has it enabled ({@link #on()}),
 * so a call with no recording allocates nothing and costs a static check.
 */
@Name(HypercallEvent.NAME)
@Label("Hypercall")
@Description("A hypercall served by the xenshim table: a guest vCPU's or an in-process (lcall) backend's")
@Category("xenshim")
@StackTrace(false)
public final class HypercallEvent extends Event {

    public static final String NAME = "xenshim.Hypercall";

    /** Only asked whether the event type is enabled: {@link #isEnabled} reads no instance state. */
    private static final HypercallEvent PROBE = new HypercallEvent();

    @Label("Hypercall Number")
    int number;

    @Label("Hypercall")
    @Description("Xen's name for the hypercall number")
    String name;

    @Label("Sub-op")
    @Description("The first argument, the sub-op for the hypercalls that have one")
    long subOp;

    @Label("Sub-op Name")
    @Description("Xen's name for the sub-op, where the hypercall has named sub-ops")
    String subOpName;

    @Label("Domain")
    @Description("The calling domain's id (0: the in-process backends)")
    int domain;

    @Label("vCPU")
    @Description("The calling vCPU's id within its domain (0 for an in-process caller)")
    int vcpu;

    @Label("Result")
    @Description("What the hypercall returned: 0 or a value, or a negative Xen errno")
    long result;

    @Label("Table")
    @Description("The name of the hypercall table the call ran in")
    String table;

    /** Whether a recording has this event enabled now. */
    public static boolean on() {
        return PROBE.isEnabled();
    }

    /** The table the call runs in. */
    public void ranIn(String tableName) {
        this.table = tableName;
    }

    /** Records the call, if the recording keeps it (threshold); after {@link #end}. */
    public void commit(CallContext ctx, long nr, long a0, long result) {
        if (!shouldCommit()) {
            return;
        }
        this.number = (int) nr;
        this.name = Hypercalls.name(nr);
        this.subOp = a0;
        String sub = SubOps.describe(nr, a0);
        this.subOpName = sub.startsWith("0x") ? null : sub;
        this.domain = ctx.domain() == null ? -1 : ctx.domain().domid();
        this.vcpu = ctx.vcpuId();
        this.result = result;
        commit();
    }
}
