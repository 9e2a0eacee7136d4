package xenshim.x86.unicorn;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Assumptions;
import xenshim.x86.cpu.Reg;

/**
 * A Unicorn engine with 2 MiB of guest RAM (the test's own host memory) at guest-physical 0, in
 * the engine's 64-bit reset state (paging off): enough to run a few instructions at {@link #CODE}.
 */
final class TestGuest implements AutoCloseable {
    static final long RAM_SIZE = 2L << 20;
    static final long CODE = 0x10000, STACK_TOP = 0x80000;
    static final long PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT = 0x4000;

    final Arena arena = Arena.ofShared();
    final MemorySegment ram = arena.allocate(RAM_SIZE, 4096);
    final UnicornCpu cpu;

    /** Skips the calling test, printing why, if the Unicorn library is missing here. */
    static void assumeUnicorn() {
        String reason = UnicornCpu.unavailableReason().orElse(null);
        if (reason != null) {
            System.out.println("skipping Unicorn test: " + reason);
        }
        Assumptions.assumeTrue(reason == null, reason);
    }

    TestGuest() {
        UnicornCpu c = UnicornCpu.open();
        try {
            c.mapRam(0, ram);
            c.setReg(Reg.RSP, STACK_TOP);
        } catch (RuntimeException | Error e) {
            c.close();
            arena.close();
            throw e;
        }
        cpu = c;
    }

    /** Copies {@code code} to guest-physical {@code at}. */
    void load(long at, byte[] code) {
        MemorySegment.copy(code, 0, ram, JAVA_BYTE, at, code.length);
    }

    /** Loads {@code code} at {@link #CODE} and points RIP at it. */
    void start(byte[] code) {
        load(CODE, code);
        cpu.setReg(Reg.RIP, CODE);
    }

    /**
     * 4-level page tables in RAM mapping 0..2 MiB 1:1 with 4 KiB pages, except {@code hole} (not
     * present), and paging switched on through the API (CR4.PAE, CR3, CR0.PG: long mode with paging).
     */
    void pageAllBut(long hole) {
        ram.set(JAVA_LONG, PML4, PDPT | 3);
        ram.set(JAVA_LONG, PDPT, PD | 3);
        ram.set(JAVA_LONG, PD, PT | 3);
        for (long page = 0; page < 512; page++) {
            ram.set(JAVA_LONG, PT + 8 * page, page << 12 == hole ? 0 : (page << 12) | 3);
        }
        cpu.setCr4(cpu.cr4() | 0x20);
        cpu.setCr3(PML4);
        cpu.setCr0(cpu.cr0() | (1L << 31));
    }

    /** What a test does with an {@code out}: true if handled in the hook. */
    @FunctionalInterface
    interface Out {
        boolean out(int port, int size, long value);
    }

    /** A port handler whose {@code in} reads 0 and whose {@code out} is {@code out}. */
    static PortHandler onOut(Out out) {
        return new PortHandler() {
            @Override
            public long in(int port, int size) {
                return 0;
            }

            @Override
            public boolean out(int port, int size, long value) {
                return out.out(port, size, value);
            }
        };
    }

    static byte[] bytes(int... b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = (byte) b[i];
        }
        return r;
    }

    @Override
    public void close() {
        cpu.close();
        arena.close();
    }
}
