package xenshim.x86.cpu;

/** The general-purpose registers, RIP and RFLAGS of an x86-64 vCPU, as every CPU backend names them. */
public enum Reg {
    RAX, RBX, RCX, RDX, RSI, RDI, RSP, RBP, R8, R9, R10, R11, R12, R13, R14, R15, RIP, RFLAGS
}
