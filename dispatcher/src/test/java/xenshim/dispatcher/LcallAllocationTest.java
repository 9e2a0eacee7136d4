package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;

/**
 * The in-process call path allocates nothing per call once warm: Lcall →
 * HypercallPage → HypercallTable → Guard → handler, with the handler reading
 * and writing the caller's arena through GuestMemory. Counted with the
 * thread's allocated-bytes counter, not timed.
 */
class LcallAllocationTest {

    static final int CALLS = 200_000;

    @Hypercall(17)
    static final class ArenaHandler implements HypercallHandler {
        @Override
        public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) {
            long value = ctx.memory().read64(a0) + a1;
            ctx.memory().write64(a0, value);
            return value;
        }
    }

    @Test
    void aWarmLocalCallAllocatesNothing() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        HypercallPage page = new HypercallPage(HypercallTable.builder("alloc").add(new ArenaHandler()).build());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = arena.allocate(4096);
            Lcall lcall = Lcall.dom0(page, Domain.localDom0(), memory);
            long address = memory.address();
            long sink = 0;
            for (int i = 0; i < CALLS; i++) { // warm up: let C2 compile the path
                sink += lcall.invoke(17, address + 64, 1);
            }
            long okBefore = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < CALLS; i++) {
                sink += lcall.invoke(17, address + 64, 1);
            }
            long okBytes = threads.getCurrentThreadAllocatedBytes() - okBefore;
            System.out.printf("lcall: %d bytes allocated over %d warm calls (%.4f bytes/call), sink %d%n",
                    okBytes, CALLS, (double) okBytes / CALLS, sink);
            assertThat(okBytes).as("bytes allocated by %d warm calls", CALLS).isLessThan(CALLS / 100);
        }
    }
}
