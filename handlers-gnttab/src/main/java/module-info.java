/**
 * The {@code grant_table_op} hypercall (20).
 */
module xenshim.handlers.gnttab {
    requires xenshim.api;
    requires jakarta.inject;

    // Guice constructs the handler reflectively.
    opens xenshim.handlers.gnttab;

    provides xenshim.api.HypercallHandler with xenshim.handlers.gnttab.GrantTableOpHandler;
}
