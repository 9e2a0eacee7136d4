package xenshim.x86.cpu;

/**
 * How a backend's CPUs reach the VMM for Xen's hypercall page.
 *
 * @param msr              the MSR the guest writes the page's address to (CPUID 0x40000002 ebx
 *                         tells the guest which; Xen itself moves it to 0x40000200 under Viridian)
 * @param endBlockAfterOut whether each stub must end a translated block right after its
 *                         {@code out}: a software CPU stops only between blocks, so the exit
 *                         comes with RIP at the stub's {@code ret} rather than just past the
 *                         {@code out}
 */
public record HypercallTrap(int msr, boolean endBlockAfterOut) {
}
