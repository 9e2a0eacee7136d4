package xenshim.x86.unicorn;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * A native {@code UC_HOOK_BLOCK} callback that stops the engine at the start of a translated block
 * when the 32-bit word its {@code user_data} points to is non-zero: the only clean way to stop
 * Unicorn 2.0.1.
 *
 * <p>Why: {@code uc_emu_stop} called from another thread, or from a hook in the middle of a block,
 * is noticed at the block's next memory access, which leaves the block with RIP reset to the
 * block's start but the effects of the instructions before it kept (unicorn#823: the exit check
 * Unicorn puts after every load and store does not sync the PC). Resuming re-runs those
 * instructions: a kick corrupts the guest, an {@code out} exit repeats the {@code out}. A stop
 * requested in a block hook is taken before the block's first instruction and is exact. A Java
 * upcall per block costs ~60-80 ns, so the check is 19 bytes of machine code instead (~1.5 ns):
 * <pre>
 *   8b 01          mov   (%rcx), %eax         ; user_data (4th argument): the stop word
 *   85 c0          test  %eax, %eax
 *   75 01          jnz   1f
 *   c3             ret
 *   48 b8 imm64 1: movabs $uc_emu_stop, %rax
 *   ff e0          jmp   *%rax                ; tail call uc_emu_stop(uc): uc is still in %rdi
 * </pre>
 * written once per process to an anonymous page that is then made read+execute (never writable
 * and executable at once).
 */
@SuppressWarnings("restricted")
final class BlockStartStop {
    private BlockStartStop() {}

    /** The callback: {@code void (uc_engine *uc, uint64_t address, uint32_t size, void *user_data)}. */
    static MemorySegment callback() {
        return Code.CALLBACK;
    }

    private static final class Code {
        static final MemorySegment CALLBACK = build();
    }

    private static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    private static final int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;
    private static final long PAGE = 4096;

    private static MemorySegment build() {
        Linker linker = Linker.nativeLinker();
        MethodHandle mmap = linker.downcallHandle(linker.defaultLookup().findOrThrow("mmap"),
                FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
        MethodHandle mprotect = linker.downcallHandle(linker.defaultLookup().findOrThrow("mprotect"),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
        long stop = Unicorn.emuStopAddress();
        byte[] code = {
            (byte) 0x8B, 0x01,             // mov (%rcx), %eax
            (byte) 0x85, (byte) 0xC0,      // test %eax, %eax
            0x75, 0x01,                    // jnz 1f
            (byte) 0xC3,                   // ret
            0x48, (byte) 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, // 1: movabs $uc_emu_stop, %rax
            (byte) 0xFF, (byte) 0xE0,      // jmp *%rax
        };
        for (int i = 0; i < 8; i++) {
            code[9 + i] = (byte) (stop >>> (8 * i));
        }
        try {
            MemorySegment page = (MemorySegment) mmap.invokeExact(MemorySegment.NULL, PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
            if (page.address() == -1L) {
                throw new UnicornException("mmap of the block-start stop hook failed");
            }
            page = page.reinterpret(PAGE);
            MemorySegment.copy(code, 0, page, JAVA_BYTE, 0, code.length);
            if ((int) mprotect.invokeExact(page, PAGE, PROT_READ | PROT_EXEC) != 0) {
                throw new UnicornException("mprotect(PROT_READ|PROT_EXEC) of the block-start stop hook failed");
            }
            return page; // never unmapped: one page per process, shared by every engine
        } catch (UnicornException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
