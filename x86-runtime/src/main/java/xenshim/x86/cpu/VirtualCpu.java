package xenshim.x86.cpu;

/**
 * One vCPU of a CPU backend, as the vCPU loop drives it: run until an exit,
 * read and write registers, and kick from another thread. Everything but
 * {@link #kick} belongs to the vCPU's own thread. Register access on the hot
 * path allocates nothing (KVM serves it from {@code kvm_run}'s synced
 * registers).
 */
public interface VirtualCpu extends AutoCloseable {

    int id();

    /** Runs the guest until something needs the VMM. */
    CpuExit run();

    long reg(Reg register);

    /** Takes effect on the next {@link #run()}. */
    void setReg(Reg register, long value);

    long cr0();

    long cr3();

    long cr4();

    long efer();

    /** CS.L: with EFER.LMA, whether the vCPU runs 64-bit code. */
    boolean csLong();

    /** The current privilege level (SS.DPL). */
    int cpl();

    /**
     * Every register, for a message. Only while the vCPU thread is not in
     * {@link #run()}; may be slow.
     */
    String describeRegisters();

    /**
     * The VMM wrote guest code through the host mapping (the hypercall page):
     * a CPU that caches translations of guest code drops them.
     */
    default void guestCodeWritten() {
    }

    /**
     * Delivers external interrupt {@code vector} (32..255) at the next {@link #run()} if the
     * guest can take one now (RFLAGS.IF set, no interrupt shadow); otherwise arranges for
     * {@code run()} to return as soon as it can, and answers false: call again then.
     */
    boolean injectInterrupt(int vector);

    /** {@code IA32_TSC} (MSR 0x10): the TSC as the guest's {@code rdtsc} reads it now. Not during a run. */
    long tsc();

    /** The guest TSC's rate in kHz if the backend knows it exactly, else 0 (then it is measured). */
    default long tscKhz() {
        return 0;
    }

    /** Makes a {@link #run()} in progress (or the next one) return soon; any thread. */
    void kick();

    @Override
    void close();
}
