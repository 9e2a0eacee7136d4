package xenshim.fuzz;

/**
 * A hypercall that did not stay within its bound: too much guest memory touched in one entry, an entry
 * that ran past its deadline, a preemption it kept ignoring, or more continuations than any call needs.
 * An {@link Error}, so that the dispatcher's guard ({@link xenshim.api.Guard}) passes it to the fuzz
 * target instead of turning it into an errno: a runaway is the finding, not the guest's answer.
 */
final class RunawayCall extends AssertionError {

    RunawayCall(String message) {
        super(message);
    }
}
