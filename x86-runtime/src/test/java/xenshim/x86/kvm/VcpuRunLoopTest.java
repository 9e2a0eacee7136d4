package xenshim.x86.kvm;

import xenshim.x86.cpu.Reg;
import xenshim.api.Abi;
import xenshim.x86.vm.HypercallRegisters;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.x86.kvm.TinyGuest.*;

import java.lang.management.ManagementFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The run loop: kick() of a spinning guest, allocation on the hot path, exit round-trip cost. */
class VcpuRunLoopTest {

    /** {@code 1: pause; jmp 1b}. */
    private static final byte[] SPIN = bytes(0xF3, 0x90, 0xEB, 0xFC);

    /** {@code 1: out %eax,$0xe4; inc %eax; jmp 1b}. */
    private static final byte[] OUT_LOOP = concat(movEax(0), outEax(0xE4), bytes(0xFF, 0xC0), bytes(0xEB, 0xFA));

    @BeforeEach
    void needKvm() {
        NeedsKvm.assumeKvm(getClass());
    }

    @Test
    void kickStopsASpinningGuestPromptly() throws Exception {
        try (TinyGuest g = new TinyGuest(SPIN)) {
            AtomicReference<VcpuExit> exit = new AtomicReference<>();
            CompletableFuture<Long> returnedAt = new CompletableFuture<>();
            Thread vcpu = Thread.ofPlatform().name("vcpu0").start(() -> {
                try {
                    exit.set(g.cpu.run());
                    returnedAt.complete(System.nanoTime());
                } catch (Throwable t) {
                    returnedAt.completeExceptionally(t);
                }
            });
            // Does kvm_pvm ever return on its own for a guest that only spins? Give it 500 ms.
            Thread.sleep(500);
            boolean returnedByItself = returnedAt.isDone();
            System.out.println("spinning guest returned from KVM_RUN by itself within 500 ms: " + returnedByItself
                    + (returnedByItself ? " (" + exit.get() + ")" : ""));
            assertThat(returnedByItself).as("spinning guest left KVM_RUN without a kick").isFalse();

            long kickedAt = System.nanoTime();
            g.cpu.kick();
            long back = returnedAt.get(5, TimeUnit.SECONDS);
            vcpu.join(5000);
            double ms = (back - kickedAt) / 1e6;
            System.out.printf("kick() -> run() returned %s after %.3f ms%n", exit.get(), ms);
            assertThat(exit.get()).isEqualTo(VcpuExit.Intr.INSTANCE);
            assertThat(ms).isLessThan(100);

            // The guest is intact and can be kicked again, from another thread, while inside KVM_RUN
            // (the first kick above also paid for installing the signal handler).
            java.util.concurrent.atomic.AtomicLong kickedAgainAt = new java.util.concurrent.atomic.AtomicLong();
            Thread kicker = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
                kickedAgainAt.set(System.nanoTime());
                g.cpu.kick();
            });
            assertThat(g.cpu.run()).isEqualTo(VcpuExit.Intr.INSTANCE);
            double again = (System.nanoTime() - kickedAgainAt.get()) / 1e6;
            System.out.printf("second kick() -> run() returned after %.3f ms%n", again);
            assertThat(again).isLessThan(100);
            kicker.join();
        }
    }

    @Test
    void kickBeforeRunMakesTheNextRunReturn() {
        try (TinyGuest g = new TinyGuest(SPIN)) {
            g.cpu.kick();
            assertThat(g.cpu.run()).isEqualTo(VcpuExit.Intr.INSTANCE);
        }
    }

    @Test
    void hotPathDoesNotAllocateAndRoundTripCost() throws Exception {
        // xenshim.x86 reads neither java.management nor jdk.management: add the read (allowed from
        // inside the module) and use com.sun.management.ThreadMXBean reflectively.
        ModuleLayer.boot().findModule("java.management").ifPresent(VcpuRunLoopTest.class.getModule()::addReads);
        java.lang.reflect.Method allocated = Class.forName("com.sun.management.ThreadMXBean")
                .getMethod("getThreadAllocatedBytes", long.class);
        Object threads = ManagementFactory.getThreadMXBean();
        try (TinyGuest g = new TinyGuest(OUT_LOOP)) {
            g.cpu.enableSyncRegs();
            long sink = 0;
            // warm up (JIT)
            for (int i = 0; i < 30_000; i++) {
                sink += loopOnce(g.cpu);
            }
            int n = 20_000;
            long tid = Thread.currentThread().threadId();
            long bytes0 = (long) allocated.invoke(threads, tid);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                sink += loopOnce(g.cpu);
            }
            long t1 = System.nanoTime();
            long bytes1 = (long) allocated.invoke(threads, tid);
            double perExitBytes = (bytes1 - bytes0) / (double) n;
            System.out.printf("out round trip with synced rax read+write: %.2f us/exit, %.3f bytes allocated/exit (%d)%n",
                    (t1 - t0) / 1e3 / n, perExitBytes, sink & 1);
            assertThat(perExitBytes).isLessThan(1.0);

            System.out.printf("out round trip, sync regs on, run() only: %.2f us/exit%n", bare(g.cpu, n));
        }
        try (TinyGuest g = new TinyGuest(OUT_LOOP)) {
            bare(g.cpu, 30_000);
            System.out.printf("out round trip, sync regs off, run() only: %.2f us/exit%n", bare(g.cpu, 20_000));
        }
    }

    /** µs per exit of a loop that does nothing but re-enter. */
    private static double bare(VcpuFd cpu, int n) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            if (!(cpu.run() instanceof VcpuExit.Io)) {
                throw new AssertionError();
            }
        }
        return (System.nanoTime() - t0) / 1e3 / n;
    }

    private static long loopOnce(VcpuFd cpu) {
        VcpuExit exit = cpu.run();
        if (!(exit instanceof VcpuExit.Io io) || io.port() != 0xE4) {
            throw new AssertionError(exit);
        }
        long rax = cpu.syncedReg(Reg.RAX);
        cpu.setSyncedReg(Reg.RAX, rax + 1);
        return io.data() + (HypercallRegisters.abi(cpu.syncedEfer(), cpu.syncedCsL()) == Abi.X86_64 ? 1 : 0);
    }
}
