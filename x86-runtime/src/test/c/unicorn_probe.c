/*
 * Prints the Unicorn constants and struct layouts that xenshim.x86.unicorn.Unicorn
 * defines, as the headers (libunicorn-dev, <unicorn/unicorn.h>) say, for
 * UnicornProbeTest to compare:
 *   const <NAME> <value>
 *   struct <name> <sizeof>
 *   field <struct>.<member> <offsetof> <sizeof>
 * Built with gcc -m64 only: the engine is a 64-bit host library.
 */
#include <stddef.h>
#include <stdio.h>
#include <unicorn/unicorn.h>

#define C(name) printf("const %s %lld\n", #name, (long long) (name))
#define C2(name, expr) printf("const %s %lld\n", #name, (long long) (expr))
#define S(type) printf("struct %s %zu\n", #type, sizeof(type))
#define F(type, member) \
    printf("field %s.%s %zu %zu\n", #type, #member, offsetof(type, member), sizeof(((type *) 0)->member))

int main(void) {
    C(UC_API_MAJOR);
    C(UC_ARCH_X86);
    C(UC_MODE_64);

    C(UC_ERR_OK); C(UC_ERR_NOMEM); C(UC_ERR_ARCH); C(UC_ERR_HANDLE); C(UC_ERR_MODE); C(UC_ERR_VERSION);
    C(UC_ERR_READ_UNMAPPED); C(UC_ERR_WRITE_UNMAPPED); C(UC_ERR_FETCH_UNMAPPED); C(UC_ERR_HOOK);
    C(UC_ERR_INSN_INVALID); C(UC_ERR_MAP); C(UC_ERR_WRITE_PROT); C(UC_ERR_READ_PROT); C(UC_ERR_FETCH_PROT);
    C(UC_ERR_ARG); C(UC_ERR_READ_UNALIGNED); C(UC_ERR_WRITE_UNALIGNED); C(UC_ERR_FETCH_UNALIGNED);
    C(UC_ERR_HOOK_EXIST); C(UC_ERR_RESOURCE); C(UC_ERR_EXCEPTION);

    C(UC_HOOK_INTR); C(UC_HOOK_INSN); C(UC_HOOK_CODE); C(UC_HOOK_BLOCK);
    C(UC_HOOK_MEM_READ_UNMAPPED); C(UC_HOOK_MEM_WRITE_UNMAPPED); C(UC_HOOK_MEM_FETCH_UNMAPPED);
    C(UC_HOOK_MEM_UNMAPPED); C(UC_HOOK_INSN_INVALID);
    C(UC_MEM_READ_UNMAPPED); C(UC_MEM_WRITE_UNMAPPED); C(UC_MEM_FETCH_UNMAPPED);
    C(UC_PROT_NONE); C(UC_PROT_READ); C(UC_PROT_WRITE); C(UC_PROT_EXEC); C(UC_PROT_ALL);

    C(UC_CTL_IO_NONE); C(UC_CTL_IO_WRITE); C(UC_CTL_IO_READ);
    C(UC_CTL_UC_USE_EXITS); C(UC_CTL_TB_REMOVE_CACHE); C(UC_CTL_TB_FLUSH);
    C2(UC_CTL_WRITE_UC_USE_EXITS_1, UC_CTL_WRITE(UC_CTL_UC_USE_EXITS, 1));
    C2(UC_CTL_WRITE_UC_TB_REMOVE_CACHE_2, UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2));
    C2(UC_CTL_WRITE_UC_TB_FLUSH_0, UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0));

    C(UC_X86_REG_CS); C(UC_X86_REG_DS); C(UC_X86_REG_EFLAGS); C(UC_X86_REG_ES); C(UC_X86_REG_FS);
    C(UC_X86_REG_GS); C(UC_X86_REG_RAX); C(UC_X86_REG_RBP); C(UC_X86_REG_RBX); C(UC_X86_REG_RCX);
    C(UC_X86_REG_RDI); C(UC_X86_REG_RDX); C(UC_X86_REG_RIP); C(UC_X86_REG_RSI); C(UC_X86_REG_RSP);
    C(UC_X86_REG_SS); C(UC_X86_REG_CR0); C(UC_X86_REG_CR2); C(UC_X86_REG_CR3); C(UC_X86_REG_CR4);
    C(UC_X86_REG_R8); C(UC_X86_REG_R9); C(UC_X86_REG_R10); C(UC_X86_REG_R11); C(UC_X86_REG_R12);
    C(UC_X86_REG_R13); C(UC_X86_REG_R14); C(UC_X86_REG_R15);
    C(UC_X86_REG_IDTR); C(UC_X86_REG_GDTR); C(UC_X86_REG_LDTR); C(UC_X86_REG_TR); C(UC_X86_REG_MSR);
    C(UC_X86_REG_FS_BASE); C(UC_X86_REG_GS_BASE); C(UC_X86_REG_RFLAGS);

    C(UC_X86_INS_CPUID); C(UC_X86_INS_IN); C(UC_X86_INS_OUT); C(UC_X86_INS_WRMSR);

    S(uc_x86_mmr);
    F(uc_x86_mmr, selector); F(uc_x86_mmr, base); F(uc_x86_mmr, limit); F(uc_x86_mmr, flags);
    S(uc_x86_msr);
    F(uc_x86_msr, rid); F(uc_x86_msr, value);
    return 0;
}
