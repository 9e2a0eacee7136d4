package xenshim.handlers.gnttab;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenGnttab.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.DomainType;
import xenshim.api.GrantMappings;
import xenshim.api.GrantTable;
import xenshim.api.xen.XenDomains;
import xenshim.handlers.gnttab.GnttabFixture.Ptr;
import xenshim.testkit.TestingForeignFrames;

/**
 * Random sequences of grants, maps, unmaps, copies, revokes and balloon operations by random domains, in
 * both ABIs, checked after every step: a domain only ever maps or copies a page that was granted to it
 * (or that it holds pinned already), every live mapping is the granted page itself and keeps it alive,
 * no page with a reference is ever back in the free pool, the pin counts are the mappings there are, and
 * {@code GTF_reading}/{@code GTF_writing} are set exactly while pinned (unless the guest overwrote the
 * entry meanwhile) and clear once idle. Plain JUnit over seeded {@link Random}s: a failure names its seed.
 */
class GrantPropertyTest {

    private static final int SEEDS = 150;
    private static final int STEPS = 250;
    private static final int REFS = 8;
    private static final long HOLE = GnttabFixture.PAGES + 2;

    /** A mapping the test believes is live. */
    private record Live(Domain mapper, int handle, Domain granter, int ref, long frame, boolean readonly, long host) {
    }

    @Test
    void randomOperationsKeepEveryInvariant() {
        int[] done = new int[3];
        for (long seed = 0; seed < SEEDS; seed++) {
            Run run = new Run(new Random(seed), seed);
            run.steps();
            done[0] += run.maps;
            done[1] += run.copies;
            done[2] += run.overwrites;
        }
        assertThat(done).as("maps, copies and overwrites of pinned entries done: not a vacuous run")
                .satisfies(n -> assertThat(n[0]).isGreaterThan(2 * SEEDS), n -> assertThat(n[1]).isGreaterThan(SEEDS),
                        n -> assertThat(n[2]).isGreaterThan(SEEDS / 10));
    }

    private static final class Run {
        private final Random random;
        private final long seed;
        private final GnttabFixture f = new GnttabFixture();
        private final Domain[] granters = {f.guest, f.other};
        private final Domain[] mappers = {f.dom0, f.local9, f.guest};
        private final List<Live> live = new ArrayList<>();
        /** "granter:ref" of entries the guest overwrote while they were pinned. */
        private final Set<String> tampered = new HashSet<>();
        int maps;
        int copies;
        int overwrites;

        Run(Random random, long seed) {
            this.random = random;
            this.seed = seed;
        }

        private <T> T pick(T[] items) {
            return items[random.nextInt(items.length)];
        }

        private TestingForeignFrames ram(Domain granter) {
            return granter == f.guest ? f.guestRam : f.otherRam;
        }

        private Abi abi() {
            return random.nextBoolean() ? Abi.X86_64 : Abi.X86_32;
        }

        void steps() {
            for (int step = 0; step < STEPS; step++) {
                String what = switch (random.nextInt(7)) {
                    case 0 -> grant();
                    case 1, 2 -> map();
                    case 3 -> unmap();
                    case 4 -> copy();
                    case 5 -> revoke();
                    default -> balloon();
                };
                check("seed " + seed + " step " + step + " " + what);
            }
        }

        private String grant() {
            Domain granter = pick(granters);
            int ref = random.nextInt(REFS);
            int flags = random.nextInt(8) == 0 ? GTF_invalid : GTF_permit_access
                    | (random.nextBoolean() ? GTF_readonly : 0) | (random.nextInt(8) == 0 ? GTF_sub_page : 0);
            int domid = pick(new Integer[] {0, 9, 0, 9, 5, 6});
            long gfn = random.nextInt((int) HOLE + 2);
            if (f.table(granter).pin(ref) != 0) {
                tampered.add(granter.domid() + ":" + ref);
                overwrites++;
            }
            f.table(granter).writeEntry(ref, flags, domid, gfn);
            return "grant d" + granter.domid() + " ref " + ref + " flags " + flags + " to d" + domid + " gfn " + gfn;
        }

        private String map() {
            Domain mapper = pick(mappers);
            Domain granter = pick(granters);
            int ref = random.nextInt(REFS);
            boolean readonly = random.nextBoolean();
            long host = 0x100_000L + ((long) random.nextInt(12) << 12);
            GrantTable table = f.table(granter);
            int flags = table.flags(ref);
            int pinBefore = table.pin(ref);
            long pageBefore = ram(granter).pageAt(table.gfn(ref));
            boolean pinnedByMapper = live.stream().anyMatch(l -> l.granter() == granter && l.ref() == ref
                    && l.mapper() == mapper);
            GnttabFixture.Map map = f.map(mapper, abi(), granter.domid(), ref,
                    GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0), host);
            if (map.status() == GNTST_okay) {
                assertThat(mapper.type()).as("only a local mapper maps").isEqualTo(DomainType.LOCAL);
                if (pinBefore == 0) {
                    assertThat(flags & (GTF_type_mask | GTF_sub_page)).as("granted").isEqualTo(GTF_permit_access);
                    assertThat(table.domid(ref)).as("granted to the mapper").isEqualTo(mapper.domid());
                    assertThat(map.devBusAddr() >>> 12).as("the granted frame").isEqualTo(pageBefore);
                } else {
                    assertThat(pinnedByMapper).as("pinned by this mapper already").isTrue();
                }
                assertThat(readonly || (flags & GTF_readonly) == 0 || pinBefore != 0).isTrue();
                live.add(new Live(mapper, map.handle(), granter, ref, map.devBusAddr() >>> 12, readonly, host));
                maps++;
            } else {
                assertThat(table.pin(ref)).as("a failed map pins nothing").isEqualTo(pinBefore);
            }
            return "map by d" + mapper.domid() + " of d" + granter.domid() + " ref " + ref + ": " + map.status();
        }

        private String unmap() {
            if (live.isEmpty() || random.nextInt(6) == 0) {
                int status = f.unmap(pick(mappers), abi(), random.nextInt(300), 0x100_000L, 0);
                assertThat(status).isIn(GNTST_bad_handle, GNTST_general_error, GNTST_okay);
                return "unmap of a random handle: " + status;
            }
            Live mapping = live.get(random.nextInt(live.size()));
            boolean rightAddress = random.nextInt(5) != 0;
            int status = f.unmap(mapping.mapper(), abi(), mapping.handle(),
                    rightAddress ? mapping.host() : mapping.host() + 0x1000, 0);
            if (rightAddress) {
                assertThat(status).isEqualTo(GNTST_okay);
                live.remove(mapping);
            } else {
                assertThat(status).isEqualTo(GNTST_general_error);
            }
            return "unmap " + mapping + ": " + status;
        }

        private String copy() {
            Domain caller = pick(granters);
            Domain granter = pick(granters);
            int ref = random.nextInt(REFS);
            GrantTable table = granter.state(GrantTable.KEY);
            boolean granted = (table.flags(ref) & GTF_type_mask) == GTF_permit_access
                    && table.domid(ref) == caller.domid() && table.pin(ref) == 0;
            long sourcePage = ram(granter).pageAt(table.gfn(ref));
            int pinBefore = table.pin(ref);
            long own = random.nextInt(GnttabFixture.PAGES);
            int status = f.copy(caller, abi(), new Ptr(ref, granter.domid(), 0), new Ptr(own, XenDomains.DOMID_SELF, 0),
                    64, GNTCOPY_source_gref);
            if (status == GNTST_okay) {
                assertThat(granted).as("copied only from a grant to the caller").isTrue();
                MemorySegment source = ram(granter).page(sourcePage).asSlice(0, 64);
                MemorySegment dest = ram(caller).page(ram(caller).pageAt(own)).asSlice(0, 64);
                assertThat(dest.mismatch(source)).isEqualTo(-1);
                copies++;
            }
            assertThat(table.pin(ref)).as("a copy keeps no pin").isEqualTo(pinBefore);
            return "copy by d" + caller.domid() + " from d" + granter.domid() + " ref " + ref + ": " + status;
        }

        /** The guest's revoke: clears the flags only if neither access flag is set (a compare-and-set). */
        private String revoke() {
            Domain granter = pick(granters);
            int ref = random.nextInt(REFS);
            GrantTable table = f.table(granter);
            int flags = table.flags(ref);
            if ((flags & (GTF_reading | GTF_writing)) != 0) {
                assertThat(table.pin(ref)).as("busy flags only while pinned").isNotZero();
                return "revoke of busy d" + granter.domid() + " ref " + ref + " refused";
            }
            assertThat(table.pin(ref) == 0 || tampered.contains(granter.domid() + ":" + ref))
                    .as("an untampered pinned entry shows it is busy").isTrue();
            MemorySegment entry = table.frame(0).asSlice((long) ref * GrantTable.ENTRY_SIZE, 2);
            entry.set(ValueLayout.JAVA_SHORT, 0, (short) 0);
            return "revoke d" + granter.domid() + " ref " + ref;
        }

        private String balloon() {
            Domain granter = pick(granters);
            long gfn = random.nextInt(GnttabFixture.PAGES + 1);
            if (random.nextBoolean()) {
                return "decrease d" + granter.domid() + " gfn " + gfn + ": " + ram(granter).decrease(gfn, 0);
            }
            return "populate d" + granter.domid() + " gfn " + gfn + ": " + ram(granter).populate(gfn, 0);
        }

        private void check(String after) {
            for (Domain granter : granters) {
                GrantTable table = f.table(granter);
                for (int ref = 0; ref < REFS; ref++) {
                    int r = ref;
                    long ro = live.stream().filter(l -> l.granter() == granter && l.ref() == r && l.readonly()).count();
                    long rw = live.stream().filter(l -> l.granter() == granter && l.ref() == r && !l.readonly()).count();
                    int pin = table.pin(ref);
                    assertThat(pin).as("%s: pins of d%d ref %d", after, granter.domid(), ref)
                            .isEqualTo((int) (ro << 8 | rw));
                    int busy = table.flags(ref) & (GTF_reading | GTF_writing);
                    String key = granter.domid() + ":" + ref;
                    if (pin == 0) {
                        tampered.remove(key);
                        assertThat(busy).as("%s: idle d%d ref %d", after, granter.domid(), ref).isZero();
                    } else if (!tampered.contains(key)) {
                        assertThat(busy).as("%s: busy d%d ref %d", after, granter.domid(), ref)
                                .isEqualTo(GTF_reading | (rw > 0 ? GTF_writing : 0));
                    }
                }
                TestingForeignFrames ram = ram(granter);
                for (long page = 0; page < GnttabFixture.PAGES; page++) {
                    if (ram.isFree(page)) {
                        assertThat(ram.references(page)).as("%s: free page %d of d%d", after, page, granter.domid())
                                .isZero();
                    }
                }
            }
            for (Live mapping : live) {
                TestingForeignFrames ram = ram(mapping.granter());
                MemorySegment window = mapping.mapper().state(GrantMappings.KEY).segment(mapping.handle());
                assertThat(window.address()).as("%s: %s is the granted page", after, mapping)
                        .isEqualTo(ram.page(mapping.frame()).address());
                assertThat(window.isReadOnly()).isEqualTo(mapping.readonly());
                assertThat(ram.isFree(mapping.frame())).as("%s: %s freed", after, mapping).isFalse();
                assertThat(ram.references(mapping.frame())).isPositive();
            }
        }
    }
}
