/**
 * The fuzz targets and isolation properties (tests only: this descriptor has no packages of its own, so
 * that the tests run on the module path, patched into this module). On the module path the built-in
 * handlers are named modules of the boot layer, found by the same discovery as {@code xenshim run} uses;
 * on the class path they would be in no layer and the table would be empty. The runtime packages the
 * targets build guests from (guest memory, shared_info) are not exported; the pom exports them to this
 * module for the tests alone.
 */
module xenshim.fuzz {
    requires xenshim.api;
    requires xenshim.dispatcher;
    requires xenshim.testkit;
    requires xenshim.xenstore;
    requires xenshim.x86;
}
