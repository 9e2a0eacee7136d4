package xenshim.handlers.gnttab;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EILSEQ;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_EOPNOTSUPP;
import static xenshim.api.xen.XenGnttab.*;
import static xenshim.handlers.gnttab.GnttabStructs.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.Domain;

/** {@code GNTTABOP_transfer}, {@code swap_grant_ref} and {@code cache_flush}, as Xen answers an HVM domain. */
class OtherOpsTest {

    private final GnttabFixture f = new GnttabFixture();

    private int transfer(Domain caller, Abi abi, long gfn) {
        f.memory.fill(f.arg, 32, (byte) 0);
        abi.writeULong(f.memory, f.arg + TRANSFER_MFN.offset(abi), gfn);
        assertThat(f.as(caller, abi).call(GNTTABOP_transfer, f.arg, 1)).isZero();
        return f.memory.read16(f.arg + TRANSFER_STATUS.offset(abi));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void transferIsForPvGuestsOnly(Abi abi) {
        long page = f.guestRam.pageAt(3);
        assertThat(transfer(f.guest, abi, 3)).as("steal_page refuses a translated domain")
                .isEqualTo(GNTST_general_error);
        assertThat(f.guestRam.pageAt(3)).as("nothing changed hands").isEqualTo(page);
        assertThat(f.guestRam.references(page)).isZero();
        assertThat(transfer(f.guest, abi, 0x7777)).isEqualTo(GNTST_bad_page);
        assertThat(transfer(f.dom0, abi, 0)).as("dom0 has no RAM").isEqualTo(GNTST_bad_page);
    }

    private int swap(Abi abi, int a, int b) {
        f.memory.write32(f.arg + SWAP_REF_A.offset(abi), a);
        f.memory.write32(f.arg + SWAP_REF_B.offset(abi), b);
        assertThat(f.as(f.guest, abi).call(GNTTABOP_swap_grant_ref, f.arg, 1)).isZero();
        return f.memory.read16(f.arg + SWAP_STATUS.offset(abi));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void swapExchangesTwoIdleEntries(Abi abi) {
        f.grant(f.guest, 10, 0, 3, 0);
        f.grant(f.guest, 11, 6, 4, GTF_readonly);
        assertThat(swap(abi, 10, 11)).isEqualTo(GNTST_okay);
        assertThat(f.table(f.guest).domid(10)).isEqualTo(6);
        assertThat(f.table(f.guest).gfn(10)).isEqualTo(4);
        assertThat(f.table(f.guest).flags(11)).isEqualTo(GTF_permit_access);
        assertThat(swap(abi, 10, 10)).isEqualTo(GNTST_okay);
        assertThat(swap(abi, 10, 512)).isEqualTo(GNTST_bad_gntref);
        assertThat(swap(abi, -1, 10)).isEqualTo(GNTST_bad_gntref);

        assertThat(f.map(f.dom0, Abi.X86_64, f.guest.domid(), 11, GNTMAP_host_map, 0x5000).status())
                .isEqualTo(GNTST_okay);
        assertThat(swap(abi, 10, 11)).as("a pinned entry").isEqualTo(GNTST_eagain);
        assertThat(f.table(f.guest).domid(11)).isZero();
    }

    private long flush(Domain caller, long cmd, long devBusAddr, int offset, int length, int op) {
        Abi abi = Abi.X86_64;
        f.memory.write64(f.arg + FLUSH_A.offset(abi), devBusAddr);
        f.memory.write16(f.arg + FLUSH_OFFSET.offset(abi), (short) offset);
        f.memory.write16(f.arg + FLUSH_LENGTH.offset(abi), (short) length);
        f.memory.write32(f.arg + FLUSH_OP.offset(abi), op);
        return f.as(caller, abi).call(cmd, f.arg, 1);
    }

    @Test
    void cacheFlushAsX86AnswersIt() {
        f.grant(f.guest, 8, 0, 3, 0);
        long addr = f.map(f.dom0, Abi.X86_64, f.guest.domid(), 8, GNTMAP_host_map, 0x5000).devBusAddr();
        int clean = GNTTAB_CACHE_CLEAN;
        assertThat(flush(f.dom0, GNTTABOP_cache_flush, addr, 4096, 0, clean)).isEqualTo(-XEN_EINVAL);
        assertThat(flush(f.dom0, GNTTABOP_cache_flush, addr, 4000, 97, clean)).isEqualTo(-XEN_EINVAL);
        assertThat(flush(f.dom0, GNTTABOP_cache_flush, addr, 0, 4097, clean)).isEqualTo(-XEN_EINVAL);
        assertThat(flush(f.dom0, GNTTABOP_cache_flush, addr, 0, 8, GNTTAB_CACHE_SOURCE_GREF | clean))
                .as("outside the op mask").isEqualTo(-XEN_EINVAL);
        assertThat(flush(f.dom0, GNTTABOP_cache_flush, addr, 0, 0, clean)).as("nothing to do").isZero();
        assertThat(flush(f.dom0, GNTTABOP_cache_flush | (1 << 12), addr, 0, 0, clean)).isEqualTo(-XEN_EILSEQ);
        assertThat(flush(f.dom0, GNTTABOP_cache_flush, addr, 0, 64, clean)).isZero();
        assertThat(flush(f.dom0, GNTTABOP_cache_flush, addr, 0, 64, clean | GNTTAB_CACHE_INVAL)).isZero();
        assertThat(flush(f.dom0, GNTTABOP_cache_flush, addr, 0, 64, GNTTAB_CACHE_INVAL)).isEqualTo(-XEN_EOPNOTSUPP);
        assertThat(flush(f.dom0, GNTTABOP_cache_flush, addr + 0x1000, 0, 64, clean)).as("no such page")
                .isEqualTo(-XEN_EINVAL);
        assertThat(flush(f.local9, GNTTABOP_cache_flush, addr, 0, 64, clean)).as("not d9's mapping")
                .isEqualTo(-XEN_EINVAL);
    }
}
