/**
 * The {@code vcpu_op} (24) and {@code set_timer_op} (15) hypercalls.
 */
module xenshim.handlers.vcpu {
    requires xenshim.api;
    requires jakarta.inject;

    // Guice constructs the handlers reflectively.
    opens xenshim.handlers.vcpu;

    provides xenshim.api.HypercallHandler with
            xenshim.handlers.vcpu.VcpuOpHandler,
            xenshim.handlers.vcpu.SetTimerOpHandler;
}
