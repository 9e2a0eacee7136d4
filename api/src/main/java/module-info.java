/**
 * The xenshim SPI: what a hypercall handler sees. Depends on the JDK only.
 */
module xenshim.api {
    exports xenshim.api;
    exports xenshim.api.xen;
    exports xenshim.api.abi;
}
