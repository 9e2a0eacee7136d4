/**
 * The {@code event_channel_op} hypercall (32).
 */
module xenshim.handlers.evtchn {
    requires xenshim.api;
    requires jakarta.inject;

    // Guice constructs the handler reflectively.
    opens xenshim.handlers.evtchn;

    provides xenshim.api.HypercallHandler with xenshim.handlers.evtchn.EventChannelOpHandler;
}
