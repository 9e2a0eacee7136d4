package xenshim.x86.unicorn;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.x86.unicorn.TestGuest.bytes;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.junit.jupiter.api.Test;
import xenshim.x86.cpu.Reg;

/**
 * What the software CPU's exits and hooks cost, printed (never asserted: machines and their load
 * differ). Each measurement runs twice and prints the second, warmed-up, figure.
 */
class UnicornCostTest extends OnTestGuest {

    private static final int EXITS = 20_000;
    private static final int LOOP = 2_000_000;

    @Test
    void anOutExitRoundTrip() {
        guest.start(bytes(0xE7, 0xE4, 0xEB, 0xFC)); // 1: out %eax,$0xe4; jmp 1b
        double us = 0;
        for (int round = 0; round < 2; round++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < EXITS; i++) {
                if (!(cpu.run() instanceof UnicornExit.Io)) {
                    throw new AssertionError("not an out exit");
                }
            }
            us = (System.nanoTime() - t0) / 1e3 / EXITS;
        }
        System.out.printf("Unicorn cost: out exit round trip (run() -> Io -> run()): %.2f us%n", us);
        assertThat(us).isPositive();
    }

    @Test
    void anOutAnsweredInsideTheHook() {
        long[] outs = new long[1];
        cpu.setPortHandler(TestGuest.onOut((port, size, value) -> {
            outs[0]++;
            return true;
        }));
        byte[] code = loop(bytes(0xE7, 0xE4)); // out %eax,$0xe4 in the loop body
        double ns = 0;
        for (int round = 0; round < 2; round++) {
            ns = timeLoop(code);
        }
        System.out.printf("Unicorn cost: out answered inside the hook: %.0f ns per loop iteration%n", ns);
        assertThat(outs[0]).isEqualTo(2L * LOOP);
    }

    @Test
    void theMsrWatchAndACodeHookAgainstABareLoop() {
        byte[] code = loop(bytes(0x83, 0xC0, 0x03)); // add $3,%eax in the loop body
        double bare = 0;
        double watched = 0;
        double coded = 0;
        for (int round = 0; round < 2; round++) {
            bare = timeLoop(code);
        }
        cpu.watchMsr(UnicornCpu.MSR_VM_HSAVE_PA);
        for (int round = 0; round < 2; round++) {
            watched = timeLoop(code);
        }
        cpu.unwatchMsr();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment callback = Unicorn.upcall(MethodHandles.empty(MethodType.methodType(void.class,
                            MemorySegment.class, long.class, int.class, MemorySegment.class)),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS), arena);
            long hook = Unicorn.hookAdd(cpu.engine(), Unicorn.UC_HOOK_CODE, callback, 1, 0);
            cpu.flushTranslations();
            for (int round = 0; round < 2; round++) {
                coded = timeLoop(code);
            }
            Unicorn.check("uc_hook_del", Unicorn.hookDel(cpu.engine(), hook));
            cpu.flushTranslations();
        }
        System.out.printf("Unicorn cost: a 3-instruction loop (add, dec, jnz: one block per iteration): bare %.1f ns,"
                + " MSR watch armed (Java block hook) %.1f ns, Java code hook on every instruction %.1f ns%n",
                bare, watched, coded);
        assertThat(bare).isPositive();
    }

    /** {@code mov $LOOP,%ecx; 1: <body>; dec %ecx; jnz 1b; hlt}. */
    private static byte[] loop(byte[] body) {
        byte[] head = bytes(0xB9, LOOP & 0xFF, (LOOP >>> 8) & 0xFF, (LOOP >>> 16) & 0xFF, LOOP >>> 24);
        byte[] tail = bytes(0xFF, 0xC9, 0x75, -(body.length + 4) & 0xFF, 0xF4);
        byte[] code = new byte[head.length + body.length + tail.length];
        System.arraycopy(head, 0, code, 0, head.length);
        System.arraycopy(body, 0, code, head.length, body.length);
        System.arraycopy(tail, 0, code, head.length + body.length, tail.length);
        return code;
    }

    /** Runs {@code code} to its hlt; nanoseconds per loop iteration. */
    private double timeLoop(byte[] code) {
        guest.start(code);
        long t0 = System.nanoTime();
        UnicornExit exit = cpu.run();
        long t1 = System.nanoTime();
        assertThat(exit).isSameAs(UnicornExit.Hlt.INSTANCE);
        assertThat(cpu.reg(Reg.RCX)).isZero();
        return (double) (t1 - t0) / LOOP;
    }
}
