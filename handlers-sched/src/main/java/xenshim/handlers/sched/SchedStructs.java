package xenshim.handlers.sched;

import xenshim.api.abi.AbiLayouts;

/**
 * Offsets of the {@code sched_op} argument structs ({@code xen/sched.h}),
 * taken from {@link AbiLayouts}; each is the same in both ABIs (the ABI probe
 * test checks both). {@code struct sched_shutdown} is used from
 * {@code AbiLayouts} directly.
 */
final class SchedStructs {

    private static final AbiLayouts L = AbiLayouts.X86_64;

    static final long REMOTE_SHUTDOWN_DOMAIN_ID = AbiLayouts.offset(L.sched_remote_shutdown, "domain_id");
    static final long REMOTE_SHUTDOWN_REASON = AbiLayouts.offset(L.sched_remote_shutdown, "reason");
    static final long REMOTE_SHUTDOWN_SIZE = L.sched_remote_shutdown.byteSize();

    static final long WATCHDOG_ID = AbiLayouts.offset(L.sched_watchdog, "id");
    static final long WATCHDOG_TIMEOUT = AbiLayouts.offset(L.sched_watchdog, "timeout");
    static final long WATCHDOG_SIZE = L.sched_watchdog.byteSize();

    static final long PIN_OVERRIDE_PCPU = AbiLayouts.offset(L.sched_pin_override, "pcpu");
    static final long PIN_OVERRIDE_SIZE = L.sched_pin_override.byteSize();

    private SchedStructs() {
    }
}
