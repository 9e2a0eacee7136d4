package xenshim.x86.record;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.PhysMap;
import xenshim.api.SharedInfo;
import xenshim.dispatcher.record.CallLog;
import xenshim.dispatcher.record.HypercallRecorder;
import xenshim.x86.DomainRegistry;
import xenshim.x86.memory.GuestPhysMemory;

/**
 * What changed on the platform outside hypercalls, told to a recording before each call: domains
 * that joined the registry (DOMAIN) or left it (GONE), guest memory a domain got (MEMORY: the
 * machine that wires it is done once its shared_info is attached), and the bytes of each domain's
 * platform pages (shared_info, the grant-table frames in use) that differ from what the last call
 * saw (PAGE): the grant entries a guest wrote for another domain to map, the event bits the guest
 * cleared or the platform set.
 *
 * <p>Each page is compared with a copy of what was last told, one 4 KiB {@code mismatch} per page
 * and domain per call, only while a run records; a changed page is told as the one range from its
 * first to its last changed byte. A domain whose memory was unmapped (it is being torn down) is no
 * longer read.
 */
public final class PlatformCapture implements HypercallRecorder.Capture {

    private static final long PAGE = GuestPhysMemory.PAGE_SIZE;

    private final DomainRegistry registry;
    private final Map<Integer, Seen> seen = new TreeMap<>();
    private final Arena copies = Arena.ofAuto();

    /** A domain the recording was told about. */
    private static final class Seen {
        final Domain domain;
        GuestPhysMemory memory;
        /** What each platform page held when last told; made zeroed (as a new page is) on first look. */
        final MemorySegment[] told = new MemorySegment[GuestPhysMemory.HYPERVISOR_PAGES];

        Seen(Domain domain) {
            this.domain = domain;
        }
    }

    public PlatformCapture(DomainRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void changes(Consumer<CallLog.Entry> out) {
        List<Domain> now = registry.all();
        for (Iterator<Seen> it = seen.values().iterator(); it.hasNext(); ) {
            Seen s = it.next();
            if (!now.contains(s.domain)) {
                out.accept(new CallLog.DomainGone(s.domain.domid()));
                it.remove();
            }
        }
        for (Domain domain : now) {
            Seen s = seen.get(domain.domid());
            if (s == null) {
                s = new Seen(domain);
                seen.put(domain.domid(), s);
                out.accept(new CallLog.DomainCreated(domain.domid(), domain.type(), domain.isPrivileged(),
                        domain.handle()));
            }
            if (s.memory == null && domain.find(SharedInfo.KEY).isPresent()
                    && domain.find(PhysMap.KEY).orElse(null) instanceof GuestPhysMemory phys) {
                s.memory = phys;
                out.accept(new CallLog.DomainMemory(domain.domid(), phys.maxPages() * PAGE,
                        domain.state(EventChannels.KEY).maxVcpus(), phys.slotLimit(), phys.memoryMap()));
            }
            if (s.memory != null) {
                pages(s, out);
            }
        }
    }

    private void pages(Seen s, Consumer<CallLog.Entry> out) {
        GuestPhysMemory phys = s.memory;
        int pages = GuestPhysMemory.GRANT_FRAME_PAGES + phys.grantTable().nrFrames();
        for (int page = 0; page < pages; page++) {
            if (!phys.host().scope().isAlive()) {
                return;
            }
            MemorySegment live = phys.host().asSlice(phys.hypervisorPageOffset(page), PAGE);
            if (s.told[page] == null) {
                s.told[page] = copies.allocate(PAGE, 8);
            }
            MemorySegment told = s.told[page];
            byte[] bytes;
            long first;
            try {
                first = live.mismatch(told);
                if (first < 0) {
                    continue;
                }
                long last = PAGE - 1;
                while (last > first && live.get(ValueLayout.JAVA_BYTE, last) == told.get(ValueLayout.JAVA_BYTE, last)) {
                    last--;
                }
                bytes = live.asSlice(first, last + 1 - first).toArray(ValueLayout.JAVA_BYTE);
            } catch (IllegalStateException unmapped) {
                return; // the machine closed its memory meanwhile: the domain is going
            }
            MemorySegment.copy(bytes, 0, told, ValueLayout.JAVA_BYTE, first, bytes.length);
            out.accept(new CallLog.PlatformPage(s.domain.domid(), page, (int) first, bytes));
        }
    }
}
