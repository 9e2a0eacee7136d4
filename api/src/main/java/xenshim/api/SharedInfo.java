package xenshim.api;

/**
 * A guest domain's {@code shared_info} page and vcpu_info areas as the platform maps them: what a handler
 * cannot do through the caller's {@link GuestMemory} because it works on guest frames. Attached by the
 * platform to each domain with guest memory.
 */
public interface SharedInfo {

    DomainKey<SharedInfo> KEY = DomainKey.attached("shared info");

    /**
     * Xen's {@code map_vcpu_info}: moves {@code vcpu}'s vcpu_info from its slot in shared_info to
     * {@code offset} bytes into guest frame {@code gfn}, copying what it held, then marks every event
     * selector and {@code evtchn_upcall_pending} so no event is missed.
     *
     * @return 0; -EINVAL if the area would cross the page, the vCPU's vcpu_info was moved already, or
     *         {@code gfn} is not RAM of the domain; -ENOENT for a vCPU the domain lacks
     */
    int registerVcpuInfo(int vcpu, long gfn, int offset);

    /**
     * Rewrites {@code vcpu}'s {@code vcpu_time_info} ({@code update_vcpu_system_time}), with the
     * version protocol; called when the guest may have missed an update (a timer set, a wake).
     */
    void updateTime(int vcpu);
}
