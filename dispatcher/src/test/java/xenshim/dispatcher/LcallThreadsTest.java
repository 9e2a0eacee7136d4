package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import xenshim.api.Domain;

/**
 * An {@link Lcall} keeps the dispatcher's record of the threads that call through it, so a
 * call need not look it up: every call must still be published in the calling thread's own
 * record, whichever threads share the Lcall, however many (more than it keeps, so some look
 * theirs up) and whether the threads it kept have ended.
 */
class LcallThreadsTest {

    static final int CALLS = 20_000;

    @Test
    void eachCallIsPublishedInItsOwnThreadsRecord() throws Exception {
        AtomicLong wrong = new AtomicLong();
        AtomicLong served = new AtomicLong();
        HypercallTable[] table = new HypercallTable[1];
        table[0] = HypercallTable.builder("own").add(17, new Provider("test", "Own"), (c, a, b, d, e, f) -> {
            // the record the call was entered with is this thread's own: it shows the call
            if (Callers.current().runningIn(table[0]) != 1) {
                wrong.incrementAndGet();
            }
            served.incrementAndGet();
            return 1;
        }).build();
        HypercallPage page = new HypercallPage(table[0]);
        try (Arena arena = Arena.ofShared()) {
            Lcall lcall = Lcall.dom0(page, Domain.localDom0(), arena.allocate(4096, 4096));
            for (int generation = 0; generation < 3; generation++) { // later generations find ended threads kept
                List<Thread> threads = new ArrayList<>();
                for (int t = 0; t < 10; t++) {
                    Runnable calling = () -> {
                        for (int i = 0; i < CALLS; i++) {
                            lcall.invoke(17);
                        }
                    };
                    threads.add(t % 3 == 2 ? Thread.ofVirtual().start(calling) : Thread.ofPlatform().start(calling));
                }
                for (Thread thread : threads) {
                    thread.join();
                }
            }
        }
        assertThat(served.get()).isEqualTo(3L * 10 * CALLS);
        assertThat(wrong.get()).as("calls entered with another thread's record").isZero();
        assertThat(table[0].runningCalls()).isZero();
    }
}
