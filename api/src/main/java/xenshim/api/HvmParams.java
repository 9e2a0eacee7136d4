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
}
