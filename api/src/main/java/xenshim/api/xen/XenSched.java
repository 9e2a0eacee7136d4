package xenshim.api.xen;

/** {@code sched_op} commands and shutdown reasons, from {@code xen/sched.h}. */
public final class XenSched {

    public static final int SCHEDOP_yield = 0;
    public static final int SCHEDOP_block = 1;
    public static final int SCHEDOP_shutdown = 2;
    public static final int SCHEDOP_poll = 3;
    public static final int SCHEDOP_remote_shutdown = 4;
    public static final int SCHEDOP_shutdown_code = 5;
    public static final int SCHEDOP_watchdog = 6;
    public static final int SCHEDOP_pin_override = 7;

    /** Domain exited normally. */
    public static final int SHUTDOWN_poweroff = 0;
    public static final int SHUTDOWN_reboot = 1;
    public static final int SHUTDOWN_suspend = 2;
    public static final int SHUTDOWN_crash = 3;
    public static final int SHUTDOWN_watchdog = 4;
    public static final int SHUTDOWN_soft_reset = 5;
    public static final int SHUTDOWN_MAX = 5;

    private static final String[] REASONS = {"poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset"};

    private XenSched() {
    }

    /** Xen's name for a shutdown reason ("poweroff"), or the number. */
    public static String reasonName(int reason) {
        return reason >= 0 && reason < REASONS.length ? REASONS[reason] : "reason " + reason;
    }
}
