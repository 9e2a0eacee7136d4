package xenshim.x86.vm;

import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.GuestMemory;

/** The one context object of a vCPU, reused for every call it makes; only the ABI changes per call. */
final class VcpuContext implements CallContext {

    private final Domain domain;
    private final int vcpuId;
    private final GuestMemory memory;
    private Abi abi = Abi.X86_64;

    VcpuContext(Domain domain, int vcpuId, GuestMemory memory) {
        this.domain = domain;
        this.vcpuId = vcpuId;
        this.memory = memory;
    }

    void setAbi(Abi callAbi) {
        this.abi = callAbi;
    }

    @Override
    public Domain domain() {
        return domain;
    }

    @Override
    public int vcpuId() {
        return vcpuId;
    }

    @Override
    public Abi abi() {
        return abi;
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }
}
