/**
 * The {@code console_io} hypercall (18).
 */
module xenshim.handlers.console {
    requires xenshim.api;
    requires jakarta.inject;

    // Guice constructs the handler reflectively.
    opens xenshim.handlers.console;

    provides xenshim.api.HypercallHandler with xenshim.handlers.console.ConsoleIoHandler;
}
