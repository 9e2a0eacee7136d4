package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.SubOps;
import xenshim.api.xen.XenGnttab;
import xenshim.api.xen.XenIoRings;

/** The grant-table and ring numbers the ABI probe cannot check under a header name. */
class XenGnttabTest {

    @ParameterizedTest
    @EnumSource(Abi.class)
    void consoleRingSizesAreTheProbedArrays(Abi abi) {
        AbiLayouts layouts = abi.layouts();
        assertThat(AbiLayouts.size(layouts.xencons_interface, "in")).isEqualTo(XenIoRings.XENCONS_IN_SIZE);
        assertThat(AbiLayouts.size(layouts.xencons_interface, "out")).isEqualTo(XenIoRings.XENCONS_OUT_SIZE);
    }

    /** {@code MAPTRACK_PER_PAGE} is {@code PAGE_SIZE / sizeof(struct grant_mapping)}, a 16-byte struct. */
    @Test
    void maptrackFramesHoldTwoHundredFiftySixHandles() {
        assertThat(XenGnttab.MAPTRACK_PER_PAGE).isEqualTo(256);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aV1FrameHoldsFiveHundredTwelveEntries(Abi abi) {
        assertThat(4096 / abi.layouts().grant_entry_v1.byteSize()).isEqualTo(512);
    }

    /** The continuation bits above the op are not part of its name; xenshim's own constants are not ops. */
    @Test
    void subOpNamesComeFromTheHeadersAndIgnoreContinuationBits() {
        int nr = Hypercalls.__HYPERVISOR_grant_table_op;
        assertThat(SubOps.describe(nr, XenGnttab.GNTTABOP_cache_flush)).isEqualTo("GNTTABOP_cache_flush");
        assertThat(SubOps.describe(nr, XenGnttab.GNTTABOP_cache_flush | (3 << 12)))
                .isEqualTo("GNTTABOP_cache_flush");
        assertThat(SubOps.describe(nr, XenGnttab.GNTTABOP_copy)).isEqualTo("GNTTABOP_copy");
        assertThat(SubOps.describe(nr, 13)).isEqualTo("0xd");
    }
}
