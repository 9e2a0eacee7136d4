/**
 * An example plugin: a paravirtual entropy source on {@code __HYPERVISOR_arch_7}
 * (55). It is not one of the built-in handlers: its jar is dropped in a plugins
 * folder ({@code --plugins DIR}, {@code xenshim swap --pid N DIR}).
 */
module xenshim.example.entropy {
    requires xenshim.api;

    // Guice constructs the handler reflectively (its public no-argument constructor).
    opens xenshim.example.entropy;

    provides xenshim.api.HypercallHandler with xenshim.example.entropy.EntropyHandler;
}
