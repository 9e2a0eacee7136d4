package xenshim.api;

/** What kind of domain this is, as far as a handler needs to know. */
public enum DomainType {
    /** A guest on KVM using Xen's HVM/PVH ABI: translated physmap, hypercalls through the hypercall page. */
    HVM,
    /**
     * Java backend code calling in-process through {@code Lcall}: the
     * pseudo-dom0 of "KVM: x86/xen: backend hypercall support", with an
     * auto-translated physmap and no CPU of its own.
     */
    LOCAL
}
