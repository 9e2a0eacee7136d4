package xenshim.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import xenshim.api.Domain;
import xenshim.api.GrantMappings;
import xenshim.api.GrantTable;
import xenshim.api.PhysMap.MemoryMapEntry;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenGnttab;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.Lcall;
import xenshim.handlers.gnttab.GrantTableOpHandler;
import xenshim.x86.DomainRegistry;
import xenshim.x86.memory.GuestPhysMemory;

/**
 * Grants as an in-process dom0 backend uses them, through {@link Lcall} and the real
 * {@link GrantTableOpHandler} over the runtime's guest memory ({@link GuestPhysMemory}):
 *
 * <ul>
 * <li>{@link #grantCopy}: one {@code GNTTABOP_copy} of {@value #PAGES} 4 KiB pages, each from a grant of
 *     guest 1 to a grant of guest 2 (both to dom0), per call; per page;</li>
 * <li>{@link #segmentCopy}: {@code MemorySegment.copy} of the same pages between the same host memory,
 *     the floor (target: {@code grantCopy} throughput at least 0.8× of it);</li>
 * <li>{@link #mapUnmap}: {@code GNTTABOP_map_grant_ref} then {@code GNTTABOP_unmap_grant_ref} of one
 *     grant, each its own hypercall, and one read of the mapped page between them.</li>
 * </ul>
 * Throughput, per second: pages copied, or map+unmap pairs.
 *
 * <p>The copies run over a working set of {@code pagesPerSide} distinct pages per side, each call copying
 * the next {@value #PAGES} of them (round and round): {@code 64}, the same pages every call, hot in the
 * caches; and {@code 16384} (64 MiB a side, 128 MiB in all, four times this machine's 32 MiB L3 and more
 * than most), where every page comes from memory, as a backend's copies of fresh guest buffers mostly do.
 * Both copies go over the same pages in the same order, so each pair of numbers compares like with like.
 * {@code mapUnmap} does not use the working set.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--sun-misc-unsafe-memory-access=allow")
public class GrantBenchmark {

    static final int PAGES = 64;
    /** The largest working set: {@code pagesPerSide} may be at most this. */
    static final int MAX_PAGES_PER_SIDE = 16384;
    private static final int FIRST_REF = XenGnttab.GNTTAB_NR_RESERVED_ENTRIES;
    private static final long FIRST_GFN = 0x100;
    private static final long RAM = (FIRST_GFN + MAX_PAGES_PER_SIDE) * GuestPhysMemory.PAGE_SIZE;
    private static final AbiLayouts L = AbiLayouts.X86_64;
    private static final StructLayout COPY = L.gnttab_copy;
    private static final StructLayout MAP = L.gnttab_map_grant_ref;
    private static final StructLayout UNMAP = L.gnttab_unmap_grant_ref;
    private static final long HOST_ADDR = 0x4000_0000L;
    private static final long COPIES_BYTES = MAX_PAGES_PER_SIDE * COPY.byteSize();

    /** Distinct pages per side the copies cycle through: 64 stay in the caches, 16384 do not. */
    @Param({"64", "16384"})
    int pagesPerSide;

    private Arena arena;
    private Lcall lcall;
    private Domain dom0;
    private MemorySegment copies;
    private MemorySegment map;
    private MemorySegment unmap;
    private MemorySegment[] sources;
    private MemorySegment[] dests;
    private int blocks;
    private int block;

    @Setup(Level.Trial)
    public void setUp() {
        if (pagesPerSide % PAGES != 0 || pagesPerSide > MAX_PAGES_PER_SIDE) {
            throw new IllegalArgumentException("pagesPerSide must be a multiple of " + PAGES + " up to "
                    + MAX_PAGES_PER_SIDE);
        }
        arena = Arena.ofShared();
        DomainRegistry domains = new DomainRegistry();
        dom0 = Domain.localDom0();
        domains.add(dom0);
        Domain source = guest(domains, 1);
        Domain dest = guest(domains, 2);
        sources = new MemorySegment[pagesPerSide];
        dests = new MemorySegment[pagesPerSide];
        blocks = pagesPerSide / PAGES;
        MemorySegment dom0Memory = arena.allocate(COPIES_BYTES + 2 * 4096, 4096);
        copies = dom0Memory.asSlice(0, COPIES_BYTES);
        map = dom0Memory.asSlice(COPIES_BYTES, MAP.byteSize());
        unmap = dom0Memory.asSlice(COPIES_BYTES + 4096, UNMAP.byteSize());
        long sourceDomid = AbiLayouts.offset(COPY, "source") + AbiLayouts.offset(L.gnttab_copy_ptr, "domid");
        long destDomid = AbiLayouts.offset(COPY, "dest") + AbiLayouts.offset(L.gnttab_copy_ptr, "domid");
        long sourceRef = AbiLayouts.offset(COPY, "source") + AbiLayouts.offset(L.gnttab_copy_ptr, "u.gmfn");
        long destRef = AbiLayouts.offset(COPY, "dest") + AbiLayouts.offset(L.gnttab_copy_ptr, "u.gmfn");
        int frames = (FIRST_REF + pagesPerSide + GrantTable.ENTRIES_PER_FRAME - 1) / GrantTable.ENTRIES_PER_FRAME;
        if (source.state(GrantTable.KEY).setup(frames) != XenGnttab.GNTST_okay
                || dest.state(GrantTable.KEY).setup(frames) != XenGnttab.GNTST_okay) {
            throw new IllegalStateException("cannot grow the grant tables to " + frames + " frames");
        }
        for (int i = 0; i < pagesPerSide; i++) {
            int ref = FIRST_REF + i;
            long gfn = FIRST_GFN + i;
            source.state(GrantTable.KEY).writeEntry(ref, XenGnttab.GTF_permit_access | XenGnttab.GTF_readonly, 0, gfn);
            dest.state(GrantTable.KEY).writeEntry(ref, XenGnttab.GTF_permit_access, 0, gfn);
            sources[i] = window(source, gfn);
            dests[i] = window(dest, gfn);
            sources[i].fill((byte) i);
            long op = i * COPY.byteSize();
            copies.set(ValueLayout.JAVA_INT, op + sourceRef, ref);
            copies.set(ValueLayout.JAVA_SHORT, op + sourceDomid, (short) source.domid());
            copies.set(ValueLayout.JAVA_INT, op + destRef, ref);
            copies.set(ValueLayout.JAVA_SHORT, op + destDomid, (short) dest.domid());
            copies.set(ValueLayout.JAVA_SHORT, op + AbiLayouts.offset(COPY, "len"), (short) 4096);
            copies.set(ValueLayout.JAVA_SHORT, op + AbiLayouts.offset(COPY, "flags"),
                    (short) (XenGnttab.GNTCOPY_source_gref | XenGnttab.GNTCOPY_dest_gref));
        }
        map.set(ValueLayout.JAVA_LONG, AbiLayouts.offset(MAP, "host_addr"), HOST_ADDR);
        map.set(ValueLayout.JAVA_INT, AbiLayouts.offset(MAP, "flags"), XenGnttab.GNTMAP_host_map);
        map.set(ValueLayout.JAVA_INT, AbiLayouts.offset(MAP, "ref"), FIRST_REF);
        map.set(ValueLayout.JAVA_SHORT, AbiLayouts.offset(MAP, "dom"), (short) dest.domid());
        unmap.set(ValueLayout.JAVA_LONG, AbiLayouts.offset(UNMAP, "host_addr"), HOST_ADDR);
        HypercallTable table = HypercallTable.builder("bench").add(new GrantTableOpHandler(domains)).build();
        lcall = Lcall.dom0(new HypercallPage(table), dom0, dom0Memory);
        check();
    }

    /** A guest with RAM for the largest working set in the runtime's guest memory (no KVM: its slots go nowhere). */
    private Domain guest(DomainRegistry domains, int domid) {
        Domain guest = Domain.guest(domid);
        MemorySegment host = arena.allocate(RAM + GuestPhysMemory.HYPERVISOR_PAGES * GuestPhysMemory.PAGE_SIZE,
                GuestPhysMemory.PAGE_SIZE);
        new GuestPhysMemory(host, RAM, List.of(new MemoryMapEntry(0, RAM, MemoryMapEntry.E820_RAM)),
                GuestPhysMemory.Slots.NONE).attachTo(guest);
        domains.add(guest);
        return guest;
    }

    private static MemorySegment window(Domain domain, long gfn) {
        GuestPhysMemory memory = (GuestPhysMemory) domain.state(xenshim.api.ForeignFrames.KEY);
        return memory.host().asSlice(memory.translate(gfn << 12), 4096);
    }

    /** Fails the trial (not silently measures an error path) if a copy or a map does not do what it should. */
    private void check() {
        for (int b = 0; b < blocks; b++) {
            if (grantCopyBatch() != 0) {
                throw new IllegalStateException("GNTTABOP_copy failed");
            }
        }
        for (int i = 0; i < pagesPerSide; i++) {
            short status = copies.get(ValueLayout.JAVA_SHORT, i * COPY.byteSize() + AbiLayouts.offset(COPY, "status"));
            if (status != XenGnttab.GNTST_okay || dests[i].get(ValueLayout.JAVA_BYTE, 4095) != (byte) i) {
                throw new IllegalStateException("copy " + i + ": " + XenGnttab.statusName(status));
            }
        }
        mapUnmap();
        if (map.get(ValueLayout.JAVA_SHORT, AbiLayouts.offset(MAP, "status")) != XenGnttab.GNTST_okay
                || unmap.get(ValueLayout.JAVA_SHORT, AbiLayouts.offset(UNMAP, "status")) != XenGnttab.GNTST_okay) {
            throw new IllegalStateException("map " + XenGnttab.statusName(map.get(ValueLayout.JAVA_SHORT,
                    AbiLayouts.offset(MAP, "status"))) + ", unmap " + XenGnttab.statusName(unmap.get(
                    ValueLayout.JAVA_SHORT, AbiLayouts.offset(UNMAP, "status"))));
        }
    }

    /** The next block of the working set: its first page. */
    private int nextBlock() {
        int first = block * PAGES;
        block = block + 1 == blocks ? 0 : block + 1;
        return first;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** One call copying the next block of {@value #PAGES} pages. */
    private long grantCopyBatch() {
        return lcall.invoke(Hypercalls.__HYPERVISOR_grant_table_op, XenGnttab.GNTTABOP_copy,
                copies.address() + nextBlock() * COPY.byteSize(), PAGES);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long grantCopy() {
        return grantCopyBatch();
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public void segmentCopy() {
        int first = nextBlock();
        for (int i = first; i < first + PAGES; i++) {
            MemorySegment.copy(sources[i], 0, dests[i], 0, 4096);
        }
    }

    /** Both statuses summed with a byte of the mapped page (shifted up): the JIT keeps all three. */
    @Benchmark
    public long mapUnmap() {
        lcall.invoke(Hypercalls.__HYPERVISOR_grant_table_op, XenGnttab.GNTTABOP_map_grant_ref, map.address(), 1);
        int handle = map.get(ValueLayout.JAVA_INT, AbiLayouts.offset(MAP, "handle"));
        long seen = dom0.state(GrantMappings.KEY).segment(handle).get(ValueLayout.JAVA_BYTE, 0);
        unmap.set(ValueLayout.JAVA_INT, AbiLayouts.offset(UNMAP, "handle"), handle);
        lcall.invoke(Hypercalls.__HYPERVISOR_grant_table_op, XenGnttab.GNTTABOP_unmap_grant_ref, unmap.address(), 1);
        return map.get(ValueLayout.JAVA_SHORT, AbiLayouts.offset(MAP, "status"))
                + unmap.get(ValueLayout.JAVA_SHORT, AbiLayouts.offset(UNMAP, "status")) + (seen << 28);
    }
}
