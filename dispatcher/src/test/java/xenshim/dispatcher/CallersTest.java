package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Which callers enter with a plain store (and are handshaken with when a table retires) and
 * which fence ({@link Callers}): the handshake is {@link Thread#getStackTrace()}, so only a
 * platform thread whose class keeps the JDK's {@code getStackTrace} may skip the fence.
 */
class CallersTest {

    /** A thread whose getStackTrace is not the JDK's handshake. */
    static final class OwnStackTrace extends Thread {
        OwnStackTrace(Runnable task) {
            super(task);
        }

        @Override
        public StackTraceElement[] getStackTrace() {
            return new StackTraceElement[0];
        }
    }

    static Callers.Caller record(Thread.Builder builder) throws InterruptedException {
        AtomicReference<Callers.Caller> record = new AtomicReference<>();
        builder.start(() -> record.set(Callers.current())).join();
        return record.get();
    }

    @Test
    void platformThreadsSkipTheFenceOnHotSpotVirtualThreadsAlwaysFence() throws Exception {
        assertThat(System.getProperty("java.vm.name")).as("these tests run on HotSpot").containsAnyOf("HotSpot", "OpenJDK");
        boolean forcedFenced = Boolean.getBoolean("xenshim.dispatcher.fencedEntry");
        assertThat(Callers.HANDSHAKES).isEqualTo(!forcedFenced);
        assertThat(record(Thread.ofPlatform()).fenced()).isEqualTo(forcedFenced);
        assertThat(record(Thread.ofVirtual()).fenced()).isTrue();
    }

    @Test
    void aThreadClassWithItsOwnGetStackTraceFences() throws Exception {
        AtomicReference<Callers.Caller> record = new AtomicReference<>();
        Thread thread = new OwnStackTrace(() -> record.set(Callers.current()));
        thread.start();
        thread.join();
        assertThat(record.get().fenced()).isTrue();
    }
}
