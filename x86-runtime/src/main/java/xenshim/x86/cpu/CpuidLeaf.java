package xenshim.x86.cpu;

/**
 * One CPUID leaf (and sub-leaf, where {@code significantIndex}) a vCPU sees.
 */
public record CpuidLeaf(int function, int index, boolean significantIndex, int eax, int ebx, int ecx, int edx) {
}
