/**
 * The {@code xen_version} hypercall (17).
 */
module xenshim.handlers.version {
    requires xenshim.api;
    requires jakarta.inject;

    // Guice constructs the handler reflectively.
    opens xenshim.handlers.version;

    provides xenshim.api.HypercallHandler with xenshim.handlers.version.XenVersionHandler;
}
