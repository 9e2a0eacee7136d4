package xenshim.x86.vm;

import xenshim.api.HvmParams;
import xenshim.api.Upcall;
import xenshim.api.Vcpus;
import xenshim.api.xen.XenHvm;

/**
 * How a guest domain's vCPU takes its event upcall ({@code hvm_assert_evtchn_irq}): the vector the vCPU
 * installed with {@code HVMOP_set_evtchn_upcall_vector}, else the domain's {@code HVM_PARAM_CALLBACK_IRQ}
 * when it is of the vector type, as an external interrupt on the vCPU; then {@code vcpu_kick}, which
 * unblocks a vCPU blocked in {@code SCHEDOP_block} or {@code SCHEDOP_poll}. A callback via GSI or PCI INTx
 * raises nothing: xenshim emulates no interrupt controller (the event stays pending in the words).
 */
final class GuestUpcall implements Upcall {

    /** Vectors below this are exceptions; Xen refuses them as upcall vectors. */
    private static final int FIRST_VECTOR = 0x10;

    /** Where a vector goes in: a vCPU's external interrupt line. */
    @FunctionalInterface
    interface Interrupts {
        /** Raises {@code vector} on {@code vcpu}; any thread, never blocks. */
        void raise(int vcpu, int vector);
    }

    private final Interrupts interrupts;
    private final Vcpus vcpus;
    private final HvmParams params;

    GuestUpcall(Interrupts interrupts, Vcpus vcpus, HvmParams params) {
        this.interrupts = interrupts;
        this.vcpus = vcpus;
        this.params = params;
    }

    @Override
    public void raise(int vcpu) {
        int vector = vcpus.upcallVector(vcpu);
        if (vector == 0) {
            long via = params.get(XenHvm.HVM_PARAM_CALLBACK_IRQ);
            if ((via >>> 56) == XenHvm.HVM_PARAM_CALLBACK_TYPE_VECTOR) {
                vector = (int) (via & 0xFF);
            }
        }
        if (vector >= FIRST_VECTOR) {
            interrupts.raise(vcpu, vector);
        }
        vcpus.unblock(vcpu);
    }

    @Override
    public void checkPollers(int port) {
        vcpus.checkPollers(port);
    }
}
