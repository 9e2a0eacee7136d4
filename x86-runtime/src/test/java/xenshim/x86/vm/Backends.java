package xenshim.x86.vm;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.opentest4j.TestAbortedException;
import xenshim.x86.Accel;

/**
 * The assumption every test that boots a guest makes about its CPU backend:
 * where that backend cannot run here (no usable {@code /dev/kvm}; no
 * {@code libunicorn2}), the test is skipped with "needs ...: why", printed once
 * per class and backend. Tests that boot guests are parameterised over every
 * {@link Accel}, so each runs on every backend the machine has.
 */
public final class Backends {

    private static final Set<String> TOLD = ConcurrentHashMap.newKeySet();

    private Backends() {
    }

    /** Call from the test (not a {@code @BeforeAll}), so each skipped test is reported skipped. */
    public static void assume(Accel accel, Class<?> testClass) {
        Optional<String> reason = accel.unavailableReason();
        if (reason.isPresent()) {
            String message = "needs " + (accel == Accel.KVM ? "/dev/kvm" : "the software CPU (libunicorn2)") + ": "
                    + reason.get();
            if (TOLD.add(testClass.getSimpleName() + accel)) {
                System.out.println(testClass.getSimpleName() + " [" + accel.id() + "] skipped: " + message);
            }
            throw new TestAbortedException(message);
        }
    }
}
