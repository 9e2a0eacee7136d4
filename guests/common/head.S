/*
 * xenshim guests: PVH entry and switch to long mode.
 *
 * The VMM enters at pvh_start32 (named by the XEN_ELFNOTE_PHYS32_ENTRY note
 * below) in 32-bit flat protected mode, paging off, with %ebx = the
 * guest-physical address of struct hvm_start_info.  We check the magic,
 * zero .bss, identity-map the first 4 GiB with 2 MiB pages, enable PAE +
 * EFER.LME + paging, jump to 64-bit code and call kmain(si).
 */

#define XEN_ELFNOTE_PHYS32_ENTRY 18      /* xen/elfnote.h */
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578 /* xen/arch-x86/hvm/start_info.h */
#define EARLY_CONSOLE_PORT 0x12

#define GDT_CODE64 0x08
#define GDT_DATA   0x10
#define GDT_CODE32 0x18

    .section .note.Xen, "a"
    .balign 4
    .long 4                         /* namesz: "Xen\0" */
    .long 4                         /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long pvh_start32
    .balign 4

    .section .text.head, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    mov     %ebx, %esi
    lgdt    gdt_desc
    ljmp    $GDT_CODE32, $1f
1:  mov     $GDT_DATA, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     %eax, %fs
    mov     %eax, %gs
    mov     $boot_stack_top, %esp

    cmpl    $XEN_HVM_START_MAGIC_VALUE, (%esi)
    jne     bad_magic

    /* zero .bss (the loader zeroes p_memsz too; do not rely on it) */
    mov     $__bss_start, %edi
    mov     $__bss_end, %ecx
    sub     %edi, %ecx
    xor     %eax, %eax
    rep stosb
    mov     %esi, start_info_pa

    /* pml4[0] -> pdpt; pdpt[0..3] -> pd[0..3]; pd: 2048 x 2 MiB pages */
    mov     $boot_pdpt, %eax
    or      $0x3, %eax
    mov     %eax, boot_pml4
    mov     $boot_pd, %eax
    or      $0x3, %eax
    xor     %ecx, %ecx
2:  mov     %eax, boot_pdpt(,%ecx,8)
    add     $0x1000, %eax
    inc     %ecx
    cmp     $4, %ecx
    jb      2b
    mov     $0x83, %eax                 /* present | writable | PS */
    xor     %edx, %edx                  /* bits 32..: 2 MiB index >> 11 */
    xor     %ecx, %ecx
3:  mov     %eax, boot_pd(,%ecx,8)
    mov     %edx, boot_pd+4(,%ecx,8)
    add     $0x200000, %eax
    adc     $0, %edx
    inc     %ecx
    cmp     $2048, %ecx
    jb      3b

    mov     %cr4, %eax
    or      $0x20, %eax                 /* CR4.PAE */
    mov     %eax, %cr4
    mov     $boot_pml4, %eax
    mov     %eax, %cr3
    mov     $0xc0000080, %ecx           /* EFER */
    rdmsr
    or      $0x100, %eax                /* EFER.LME */
    wrmsr
    mov     %cr0, %eax
    or      $0x80000001, %eax           /* PG | PE */
    mov     %eax, %cr0
    ljmp    $GDT_CODE64, $start64

bad_magic:
    mov     $bad_magic_msg, %esi
    mov     $EARLY_CONSOLE_PORT, %dx
4:  lodsb
    test    %al, %al
    jz      5f
    outb    %al, %dx
    jmp     4b
5:  hlt
    jmp     5b

    .code64
start64:
    mov     $GDT_DATA, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     %eax, %fs
    mov     %eax, %gs
    lea     boot_stack_top(%rip), %rsp
    xor     %ebp, %ebp
    mov     start_info_pa(%rip), %edi
    call    kmain
6:  hlt
    jmp     6b

    .section .rodata
bad_magic_msg:
    .asciz  "xenshim guest: bad hvm_start_info magic in %ebx\n"

    .balign 16
gdt:
    .quad   0
    .quad   0x00af9a000000ffff          /* 0x08: 64-bit code */
    .quad   0x00cf92000000ffff          /* 0x10: flat data */
    .quad   0x00cf9a000000ffff          /* 0x18: 32-bit flat code */
gdt_end:
    .balign 4
    .word   0
gdt_desc:
    .word   gdt_end - gdt - 1
    .long   gdt

    .section .data
    .balign 8
    .globl start_info_pa
start_info_pa:
    .quad   0

    .section .bss.pagealigned, "aw", @nobits
    .balign 4096
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4096 * 4
    .balign 16
boot_stack: .skip 16384
boot_stack_top:
