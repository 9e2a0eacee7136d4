package xenshim.handlers.sched;

/**
 * Offsets of the {@code sched_op} argument structs that {@code AbiLayouts}
 * does not have yet ({@code xen/sched.h}); every one is the same in both
 * ABIs. {@code struct sched_shutdown} comes from {@code AbiLayouts}.
 */
final class SchedStructs {

    /** {@code struct sched_remote_shutdown { domid_t domain_id; unsigned int reason; }}: 8 bytes. */
    static final long REMOTE_SHUTDOWN_DOMAIN_ID = 0;
    static final long REMOTE_SHUTDOWN_REASON = 4;
    static final long REMOTE_SHUTDOWN_SIZE = 8;

    /** {@code struct sched_watchdog { uint32_t id; uint32_t timeout; }}: 8 bytes. */
    static final long WATCHDOG_ID = 0;
    static final long WATCHDOG_TIMEOUT = 4;
    static final long WATCHDOG_SIZE = 8;

    /** {@code struct sched_pin_override { int32_t pcpu; }}: 4 bytes. */
    static final long PIN_OVERRIDE_PCPU = 0;
    static final long PIN_OVERRIDE_SIZE = 4;

    private SchedStructs() {
    }
}
