/**
 * The {@code sched_op} hypercall (29).
 */
module xenshim.handlers.sched {
    requires xenshim.api;
    requires jakarta.inject;

    // Guice constructs the handler reflectively.
    opens xenshim.handlers.sched;

    provides xenshim.api.HypercallHandler with xenshim.handlers.sched.SchedOpHandler;
}
