package xenshim.handlers.gnttab;

import static xenshim.api.xen.XenGnttab.*;
import static xenshim.handlers.gnttab.GnttabStructs.*;

import java.util.UUID;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.DomainType;
import xenshim.api.GrantTable;
import xenshim.api.abi.Member;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;
import xenshim.testkit.TestingForeignFrames;

/**
 * Domains and calls for the {@code grant_table_op} tests: two granting guests with RAM (d5, d6), the
 * in-process dom0 and a second local domain (d9) that map their grants, and one call per sub-op that
 * writes its struct into the caller's fake memory and reads back what the handler wrote.
 */
final class GnttabFixture {

    static final int PAGES = 16;

    final Domain dom0 = FakeDomains.localDom0();
    final Domain local9 = new Domain(9, false, DomainType.LOCAL, new UUID(9, 9));
    final Domain guest = FakeDomains.guest(5);
    final Domain other = FakeDomains.guest(6);
    final TestingForeignFrames guestRam = TestingForeignFrames.attachTo(guest, PAGES);
    final TestingForeignFrames otherRam = TestingForeignFrames.attachTo(other, PAGES);
    final DomainDirectory directory = FakeDomains.directory(dom0, local9, guest, other);
    final GrantTableOpHandler handler = new GrantTableOpHandler(directory);
    final FakeGuestMemory memory = FakeGuestMemory.standard();
    /** Where the calls put their (first) struct. */
    final long arg = memory.page(1);

    HandlerHarness as(Domain caller, Abi abi) {
        return HandlerHarness.of(handler).domain(caller).memory(memory).abi(abi);
    }

    GrantTable table(Domain d) {
        return d.state(GrantTable.KEY);
    }

    /** {@code d} grants its frame {@code gfn} to {@code domid} in entry {@code ref}. */
    void grant(Domain d, int ref, int domid, long gfn, int extraFlags) {
        table(d).writeEntry(ref, GTF_permit_access | extraFlags, domid, gfn);
    }

    // ---- struct fields at an element of the batch at arg ------------------------------------------------

    long at(Member member, Abi abi, int index, long stride) {
        return arg + index * stride + member.offset(abi);
    }

    // ---- map / unmap ------------------------------------------------------------------------------------

    /** The result of one map: status, handle and dev_bus_addr as written back. */
    record Map(long rc, int status, int handle, long devBusAddr) {
    }

    void putMap(Abi abi, int index, int dom, int ref, int flags, long hostAddr) {
        long stride = size(abi, l -> l.gnttab_map_grant_ref);
        memory.fill(arg + index * stride, stride, (byte) 0);
        memory.write64(at(MAP_HOST_ADDR, abi, index, stride), hostAddr);
        memory.write32(at(MAP_FLAGS, abi, index, stride), flags);
        memory.write32(at(MAP_REF, abi, index, stride), ref);
        memory.write16(at(MAP_DOM, abi, index, stride), (short) dom);
        memory.write32(at(MAP_HANDLE, abi, index, stride), -1);
        memory.write16(at(MAP_STATUS, abi, index, stride), (short) 0x7777);
    }

    Map mapResult(Abi abi, int index, long rc) {
        long stride = size(abi, l -> l.gnttab_map_grant_ref);
        return new Map(rc, memory.read16(at(MAP_STATUS, abi, index, stride)),
                memory.read32(at(MAP_HANDLE, abi, index, stride)), memory.read64(at(MAP_DEV_BUS_ADDR, abi, index, stride)));
    }

    Map map(Domain caller, Abi abi, int dom, int ref, int flags, long hostAddr) {
        putMap(abi, 0, dom, ref, flags, hostAddr);
        return mapResult(abi, 0, as(caller, abi).call(GNTTABOP_map_grant_ref, arg, 1));
    }

    void putUnmap(Abi abi, int index, int handle, long hostAddr, long devBusAddr) {
        long stride = size(abi, l -> l.gnttab_unmap_grant_ref);
        memory.fill(arg + index * stride, stride, (byte) 0);
        memory.write64(at(UNMAP_HOST_ADDR, abi, index, stride), hostAddr);
        memory.write64(at(UNMAP_DEV_BUS_ADDR, abi, index, stride), devBusAddr);
        memory.write32(at(UNMAP_HANDLE, abi, index, stride), handle);
        memory.write16(at(UNMAP_STATUS, abi, index, stride), (short) 0x7777);
    }

    int unmapStatus(Abi abi, int index) {
        return memory.read16(at(UNMAP_STATUS, abi, index, size(abi, l -> l.gnttab_unmap_grant_ref)));
    }

    /** Unmaps and answers the status (or the call's errno if it failed). */
    int unmap(Domain caller, Abi abi, int handle, long hostAddr, long devBusAddr) {
        putUnmap(abi, 0, handle, hostAddr, devBusAddr);
        long rc = as(caller, abi).call(GNTTABOP_unmap_grant_ref, arg, 1);
        return rc != 0 ? (int) rc : unmapStatus(abi, 0);
    }

    // ---- copy ---------------------------------------------------------------------------------------------

    /** One side of a copy: a ref or gmfn in {@code u}, its domid and offset. */
    record Ptr(long u, int domid, int offset) {
    }

    int copy(Domain caller, Abi abi, Ptr source, Ptr dest, int len, int flags) {
        putCopy(abi, 0, source, dest, len, flags);
        long rc = as(caller, abi).call(GNTTABOP_copy, arg, 1);
        return rc != 0 ? (int) rc : copyStatus(abi, 0);
    }

    /** Writes element {@code index} of a copy batch at {@code arg}, its status 0x7777. */
    void putCopy(Abi abi, int index, Ptr source, Ptr dest, int len, int flags) {
        long op = arg + index * size(abi, l -> l.gnttab_copy);
        memory.fill(op, size(abi, l -> l.gnttab_copy), (byte) 0);
        putPtr(abi, op + COPY_SOURCE.offset(abi), source);
        putPtr(abi, op + COPY_DEST.offset(abi), dest);
        memory.write16(op + COPY_LEN.offset(abi), (short) len);
        memory.write16(op + COPY_FLAGS.offset(abi), (short) flags);
        memory.write16(op + COPY_STATUS.offset(abi), (short) 0x7777);
    }

    /** The status element {@code index} of a copy batch at {@code arg} has now. */
    int copyStatus(Abi abi, int index) {
        return memory.read16(arg + index * size(abi, l -> l.gnttab_copy) + COPY_STATUS.offset(abi));
    }

    private void putPtr(Abi abi, long ptr, Ptr value) {
        abi.writeULong(memory, ptr + PTR_U.offset(abi), value.u());
        memory.write16(ptr + PTR_DOMID.offset(abi), (short) value.domid());
        memory.write16(ptr + PTR_OFFSET.offset(abi), (short) value.offset());
    }
}
