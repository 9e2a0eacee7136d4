/**
 * The hypercall table and everything that fills and installs it.
 */
module xenshim.dispatcher {
    requires transitive xenshim.api;
    requires com.google.guice;
    requires org.slf4j;
    requires jdk.jfr;

    exports xenshim.dispatcher;
    exports xenshim.dispatcher.record;

    uses xenshim.api.HypercallHandler;
    uses com.google.inject.Module;
}
