package xenshim.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TestingClockTest {

    @Test
    void startsWhereTheTestPutsItAndMovesOnlyWhenTold() {
        TestingClock clock = TestingClock.at(5);
        assertThat(clock.now()).isEqualTo(5);
        assertThat(clock.now()).isEqualTo(5);
        clock.advance(10);
        assertThat(clock.now()).isEqualTo(15);
        clock.set(100);
        assertThat(clock.now()).isEqualTo(100);
        clock.set(100);
        assertThat(clock.now()).isEqualTo(100);
    }

    @Test
    void neverGoesBackNorBelowZero() {
        TestingClock clock = TestingClock.at(100);
        assertThatThrownBy(() -> clock.set(99)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> clock.advance(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TestingClock.at(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> clock.advance(Long.MAX_VALUE)).isInstanceOf(ArithmeticException.class);
        assertThat(clock.now()).isEqualTo(100);
    }

    @Test
    void wallclockAtZeroIsFixed() {
        assertThat(TestingClock.at(0).wallclockAtZero()).isEqualTo(TestingClock.DEFAULT_WALLCLOCK_AT_ZERO);
        TestingClock clock = TestingClock.at(7, 42);
        clock.advance(1_000);
        assertThat(clock.wallclockAtZero()).isEqualTo(42);
    }
}
