package xenshim.x86.kvm;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.opentest4j.TestAbortedException;

/**
 * The assumption every test that needs {@code /dev/kvm} makes: where KVM
 * cannot be used here, the test is skipped with "needs /dev/kvm: why", and
 * the reason is printed once per test class so the build log says it too.
 *
 * <p>Call it from a {@code @BeforeEach}, never a {@code @BeforeAll}: surefire
 * reports a class whose {@code @BeforeAll} skips as "Tests run: 0, Skipped: 0",
 * which hides that anything was skipped; from {@code @BeforeEach} each test is
 * reported skipped.
 */
public final class NeedsKvm {

    private static final Set<Class<?>> TOLD = ConcurrentHashMap.newKeySet();

    private NeedsKvm() {
    }

    /** Why KVM cannot be used here, asked once; empty if it can. */
    private static final class Answer {
        static final Optional<String> REASON = Kvm.unavailableReason();
    }

    /** Skips the calling test, saying why, if KVM cannot be used here. */
    public static void assumeKvm(Class<?> testClass) {
        Optional<String> reason = Answer.REASON;
        if (reason.isPresent()) {
            String message = "needs /dev/kvm: " + reason.get();
            if (TOLD.add(testClass)) {
                System.out.println(testClass.getSimpleName() + " skipped: " + message);
            }
            throw new TestAbortedException(message);
        }
    }
}
