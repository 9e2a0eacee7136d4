package xenshim.fuzz;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Property checks over random sequences of operations, on plain JUnit: each try draws a sequence from its
 * own seed (the run's seed and the try's number), so a run is the same every time and a failing try can be
 * run again alone. A failing sequence is cut to its shortest failing prefix before it is reported, with the
 * seed and try that made it.
 *
 * <p>The run's seed and number of tries are {@code -Disolation.seed=N} and {@code -Disolation.tries=N}
 * (README); the defaults are what the normal test run uses.
 */
final class RandomSequences {

    static final long DEFAULT_SEED = 20261207L;
    static final int DEFAULT_TRIES = 200;

    private RandomSequences() {
    }

    static long seed() {
        return Long.getLong("isolation.seed", DEFAULT_SEED);
    }

    static int tries() {
        return Integer.getInteger("isolation.tries", DEFAULT_TRIES);
    }

    /**
     * Runs {@code property} on {@link #tries()} sequences of 1 to {@code maxLength} operations drawn by
     * {@code operation}.
     */
    static <T> void forAll(int maxLength, Function<Random, T> operation, Consumer<List<T>> property) {
        long seed = seed();
        int tries = tries();
        for (int attempt = 0; attempt < tries; attempt++) {
            Random random = new Random(seed * 1_000_003L + attempt);
            int length = 1 + random.nextInt(maxLength);
            List<T> operations = new ArrayList<>(length);
            for (int i = 0; i < length; i++) {
                operations.add(operation.apply(random));
            }
            Throwable failure = failure(property, operations);
            if (failure != null) {
                List<T> shortest = operations;
                for (int n = 1; n < operations.size(); n++) {
                    Throwable earlier = failure(property, operations.subList(0, n));
                    if (earlier != null) {
                        shortest = operations.subList(0, n);
                        failure = earlier;
                        break;
                    }
                }
                throw new AssertionError("try " + attempt + " of seed " + seed + " failed; its shortest failing prefix ("
                        + shortest.size() + " of " + operations.size() + " operations):\n  "
                        + String.join("\n  ", shortest.stream().map(Object::toString).toList()), failure);
            }
        }
    }

    private static <T> Throwable failure(Consumer<List<T>> property, List<T> operations) {
        try {
            property.accept(List.copyOf(operations));
            return null;
        } catch (AssertionError | RuntimeException e) {
            return e;
        }
    }
}
