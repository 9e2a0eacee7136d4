package xenshim.handlers.sched;

import xenshim.api.abi.Member;

/** The {@code sched_op} argument structs' members ({@code xen/sched.h}), in both ABIs. */
final class SchedStructs {

    static final Member SHUTDOWN_REASON = Member.of(l -> l.sched_shutdown, "reason");

    static final Member REMOTE_SHUTDOWN_DOMAIN_ID = Member.of(l -> l.sched_remote_shutdown, "domain_id");
    static final Member REMOTE_SHUTDOWN_REASON = Member.of(l -> l.sched_remote_shutdown, "reason");

    static final Member WATCHDOG_ID = Member.of(l -> l.sched_watchdog, "id");
    static final Member WATCHDOG_TIMEOUT = Member.of(l -> l.sched_watchdog, "timeout");

    static final Member PIN_OVERRIDE_PCPU = Member.of(l -> l.sched_pin_override, "pcpu");

    static final Member POLL_PORTS = Member.of(l -> l.sched_poll, "ports");
    static final Member POLL_NR_PORTS = Member.of(l -> l.sched_poll, "nr_ports");
    static final Member POLL_TIMEOUT = Member.of(l -> l.sched_poll, "timeout");

    private SchedStructs() {
    }
}
