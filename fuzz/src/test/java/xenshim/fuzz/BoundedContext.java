package xenshim.fuzz;

import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.GuestMemory;
import xenshim.api.PreemptibleContext;

/**
 * A caller that says "preempt" at every {@code preemptEvery}-th check of an entry, as a vCPU does when its
 * slice ends, and counts how often an entry asked again after it was told to stop: a handler that keeps
 * going after "preempt" is a runaway ({@link RunawayCall}) once it has ignored it {@link #MAX_IGNORED}
 * times. Its memory is bounded by the same {@link WorkBudget}.
 */
final class BoundedContext extends PreemptibleContext {

    /** Preemptions one entry may ignore (a handler may have a unit of work it cannot split). */
    static final int MAX_IGNORED = 16;

    private final int preemptEvery;
    private final WorkBudget budget;
    private int checks;
    private int told;

    BoundedContext(Domain domain, GuestMemory memory, Abi abi, int preemptEvery, WorkBudget budget) {
        super(domain, 0, new BoundedMemory(memory, budget), abi);
        this.preemptEvery = preemptEvery;
        this.budget = budget;
    }

    /** A new entry: the counts start over. */
    void startEntry() {
        checks = 0;
        told = 0;
    }

    @Override
    public boolean preemptCheck() {
        budget.checkTime();
        if (preemptEvery <= 0 || ++checks % preemptEvery != 0) {
            return false;
        }
        if (++told > MAX_IGNORED) {
            throw new RunawayCall("an entry kept working after it was told to preempt " + MAX_IGNORED + " times");
        }
        return true;
    }
}
