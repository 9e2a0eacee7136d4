package xenshim.handlers.gnttab;

import static xenshim.api.xen.XenGnttab.GNTST_bad_page;
import static xenshim.api.xen.XenGnttab.GNTST_general_error;
import static xenshim.handlers.gnttab.GnttabStructs.*;

import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.ForeignFrames;
import xenshim.api.GuestMemory;

/**
 * One element of {@code GNTTABOP_transfer}, which only PV guests can use: for a translated caller, Xen
 * 4.17's {@code gnttab_transfer} finds the frame ({@code GNTST_bad_page} if {@code mfn} is not a valid
 * frame of the caller) and then fails to steal the page ({@code steal_page} refuses every
 * {@code paging_mode_external} domain, {@code -EOPNOTSUPP}, reported as {@code GNTST_general_error}).
 * Nothing changes hands; only the status is written back.
 */
final class TransferOp {

    private TransferOp() {
    }

    static int transfer(CallContext ctx, long op) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, op, l -> l.gnttab_transfer);
        long gfn = abi.readULong(m, op + TRANSFER_MFN.offset(abi));
        status(m, op + TRANSFER_STATUS.offset(abi), isRam(ctx, gfn) ? GNTST_general_error : GNTST_bad_page);
        return 0;
    }

    private static boolean isRam(CallContext ctx, long gfn) {
        ForeignFrames frames = ctx.domain().find(ForeignFrames.KEY).orElse(ForeignFrames.NONE);
        long frame = frames.get(gfn);
        if (frame == ForeignFrames.NO_FRAME) {
            return false;
        }
        frames.put(frame);
        return true;
    }
}
