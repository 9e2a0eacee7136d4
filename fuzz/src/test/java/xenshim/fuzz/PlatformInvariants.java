package xenshim.fuzz;

import static xenshim.api.xen.XenGnttab.GTF_reading;
import static xenshim.api.xen.XenGnttab.GTF_writing;

import java.util.ArrayList;
import java.util.List;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.EventChannels.PortStatus;
import xenshim.api.GrantMappings;
import xenshim.api.GrantTable;
import xenshim.api.PhysMap;
import xenshim.api.xen.XenEvtchn;

/**
 * What must hold between any two hypercalls, whatever the guests did: the platform's own state is
 * consistent. Each check returns what it found wrong, in words, empty if nothing.
 *
 * <ul>
 * <li>Event channels: both ends of every interdomain pair name each other; no port of a table latched
 *     to the compat ABI's 1024 ports is in use beyond them.</li>
 * <li>Grants: every active entry has {@code GTF_reading}, and {@code GTF_writing} exactly while it has
 *     a writable pin; an idle entry has neither (unless the guest wrote the entry while it was pinned, or
 *     can write its whole table, a frame of it being mapped into its physmap: what it writes there is its
 *     business, as on Xen); the pins of all tables add up to
 *     the live mappings of all domains; each active entry holds one reference on its frame and nothing
 *     else holds any.</li>
 * <li>Physmaps: no domain holds more pages than its limit.</li>
 * </ul>
 */
final class PlatformInvariants {

    private static final int WRITE_PINS = 0x00FF_00FF;
    private static final int DEVICE_PINS = 0xFFFF_0000;

    private PlatformInvariants() {
    }

    static List<String> check(FuzzWorld world) {
        List<String> wrong = new ArrayList<>();
        for (Domain domain : world.domains()) {
            ports(world, domain, wrong);
        }
        long pins = 0;
        for (FuzzGuest guest : world.guests) {
            pins += grants(guest, wrong);
            PhysMap physMap = guest.phys;
            if (physMap.totalPages() > physMap.maxPages()) {
                wrong.add(guest.domain + " holds " + physMap.totalPages() + " pages, over its " + physMap.maxPages());
            }
        }
        long mappings = 0;
        for (Domain domain : world.domains()) {
            mappings += domain.find(GrantMappings.KEY).map(GrantMappings::activeMappings).orElse(0);
        }
        if (pins != mappings) {
            wrong.add("the grant tables count " + pins + " host pins but the domains have " + mappings
                    + " live mappings");
        }
        return wrong;
    }

    private static void ports(FuzzWorld world, Domain d, List<String> wrong) {
        EventChannels table = d.state(EventChannels.KEY);
        int[] errno = new int[1];
        for (int port = 0; table.isValid(port); port++) {
            PortStatus status = table.status(d, world.dom0, port, errno);
            if (status == null) {
                wrong.add(d + " port " + port + " is valid but has no status (" + errno[0] + ")");
                continue;
            }
            if (status.state() != EventChannels.State.INTERDOMAIN) {
                continue;
            }
            Domain remote = world.domains().stream().filter(o -> o.domid() == status.remoteDom()).findFirst()
                    .orElse(null);
            if (remote == null) {
                wrong.add(d + " port " + port + " is bound to d" + status.remoteDom() + ", which does not exist");
                continue;
            }
            PortStatus other = remote.state(EventChannels.KEY).status(remote, world.dom0, status.remotePort(), errno);
            if (other == null || other.state() != EventChannels.State.INTERDOMAIN || other.remoteDom() != d.domid()
                    || other.remotePort() != port) {
                wrong.add(d + " port " + port + " is bound to " + remote + " port " + status.remotePort()
                        + ", whose end is " + other);
            }
        }
        if (table.maxPorts() < XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_64) {
            for (int port = table.maxPorts(); port < XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_64; port++) {
                if (table.state(port) != EventChannels.State.FREE) {
                    wrong.add(d + " port " + port + " is " + table.state(port) + " beyond its table's "
                            + table.maxPorts() + " ports");
                    return;
                }
            }
        }
    }

    /** Checks one guest's table; returns its host pins. */
    private static long grants(FuzzGuest guest, List<String> wrong) {
        GrantTable table = guest.phys.grantTable();
        for (int frame = 0; frame < table.nrFrames(); frame++) {
            if (table.frameGfn(frame) != GrantTable.INVALID_GFN) {
                guest.grantTableExposed = true;
            }
        }
        long pins = 0;
        int active = 0;
        int entries = table.nrEntries();
        for (int ref = 0; ref < entries; ref++) {
            int pin = table.pin(ref);
            int flags = table.flags(ref);
            if (pin != 0) {
                active++;
                pins += (pin & 0xFF) + ((pin >>> 8) & 0xFF);
                if ((pin & DEVICE_PINS) != 0) {
                    wrong.add(guest.domain + " grant " + ref + " has device pins " + Integer.toHexString(pin));
                }
            }
            if (pin == 0) {
                guest.overwrittenWhilePinned.remove(ref);
            }
            if (guest.grantTableExposed || guest.overwrittenWhilePinned.contains(ref)) {
                continue;
            }
            boolean reading = (flags & GTF_reading) != 0;
            boolean writing = (flags & GTF_writing) != 0;
            if (reading != (pin != 0) || writing != ((pin & WRITE_PINS) != 0)) {
                wrong.add(guest.domain + " grant " + ref + " has pins " + Integer.toHexString(pin) + " but flags "
                        + Integer.toHexString(flags));
            }
        }
        long references = 0;
        for (long mfn = 0; mfn < FuzzGuest.RAM_PAGES; mfn++) {
            references += guest.phys.references(mfn);
        }
        if (references != active) {
            wrong.add(guest.domain + " has " + active + " active grants but " + references
                    + " references on its pages");
        }
        return pins;
    }
}
