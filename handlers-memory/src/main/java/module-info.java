/**
 * The {@code memory_op} hypercall (12).
 */
module xenshim.handlers.memory {
    requires xenshim.api;
    requires jakarta.inject;

    // Guice constructs the handler reflectively.
    opens xenshim.handlers.memory;

    provides xenshim.api.HypercallHandler with xenshim.handlers.memory.MemoryOpHandler;
}
