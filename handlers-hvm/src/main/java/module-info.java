/**
 * The {@code hvm_op} hypercall (34).
 */
module xenshim.handlers.hvm {
    requires xenshim.api;
    requires jakarta.inject;

    // Guice constructs the handler reflectively.
    opens xenshim.handlers.hvm;

    provides xenshim.api.HypercallHandler with xenshim.handlers.hvm.HvmOpHandler;
}
