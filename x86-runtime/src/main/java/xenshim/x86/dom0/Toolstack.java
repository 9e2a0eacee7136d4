package xenshim.x86.dom0;

import java.util.Objects;
import xenshim.api.Domain;
import xenshim.api.xen.XenHvm;
import xenshim.dispatcher.HypercallPage;

/**
 * What Xen's toolstack does for each guest before it boots, as dom0 with hypercalls: the interdomain
 * channels its console and store backends need (ports of the guest reserved for dom0, published in
 * {@code HVM_PARAM_CONSOLE_EVTCHN} and {@code HVM_PARAM_STORE_EVTCHN}, dom0's ends bound), and channels
 * between two guests (a port of one reserved for the other, which the other binds).
 */
public final class Toolstack implements AutoCloseable {

    /**
     * One guest's toolstack channels.
     *
     * @param console the guest's console port; {@code dom0Console} is dom0's end
     * @param store   the guest's store port; {@code dom0Store} is dom0's end
     */
    public record GuestChannels(int console, int store, int dom0Console, int dom0Store) {
    }

    private final Dom0Calls calls;

    public Toolstack(HypercallPage page, Domain dom0) {
        this.calls = new Dom0Calls(page, Objects.requireNonNull(dom0));
    }

    /**
     * Creates {@code guest}'s console and store channels and publishes them in its HVM params.
     *
     * @throws IllegalStateException naming the hypercall that failed and its errno
     */
    public synchronized GuestChannels createChannels(Domain guest) {
        int domid = guest.domid();
        int console = check("alloc_unbound (console)", calls.allocUnbound(domid, 0));
        int store = check("alloc_unbound (store)", calls.allocUnbound(domid, 0));
        check("set_param CONSOLE_EVTCHN", calls.setParam(domid, XenHvm.HVM_PARAM_CONSOLE_EVTCHN, console));
        check("set_param STORE_EVTCHN", calls.setParam(domid, XenHvm.HVM_PARAM_STORE_EVTCHN, store));
        int dom0Console = check("bind_interdomain (console)", calls.bindInterdomain(domid, console));
        int dom0Store = check("bind_interdomain (store)", calls.bindInterdomain(domid, store));
        return new GuestChannels(console, store, dom0Console, dom0Store);
    }

    /** Publishes {@code guest}'s console and store ring pages in {@code HVM_PARAM_CONSOLE_PFN} and {@code _STORE_PFN}. */
    public synchronized void publishRingPages(Domain guest, long consolePfn, long storePfn) {
        check("set_param CONSOLE_PFN", calls.setParam(guest.domid(), XenHvm.HVM_PARAM_CONSOLE_PFN, consolePfn));
        check("set_param STORE_PFN", calls.setParam(guest.domid(), XenHvm.HVM_PARAM_STORE_PFN, storePfn));
    }

    /**
     * Closes dom0's ends of a dead guest's console and store channels, as the toolstack does when it
     * reaps the domain (the guest's ends are gone with it; dom0's were left unbound).
     */
    public synchronized void closeChannels(GuestChannels channels) {
        calls.close(channels.dom0Console());
        calls.close(channels.dom0Store());
    }

    /** A port of {@code owner} reserved for {@code peer}, which {@code peer} binds with bind_interdomain. */
    public synchronized int reservePort(Domain owner, Domain peer) {
        return check("alloc_unbound (d" + owner.domid() + " for d" + peer.domid() + ")",
                calls.allocUnbound(owner.domid(), peer.domid()));
    }

    private static int check(String what, int rc) {
        if (rc < 0) {
            throw new IllegalStateException("toolstack: " + what + " failed with " + rc);
        }
        return rc;
    }

    @Override
    public synchronized void close() {
        calls.close();
    }
}
