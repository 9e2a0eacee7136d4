/**
 * Test one hypercall handler alone: fake guest memory with holes, fake
 * domains, and a harness that calls a handler the way the dispatcher does.
 */
module xenshim.testkit {
    requires transitive xenshim.api;

    exports xenshim.testkit;
}
