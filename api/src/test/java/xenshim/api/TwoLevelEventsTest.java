package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code event_2l.c}'s order of bit operations over in-memory words. */
class TwoLevelEventsTest {

    private final ArrayEventWords words = new ArrayEventWords();
    private final List<Integer> upcalls = new ArrayList<>();

    private TwoLevelEvents events(int bitsPerWord) {
        return new TwoLevelEvents(words, bitsPerWord, upcalls::add);
    }

    @Test
    void setPendingSetsThePortTheSelectorAndUpcallPendingAndRaisesOnce() {
        TwoLevelEvents events = events(64);
        events.setPending(1, 130);
        assertThat(words.testPending(130)).isTrue();
        assertThat(words.testPendingSel(1, 2)).isTrue();
        assertThat(words.upcallPending(1)).isTrue();
        assertThat(upcalls).containsExactly(1);

        events.setPending(1, 131); // selector bit set already: no second upcall
        events.setPending(1, 130); // pending already: nothing
        assertThat(upcalls).containsExactly(1);
    }

    @Test
    void aCompatDomainsSelectorCountsThirtyTwoBitWords() {
        events(32).setPending(0, 130);
        assertThat(words.testPendingSel(0, 4)).isTrue();
        assertThat(words.testPendingSel(0, 2)).isFalse();
    }

    @Test
    void aMaskedPortIsRecordedButNotDeliveredUntilUnmasked() {
        TwoLevelEvents events = events(64);
        words.setMask(5);
        events.setPending(0, 5);
        assertThat(events.isPending(5)).isTrue();
        assertThat(words.testPendingSel(0, 0)).isFalse();
        assertThat(upcalls).isEmpty();

        events.unmask(0, 5);
        assertThat(events.isMasked(5)).isFalse();
        assertThat(words.testPendingSel(0, 0)).isTrue();
        assertThat(upcalls).containsExactly(0);
    }

    @Test
    void unmaskingAPortThatIsNotPendingDeliversNothing() {
        TwoLevelEvents events = events(64);
        words.setMask(5);
        events.unmask(0, 5);
        assertThat(upcalls).isEmpty();
        assertThat(words.testPendingSel(0, 0)).isFalse();
    }

    @Test
    void upcallPendingLeftSetByTheGuestRaisesNoSecondUpcall() {
        words.testAndSetUpcallPending(0);
        events(64).setPending(0, 3);
        assertThat(words.testPendingSel(0, 0)).isTrue();
        assertThat(upcalls).isEmpty();
    }
}
