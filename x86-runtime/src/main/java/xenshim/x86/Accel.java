package xenshim.x86;

import java.util.Locale;
import java.util.Optional;
import xenshim.x86.kvm.Kvm;
import xenshim.x86.kvm.KvmAccelerator;
import xenshim.x86.unicorn.UnicornAccelerator;
import xenshim.x86.vm.Machine;

/** The CPU backends a machine can run on, as {@code --accel} names them. */
public enum Accel {
    /** Linux KVM through {@code /dev/kvm}. */
    KVM(KvmAccelerator::open),
    /** The software CPU: QEMU's TCG through the Unicorn engine ({@code libunicorn2}). */
    TCG(UnicornAccelerator::open);

    private final Machine.AcceleratorFactory factory;

    Accel(Machine.AcceleratorFactory factory) {
        this.factory = factory;
    }

    /** {@code kvm} or {@code tcg}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public Machine.AcceleratorFactory factory() {
        return factory;
    }

    /** Why this backend cannot run guests here, if it cannot (what to install, or what is missing). */
    public Optional<String> unavailableReason() {
        return this == KVM ? Kvm.unavailableReason() : UnicornAccelerator.unavailableReason();
    }
}
