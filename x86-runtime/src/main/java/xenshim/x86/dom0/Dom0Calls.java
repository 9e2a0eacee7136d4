package xenshim.x86.dom0;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import xenshim.api.Domain;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenEvtchn;
import xenshim.api.xen.XenGnttab;
import xenshim.api.xen.XenHvm;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.Lcall;

/**
 * The hypercalls dom0's in-process toolstack and backends make, as typed methods over an {@link Lcall}
 * with an argument page of its own: exactly what a dom0 kernel would pass, through the same table the
 * guests call. One thread at a time (the argument page is shared by the calls); give each backend
 * thread its own. Each method answers as the hypercall does: a port or 0, else a negative Xen errno.
 */
public final class Dom0Calls implements AutoCloseable {

    private static final AbiLayouts L = AbiLayouts.X86_64;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment args = arena.allocate(4096, 4096);
    private final Lcall lcall;

    public Dom0Calls(HypercallPage page, Domain dom0) {
        this.lcall = Lcall.dom0(page, dom0, args);
    }

    private long eventChannelOp(int cmd) {
        return lcall.invoke(Hypercalls.__HYPERVISOR_event_channel_op, cmd, args.address());
    }

    private static int result(long rc, int value) {
        return rc < 0 ? (int) rc : value;
    }

    /** {@code EVTCHNOP_alloc_unbound}: a port of {@code domid} that {@code remoteDomid} may bind. */
    public int allocUnbound(int domid, int remoteDomid) {
        args.fill((byte) 0);
        StructLayout s = L.evtchn_alloc_unbound;
        args.set(ValueLayout.JAVA_SHORT, AbiLayouts.offset(s, "dom"), (short) domid);
        args.set(ValueLayout.JAVA_SHORT, AbiLayouts.offset(s, "remote_dom"), (short) remoteDomid);
        long rc = eventChannelOp(XenEvtchn.EVTCHNOP_alloc_unbound);
        return result(rc, args.get(ValueLayout.JAVA_INT, AbiLayouts.offset(s, "port")));
    }

    /** {@code EVTCHNOP_bind_interdomain}: a dom0 port bound to {@code remotePort} of {@code remoteDomid}. */
    public int bindInterdomain(int remoteDomid, int remotePort) {
        args.fill((byte) 0);
        StructLayout s = L.evtchn_bind_interdomain;
        args.set(ValueLayout.JAVA_SHORT, AbiLayouts.offset(s, "remote_dom"), (short) remoteDomid);
        args.set(ValueLayout.JAVA_INT, AbiLayouts.offset(s, "remote_port"), remotePort);
        long rc = eventChannelOp(XenEvtchn.EVTCHNOP_bind_interdomain);
        return result(rc, args.get(ValueLayout.JAVA_INT, AbiLayouts.offset(s, "local_port")));
    }

    /** {@code EVTCHNOP_send} on a dom0 port. */
    public int send(int port) {
        args.set(ValueLayout.JAVA_INT, AbiLayouts.offset(L.evtchn_send, "port"), port);
        return (int) eventChannelOp(XenEvtchn.EVTCHNOP_send);
    }

    /** {@code EVTCHNOP_close} of a dom0 port. */
    public int close(int port) {
        args.set(ValueLayout.JAVA_INT, AbiLayouts.offset(L.evtchn_close, "port"), port);
        return (int) eventChannelOp(XenEvtchn.EVTCHNOP_close);
    }

    /**
     * What {@code EVTCHNOP_status} says of one port.
     *
     * @param status {@code EVTCHNSTAT_*}, or a negative errno
     * @param remote the remote domain of an unbound or interdomain port
     */
    public record PortStatus(int status, int remote) {
    }

    /** {@code EVTCHNOP_status} of {@code domid}'s {@code port}. */
    public PortStatus status(int domid, int port) {
        args.fill((byte) 0);
        StructLayout s = L.evtchn_status;
        args.set(ValueLayout.JAVA_SHORT, AbiLayouts.offset(s, "dom"), (short) domid);
        args.set(ValueLayout.JAVA_INT, AbiLayouts.offset(s, "port"), port);
        long rc = eventChannelOp(XenEvtchn.EVTCHNOP_status);
        if (rc < 0) {
            return new PortStatus((int) rc, 0);
        }
        return new PortStatus(args.get(ValueLayout.JAVA_INT, AbiLayouts.offset(s, "status")),
                Short.toUnsignedInt(args.get(ValueLayout.JAVA_SHORT, AbiLayouts.offset(s, "u.interdomain.dom"))));
    }

    private long grantTableOp(int cmd) {
        return lcall.invoke(Hypercalls.__HYPERVISOR_grant_table_op, cmd, args.address(), 1);
    }

    /** {@code HVMOP_set_param} on {@code domid}. */
    public int setParam(int domid, int index, long value) {
        args.fill((byte) 0);
        StructLayout s = L.xen_hvm_param;
        args.set(ValueLayout.JAVA_SHORT, AbiLayouts.offset(s, "domid"), (short) domid);
        args.set(ValueLayout.JAVA_INT, AbiLayouts.offset(s, "index"), index);
        args.set(ValueLayout.JAVA_LONG, AbiLayouts.offset(s, "value"), value);
        return (int) lcall.invoke(Hypercalls.__HYPERVISOR_hvm_op, XenHvm.HVMOP_set_param, args.address());
    }

    /**
     * What {@code GNTTABOP_map_grant_ref} answered.
     *
     * @param status   {@code GNTST_*}, or a negative Xen errno for the call as a whole
     * @param handle   the mapping's handle, when {@code status} is {@code GNTST_okay}
     * @param hostAddr where in dom0's physmap the page is mapped
     */
    public record GrantMap(int status, int handle, long hostAddr) {
        public boolean ok() {
            return status == XenGnttab.GNTST_okay;
        }
    }

    /**
     * {@code GNTTABOP_map_grant_ref} of {@code domid}'s grant {@code ref} into dom0 ({@code GNTMAP_host_map},
     * with {@code GNTMAP_readonly} if asked), at a free frame of dom0's physmap. The page itself is then
     * {@code dom0.state(GrantMappings.KEY).segment(handle)}.
     */
    public GrantMap mapGrant(int domid, int ref, boolean readonly) {
        long hostAddr = Dom0HostFrames.take() << 12;
        args.fill((byte) 0);
        StructLayout s = L.gnttab_map_grant_ref;
        args.set(ValueLayout.JAVA_LONG, AbiLayouts.offset(s, "host_addr"), hostAddr);
        args.set(ValueLayout.JAVA_INT, AbiLayouts.offset(s, "flags"),
                XenGnttab.GNTMAP_host_map | (readonly ? XenGnttab.GNTMAP_readonly : 0));
        args.set(ValueLayout.JAVA_INT, AbiLayouts.offset(s, "ref"), ref);
        args.set(ValueLayout.JAVA_SHORT, AbiLayouts.offset(s, "dom"), (short) domid);
        long rc = grantTableOp(XenGnttab.GNTTABOP_map_grant_ref);
        int status = rc < 0 ? (int) rc : args.get(ValueLayout.JAVA_SHORT, AbiLayouts.offset(s, "status"));
        if (status != XenGnttab.GNTST_okay) {
            Dom0HostFrames.give(hostAddr >>> 12);
            return new GrantMap(status, -1, 0);
        }
        return new GrantMap(status, args.get(ValueLayout.JAVA_INT, AbiLayouts.offset(s, "handle")), hostAddr);
    }

    /** {@code GNTTABOP_unmap_grant_ref} of a mapping {@link #mapGrant} made: a {@code GNTST_*} status or errno. */
    public int unmapGrant(GrantMap map) {
        args.fill((byte) 0);
        StructLayout s = L.gnttab_unmap_grant_ref;
        args.set(ValueLayout.JAVA_LONG, AbiLayouts.offset(s, "host_addr"), map.hostAddr());
        args.set(ValueLayout.JAVA_INT, AbiLayouts.offset(s, "handle"), map.handle());
        long rc = grantTableOp(XenGnttab.GNTTABOP_unmap_grant_ref);
        int status = rc < 0 ? (int) rc : args.get(ValueLayout.JAVA_SHORT, AbiLayouts.offset(s, "status"));
        if (status == XenGnttab.GNTST_okay) {
            Dom0HostFrames.give(map.hostAddr() >>> 12);
        }
        return status;
    }

    @Override
    public void close() {
        arena.close();
    }
}
