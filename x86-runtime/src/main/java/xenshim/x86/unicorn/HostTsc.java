package xenshim.x86.unicorn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The TSC a guest of the software CPU reads. Unicorn's {@code rdtsc} returns the host's TSC
 * ({@code cpu_get_ticks()} is {@code cpu_get_host_ticks()}), but its {@code IA32_TSC} MSR does not move
 * between runs, so the guest's TSC is read here by running {@code rdtsc} in a small engine of its own:
 * one page of code, no guest state touched. Cold path: Xen's time is refreshed rarely.
 */
final class HostTsc implements AutoCloseable {

    private static final long CODE = 0x1000;
    /** {@code rdtsc; nop}: the run stops at the nop. */
    private static final byte[] RDTSC = {0x0F, 0x31, (byte) 0x90};

    private final Arena arena = Arena.ofShared();
    private final MemorySegment uc;
    private final MemorySegment value;

    HostTsc() {
        uc = Unicorn.open(Unicorn.UC_ARCH_X86, Unicorn.UC_MODE_64);
        try {
            Unicorn.check("uc_mem_map", Unicorn.memMap(uc, CODE, 0x1000, Unicorn.UC_PROT_ALL));
            MemorySegment code = arena.allocate(RDTSC.length);
            MemorySegment.copy(RDTSC, 0, code, JAVA_BYTE, 0, RDTSC.length);
            Unicorn.check("uc_mem_write", Unicorn.memWrite(uc, CODE, code, RDTSC.length));
            value = arena.allocate(JAVA_LONG);
        } catch (RuntimeException e) {
            Unicorn.close(uc);
            arena.close();
            throw e;
        }
    }

    /** The TSC now; one thread at a time. */
    synchronized long read() {
        Unicorn.check("uc_emu_start", Unicorn.emuStart(uc, CODE, CODE + 2, 0, 0));
        return register(Unicorn.UC_X86_REG_RDX) << 32 | (register(Unicorn.UC_X86_REG_RAX) & 0xFFFF_FFFFL);
    }

    private long register(int id) {
        Unicorn.check("uc_reg_read", Unicorn.regRead(uc, id, value));
        return value.get(JAVA_LONG, 0);
    }

    @Override
    public synchronized void close() {
        Unicorn.close(uc);
        arena.close();
    }
}
