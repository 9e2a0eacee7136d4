/**
 * xenstored in Java: the store of nodes, permissions, watches and
 * transactions; guest rings ({@code xenstore_domain_interface}); a Unix
 * socket for Xen's own tools; an in-process client for dom0 code.
 */
module xenshim.xenstore {
    requires xenshim.api;
    requires org.slf4j;

    exports xenshim.xenstore;
}
