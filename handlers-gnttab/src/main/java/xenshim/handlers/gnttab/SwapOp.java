package xenshim.handlers.gnttab;

import static xenshim.handlers.gnttab.GnttabStructs.*;

import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.GrantTable;
import xenshim.api.GuestMemory;

/** One element of {@code GNTTABOP_swap_grant_ref}: two entries of the caller's table; see {@link GrantTable#swap}. */
final class SwapOp {

    private SwapOp() {
    }

    static int swap(CallContext ctx, long op) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, op, l -> l.gnttab_swap_grant_ref);
        int refA = m.read32(op + SWAP_REF_A.offset(abi));
        int refB = m.read32(op + SWAP_REF_B.offset(abi));
        status(m, op + SWAP_STATUS.offset(abi), ctx.domain().state(GrantTable.KEY).swap(refA, refB));
        return 0;
    }
}
