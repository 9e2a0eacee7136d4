package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class ShutdownStateTest {

    @Test
    void aListenerHearsTheFirstCodeOnce() {
        ShutdownState state = new ShutdownState();
        List<Integer> heard = new ArrayList<>();
        state.onShutdown(heard::add);
        state.setCode(3);
        state.shutdown(0);
        state.shutdown(1);
        assertThat(heard).containsExactly(3);
        assertThat(state.reason()).hasValue(3);
    }

    @Test
    void aListenerRegisteredAfterTheShutdownFiresAtOnceWithTheRecordedCode() {
        ShutdownState state = new ShutdownState();
        state.shutdown(0x102); // recorded as a u8
        List<Integer> heard = new ArrayList<>();
        state.onShutdown(heard::add);
        assertThat(heard).containsExactly(2);
        state.shutdown(4);
        assertThat(heard).containsExactly(2);
    }

    @Test
    void aRemovedListenerIsNotCalled() {
        ShutdownState state = new ShutdownState();
        List<Integer> heard = new ArrayList<>();
        List<Integer> kept = new ArrayList<>();
        ShutdownState.Registration registration = state.onShutdown(heard::add);
        state.onShutdown(kept::add);
        registration.close();
        registration.close(); // idempotent
        state.shutdown(1);
        assertThat(heard).isEmpty();
        assertThat(kept).containsExactly(1);
    }

    @Test
    void theListenerCountFollowsRegistrationsAndRemovals() {
        ShutdownState state = new ShutdownState();
        assertThat(state.listenerCount()).isZero();
        ShutdownState.Registration first = state.onShutdown(code -> { });
        ShutdownState.Registration second = state.onShutdown(code -> { });
        assertThat(state.listenerCount()).isEqualTo(2);
        first.close();
        first.close(); // idempotent: removes nobody else
        assertThat(state.listenerCount()).isEqualTo(1);
        second.close();
        assertThat(state.listenerCount()).isZero();
    }

    @Test
    void aListenerCalledAtOnceAfterTheShutdownIsNotCounted() {
        ShutdownState state = new ShutdownState();
        state.shutdown(0);
        state.onShutdown(code -> { }).close();
        assertThat(state.listenerCount()).isZero();
    }
}
