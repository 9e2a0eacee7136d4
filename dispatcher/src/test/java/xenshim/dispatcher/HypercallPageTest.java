package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static xenshim.dispatcher.HypercallTableTest.CTX;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class HypercallPageTest {

    static HypercallTable returning(String name, long value) {
        return HypercallTable.builder(name).add(17, new Provider("test", name), (c, a, b, d, e, f) -> value).build();
    }

    @Test
    void registerSavesAndUnregisterRestoresNested() {
        HypercallTable base = returning("base", 0);
        HypercallTable a = returning("a", 1);
        HypercallTable b = returning("b", 2);
        HypercallPage page = new HypercallPage(base);

        page.registerLcall(a);
        assertThat(page.invoke(CTX, 17, 0, 0, 0, 0, 0)).isEqualTo(1);
        page.registerLcall(b);
        assertThat(page.invoke(CTX, 17, 0, 0, 0, 0, 0)).isEqualTo(2);
        assertThat(page.depth()).isEqualTo(2);

        assertThat(page.unregisterLcall().table()).isSameAs(b);
        assertThat(page.current()).isSameAs(a);
        assertThat(page.invoke(CTX, 17, 0, 0, 0, 0, 0)).isEqualTo(1);
        assertThat(page.unregisterLcall().table()).isSameAs(a);
        assertThat(page.current()).isSameAs(base);
        assertThat(page.depth()).isZero();
    }

    @Test
    void unregisterWithNothingSavedIsAnErrorThatChangesNothing() {
        HypercallTable base = returning("base", 7);
        HypercallPage page = new HypercallPage(base);
        assertThatThrownBy(page::unregisterLcall)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("nothing registered");
        assertThat(page.current()).isSameAs(base);
        assertThat(base.isRetired()).isFalse();
        assertThat(page.invoke(CTX, 17, 0, 0, 0, 0, 0)).isEqualTo(7);
    }

    @Test
    void aRetiredOrInstalledTableCannotBeRegisteredAgain() {
        HypercallTable base = returning("base", 0);
        HypercallTable a = returning("a", 1);
        HypercallPage page = new HypercallPage(base);
        assertThatThrownBy(() -> page.registerLcall(base)).isInstanceOf(IllegalStateException.class);
        page.registerLcall(a);
        page.unregisterLcall();
        assertThatThrownBy(() -> page.registerLcall(a)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("retired");
        assertThat(page.current()).isSameAs(base);
    }

    @Test
    void aRetiredTableCannotStartAPage() {
        HypercallPage page = new HypercallPage(returning("base", 0));
        HypercallTable a = returning("a", 1);
        page.registerLcall(a);
        page.unregisterLcall();
        assertThatThrownBy(() -> new HypercallPage(a)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("table a was retired");
    }

    @Test
    void aTableBelongsToTheFirstPageItIsInstalledIn() {
        HypercallTable base = returning("base", 0);
        HypercallPage first = new HypercallPage(base);
        assertThatThrownBy(() -> new HypercallPage(base)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("table base belongs to another HypercallPage");

        HypercallPage second = new HypercallPage(returning("other", 0));
        assertThatThrownBy(() -> second.registerLcall(base)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("table base belongs to another HypercallPage");
        assertThat(second.depth()).isZero();

        HypercallTable a = returning("a", 1);
        second.registerLcall(a);
        assertThatThrownBy(() -> first.registerLcall(a)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("table a belongs to another HypercallPage");
        assertThat(first.current()).isSameAs(base);
        assertThat(first.invoke(CTX, 17, 0, 0, 0, 0, 0)).isZero();
        assertThat(second.invoke(CTX, 17, 0, 0, 0, 0, 0)).isEqualTo(1);
    }

    @Test
    void aCallThatStartedOnATableFinishesOnItAndUnregisterCanWaitForIt() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        HypercallTable slow = HypercallTable.builder("slow").add(17, new Provider("test", "Slow"), (c, a, b, d, e, f) -> {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException interrupted) {
                throw new IllegalStateException(interrupted);
            }
            return 42;
        }).build();
        HypercallPage page = new HypercallPage(returning("base", 0));
        page.registerLcall(slow);

        long[] result = new long[1];
        Thread caller = Thread.ofPlatform().start(() -> result[0] = page.invoke(CTX, 17, 0, 0, 0, 0, 0));
        entered.await();
        HypercallPage.Retired retired = page.unregisterLcall();
        assertThat(page.invoke(CTX, 17, 0, 0, 0, 0, 0)).isZero();
        assertThat(retired.await(Duration.ofMillis(50))).isFalse();
        assertThat(slow.runningCalls()).isEqualTo(1);

        release.countDown();
        assertThat(retired.await(Duration.ofSeconds(10))).isTrue();
        caller.join();
        assertThat(result[0]).isEqualTo(42);
    }

    @Test
    void replaceInstallsAndRetiresWithoutSavingAndUnregisterStillRestoresTheSavedOne() throws Exception {
        HypercallTable base = returning("base", 0);
        HypercallTable a = returning("a", 1);
        HypercallTable b = returning("b", 2);
        HypercallPage page = new HypercallPage(base);
        page.registerLcall(a);

        HypercallPage.Retired retired = page.replaceLcall(b);
        assertThat(retired.table()).isSameAs(a);
        assertThat(a.isRetired()).isTrue();
        assertThat(retired.await(Duration.ofSeconds(1))).isTrue();
        assertThat(page.invoke(CTX, 17, 0, 0, 0, 0, 0)).isEqualTo(2);
        assertThat(page.depth()).isEqualTo(1);
        assertThat(page.savedTables()).containsExactly(base);

        assertThat(page.unregisterLcall().table()).isSameAs(b);
        assertThat(page.current()).isSameAs(base);
        assertThat(page.savedTables()).isEmpty();
    }

    @Test
    void aRefusedReplaceChangesNothing() {
        HypercallTable base = returning("base", 0);
        HypercallTable a = returning("a", 1);
        HypercallPage page = new HypercallPage(base);
        page.registerLcall(a);
        page.unregisterLcall();
        assertThatThrownBy(() -> page.replaceLcall(a)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("retired");
        assertThatThrownBy(() -> page.replaceLcall(base)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already installed");
        assertThat(page.current()).isSameAs(base);
        assertThat(base.isRetired()).isFalse();
        assertThat(page.invoke(CTX, 17, 0, 0, 0, 0, 0)).isZero();
    }
}
