package xenshim.api.xen;

/** Names the sub-op (first argument) of the hypercalls that have them, for traces and logs. */
public final class SubOps {

    private static final String[] XEN_VERSION = named(XenVersion.class, "XENVER_");
    private static final String[] CONSOLE_IO = named(XenConsole.class, "CONSOLEIO_");
    private static final String[] SCHED_OP = named(XenSched.class, "SCHEDOP_");
    private static final String[] MEMORY_OP = named(XenMemory.class, "XENMEM_");
    private static final String[] HVM_OP = named(XenHvm.class, "HVMOP_");
    private static final String[] EVENT_CHANNEL_OP = named(XenEvtchn.class, "EVTCHNOP_");
    private static final String[] GRANT_TABLE_OP = named(XenGnttab.class, "GNTTABOP_");

    private SubOps() {
    }

    private static String[] named(Class<?> type, String prefix) {
        String[] names = Constants.namesByValue(type, prefix, 64);
        for (int i = 0; i < names.length; i++) {
            names[i] = names[i] == null ? null : prefix + names[i];
        }
        return names;
    }

    /** The name of sub-op {@code a0} of hypercall {@code nr} ({@code "XENVER_version"}), or {@code a0} in hex. */
    public static String describe(long nr, long a0) {
        String[] names = nr == Hypercalls.__HYPERVISOR_xen_version ? XEN_VERSION
                : nr == Hypercalls.__HYPERVISOR_console_io ? CONSOLE_IO
                : nr == Hypercalls.__HYPERVISOR_sched_op ? SCHED_OP
                : nr == Hypercalls.__HYPERVISOR_memory_op ? MEMORY_OP
                : nr == Hypercalls.__HYPERVISOR_hvm_op ? HVM_OP
                : nr == Hypercalls.__HYPERVISOR_event_channel_op ? EVENT_CHANNEL_OP
                : nr == Hypercalls.__HYPERVISOR_grant_table_op ? GRANT_TABLE_OP
                : null;
        long op = nr == Hypercalls.__HYPERVISOR_memory_op ? a0 & XenMemory.MEMOP_CMD_MASK
                : nr == Hypercalls.__HYPERVISOR_grant_table_op ? a0 & XenGnttab.GNTTABOP_CMD_MASK
                : a0;
        if (names != null && op >= 0 && op < names.length && names[(int) op] != null) {
            return names[(int) op];
        }
        return "0x" + Long.toHexString(a0);
    }
}
