package xenshim.api;

import java.util.concurrent.atomic.AtomicLongArray;
import xenshim.api.xen.XenHvm;

/**
 * A domain's HVM parameters ({@code d->arch.hvm.params}): {@code HVM_NR_PARAMS}
 * 64-bit values, 0 until set. The platform presets what a toolstack would
 * (store and console pfns and event channels, when it has them).
 */
public final class HvmParams {

    /** Every HVM domain's parameters. */
    public static final DomainKey<HvmParams> KEY = DomainKey.of("HVM params", HvmParams::new);

    private final AtomicLongArray values = new AtomicLongArray(XenHvm.HVM_NR_PARAMS);

    /** @throws IndexOutOfBoundsException for an index outside 0..HVM_NR_PARAMS-1 */
    public long get(int index) {
        return values.get(index);
    }

    /** @throws IndexOutOfBoundsException for an index outside 0..HVM_NR_PARAMS-1 */
    public void set(int index, long value) {
        values.set(index, value);
    }

    /**
     * Sets a parameter that "should only be changed once" ({@code
     * hvm_allow_set_param}'s rule), checking and storing in one atomic step:
     * {@code value} is stored if the parameter is still 0 or already holds
     * {@code value}. Of several vCPUs racing to set different values, exactly
     * one succeeds.
     *
     * @return true if the parameter now holds {@code value}; false if it held
     *         another non-zero value (Xen's {@code -EEXIST}), left unchanged
     * @throws IndexOutOfBoundsException for an index outside 0..HVM_NR_PARAMS-1
     */
    public boolean setOnce(int index, long value) {
        long before = values.compareAndExchange(index, 0, value);
        return before == 0 || before == value;
    }
}
