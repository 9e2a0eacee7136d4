package xenshim.x86.vm;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLongArray;
import xenshim.api.ArrayEventWords;
import xenshim.api.EventChannels;
import xenshim.api.EventWords;
import xenshim.api.GuestAtomics;
import xenshim.api.SharedInfo;
import xenshim.api.XenClock;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.XenVcpu;
import xenshim.x86.memory.GuestPhysMemory;
import xenshim.x86.time.TscClock;

/**
 * A guest domain's {@code shared_info} page and vcpu_info areas, in the host memory behind its frames: the
 * event words of the 2-level ABI ({@link EventWords}), the vcpu_info moves of
 * {@code VCPUOP_register_vcpu_info}, and Xen's time ({@code vcpu_time_info}, the wallclock).
 *
 * <p>The page is Xen's from the domain's creation, mapped into the guest or not, so events sent before the
 * guest maps it are there when it does. Every bit operation is one atomic operation on an aligned 32-bit
 * word of host memory, as the guest's {@code lock bts/btr} are, through the memory's {@link GuestAtomics}
 * (so that it is atomic against a guest on the software CPU too, from whatever thread sends): port {@code p}'s bit is bit {@code p % 32}
 * of word {@code p / 32} in both ABIs (little-endian), and only where the arrays start differs.
 * vcpu_infos are aligned (Xen refuses an unaligned {@code register_vcpu_info}), so their first word,
 * holding {@code evtchn_upcall_pending}, is too.
 *
 * <p>Public (its package is not exported) for the fuzz targets, which build guest domains without a CPU
 * and want the real page a {@link Machine} gives its domain, not a stand-in.
 */
public final class SharedInfoPage implements SharedInfo, EventWords {

    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
    private static final long VCPU_INFO_SIZE = AbiLayouts.X86_64.vcpu_info.byteSize();
    private static final long NONE = -1;
    /** Over how long a guest clock found ahead is slowed back onto Xen's time. */
    private static final long SLEW_NS = 100_000_000;

    private final GuestPhysMemory phys;
    private final MemorySegment host;
    /** Every bit operation: atomic against the guest's CPU too (see {@link GuestAtomics}). */
    private final GuestAtomics atomics;
    private final long page;
    private final EventChannels channels;
    private final XenClock clock;
    /** Host offset of each vCPU's vcpu_info; {@link #NONE} for a vCPU beyond the legacy slots that moved none. */
    private final AtomicLongArray vcpuInfo = new AtomicLongArray(ArrayEventWords.MAX_VCPUS);
    private final boolean[] registered = new boolean[ArrayEventWords.MAX_VCPUS];
    private final TscClock[] tscClocks = new TscClock[ArrayEventWords.MAX_VCPUS];
    /** What each vCPU's vcpu_time_info says now, to keep the guest's clock from going back. */
    private final TscClock.Sample[] published = new TscClock.Sample[ArrayEventWords.MAX_VCPUS];

    public SharedInfoPage(GuestPhysMemory phys, EventChannels channels, XenClock clock) {
        this.phys = phys;
        this.host = phys.host();
        this.atomics = phys.atomics();
        this.page = phys.hypervisorPageOffset(0);
        this.channels = Objects.requireNonNull(channels);
        this.clock = Objects.requireNonNull(clock);
        for (int vcpu = 0; vcpu < vcpuInfo.length(); vcpu++) {
            vcpuInfo.set(vcpu, vcpu < XenVcpu.XEN_LEGACY_MAX_VCPUS ? page + vcpu * VCPU_INFO_SIZE : NONE);
        }
        writeWallclock();
    }

    /** How {@code vcpu}'s thread reads its TSC; bound by the vCPU before it first runs. */
    void bindTsc(int vcpu, TscClock tsc) {
        tscClocks[vcpu] = tsc;
    }

    /** The offsets the event words use, for one width of shared_info; looked up once, not per event. */
    private record Offsets(long pending, long mask, long pendingSel, long upcallMask, long time) {
        static Offsets of(AbiLayouts l) {
            return new Offsets(AbiLayouts.offset(l.shared_info, "evtchn_pending"),
                    AbiLayouts.offset(l.shared_info, "evtchn_mask"),
                    AbiLayouts.offset(l.vcpu_info, "evtchn_pending_sel"),
                    AbiLayouts.offset(l.vcpu_info, "evtchn_upcall_mask"),
                    AbiLayouts.offset(l.vcpu_info, "time"));
        }
    }

    private static final Offsets WIDE = Offsets.of(AbiLayouts.X86_64);
    private static final Offsets COMPAT = Offsets.of(AbiLayouts.X86_32);

    private AbiLayouts layouts() {
        return channels.bitsPerWord() == 64 ? AbiLayouts.X86_64 : AbiLayouts.X86_32;
    }

    private Offsets offsets() {
        return channels.bitsPerWord() == 64 ? WIDE : COMPAT;
    }

    /** The host offset of a member of {@code vcpu}'s vcpu_info, or {@link #NONE}. */
    private long vcpuInfoMember(int vcpu, long offset) {
        long base = vcpuInfo.get(vcpu);
        return base == NONE ? NONE : base + offset;
    }

    // ---- atomic bits ----------------------------------------------------------------------------------------

    private boolean testAndSet(long array, int bit) {
        int mask = 1 << (bit & 31);
        return (atomics.getAndBitwiseOr(host, array + (bit >>> 5) * 4L, mask) & mask) != 0;
    }

    private boolean testAndClear(long array, int bit) {
        int mask = 1 << (bit & 31);
        return (atomics.getAndBitwiseAnd(host, array + (bit >>> 5) * 4L, ~mask) & mask) != 0;
    }

    private boolean test(long array, int bit) {
        return ((int) INT.getVolatile(host, array + (bit >>> 5) * 4L) & (1 << (bit & 31))) != 0;
    }

    private int checkPort(int port) {
        return Objects.checkIndex(port, channels.maxPorts());
    }

    // ---- EventWords -----------------------------------------------------------------------------------------

    @Override
    public boolean testAndSetPending(int port) {
        return testAndSet(page + offsets().pending(), checkPort(port));
    }

    @Override
    public boolean testPending(int port) {
        return test(page + offsets().pending(), checkPort(port));
    }

    @Override
    public void clearPending(int port) {
        testAndClear(page + offsets().pending(), checkPort(port));
    }

    @Override
    public boolean testMask(int port) {
        return test(page + offsets().mask(), checkPort(port));
    }

    @Override
    public void setMask(int port) {
        testAndSet(page + offsets().mask(), checkPort(port));
    }

    @Override
    public boolean testAndClearMask(int port) {
        return testAndClear(page + offsets().mask(), checkPort(port));
    }

    /** A vCPU without a vcpu_info (beyond the legacy slots, none registered) has Xen's dummy one: always set. */
    @Override
    public boolean testAndSetPendingSel(int vcpu, int bit) {
        long sel = vcpuInfoMember(vcpu, offsets().pendingSel());
        return sel == NONE || testAndSet(sel, bit);
    }

    @Override
    public boolean testPendingSel(int vcpu, int bit) {
        long sel = vcpuInfoMember(vcpu, offsets().pendingSel());
        return sel != NONE && test(sel, bit);
    }

    @Override
    public boolean testAndSetUpcallPending(int vcpu) {
        long info = vcpuInfo.get(vcpu);
        return info == NONE || testAndSet(info, 0);
    }

    @Override
    public boolean upcallPending(int vcpu) {
        long info = vcpuInfo.get(vcpu);
        return info != NONE && host.get(ValueLayout.JAVA_BYTE, info) != 0;
    }

    @Override
    public boolean upcallMasked(int vcpu) {
        long mask = vcpuInfoMember(vcpu, offsets().upcallMask());
        return mask != NONE && host.get(ValueLayout.JAVA_BYTE, mask) != 0;
    }

    @Override
    public void setUpcallMask(int vcpu, boolean masked) {
        long mask = vcpuInfoMember(vcpu, offsets().upcallMask());
        if (mask != NONE) {
            host.set(ValueLayout.JAVA_BYTE, mask, (byte) (masked ? 1 : 0));
        }
    }

    // ---- SharedInfo -----------------------------------------------------------------------------------------

    /**
     * {@code map_vcpu_info}, in Xen's order: the area must fit in the page (-EINVAL) and be aligned as
     * vcpu_info is for the domain's width (-EINVAL); a vCPU moves its vcpu_info once (-EINVAL); the frame
     * must be the domain's RAM (-EINVAL). The old contents are copied, then every selector bit and
     * {@code evtchn_upcall_pending} are set and the upcall raised, so no event is lost in the move.
     */
    @Override
    public synchronized int registerVcpuInfo(int vcpu, long gfn, int offset) {
        if (vcpu < 0 || vcpu >= channels.maxVcpus()) {
            return -XEN_ENOENT;
        }
        StructLayout layout = layouts().vcpu_info;
        if (Integer.compareUnsigned(offset, (int) (GuestPhysMemory.PAGE_SIZE - layout.byteSize())) > 0
                || (offset & (layout.byteAlignment() - 1)) != 0 || registered[vcpu]) {
            return -XEN_EINVAL;
        }
        long frame = gfn >= 0 && gfn < GuestPhysMemory.MAX_GPFN
                ? phys.translate(gfn << GuestPhysMemory.PAGE_SHIFT) : NONE;
        if (frame < 0) {
            return -XEN_EINVAL;
        }
        long target = frame + offset;
        long old = vcpuInfo.get(vcpu);
        if (old != NONE) {
            MemorySegment.copy(host, old, host, target, layout.byteSize());
        } else {
            host.asSlice(target, layout.byteSize()).fill((byte) 0);
        }
        registered[vcpu] = true;
        vcpuInfo.set(vcpu, target);
        long sel = target + AbiLayouts.offset(layout, "evtchn_pending_sel");
        for (int bit = 0; bit < channels.bitsPerWord(); bit++) {
            testAndSet(sel, bit);
        }
        testAndSet(target, 0);
        updateTime(vcpu);
        channels.assertUpcall(vcpu);
        return 0;
    }

    /**
     * {@code update_vcpu_system_time}: the version made odd, the fields written, the version made even,
     * each step visible before the next, so a guest that reads the version before and after sees a
     * consistent record or retries. The guest's clock never goes back across an update: where the
     * record it had would already read later than the new sample (a measured rate a little fast, a TSC
     * read paired a little late), the new record starts from that later time and runs a little slow
     * until it is back on time, as Xen keeps a vCPU's system time monotonic.
     */
    @Override
    public void updateTime(int vcpu) {
        TscClock tsc = vcpu >= 0 && vcpu < tscClocks.length ? tscClocks[vcpu] : null;
        long time = vcpuInfoMember(vcpu, offsets().time());
        if (tsc == null || time == NONE) {
            return;
        }
        TscClock.Sample sample = tsc.sample();
        TscClock.Sample before = published[vcpu];
        if (before != null) {
            long had = before.systemTime() + before.scale().toNanos(sample.tsc() - before.tsc());
            long ahead = had - sample.systemTime();
            if (ahead > 0) {
                // continue from where the guest's clock is, a little slower, so it is back on time about
                // SLEW_NS from now (by at most a tenth of that per update), never going back
                long hz = sample.scale().hz();
                long slowed = Math.round(hz * (double) SLEW_NS / (SLEW_NS - Math.min(ahead, SLEW_NS / 10)));
                sample = new TscClock.Sample(sample.tsc(), had, TscClock.Scale.forHz(slowed));
            }
        }
        published[vcpu] = sample;
        StructLayout t = AbiLayouts.X86_64.vcpu_time_info; // the same in both ABIs
        long version = time + AbiLayouts.offset(t, "version");
        int v = (int) INT.getVolatile(host, version);
        INT.setVolatile(host, version, (v + 1) | 1);
        host.set(ValueLayout.JAVA_LONG_UNALIGNED, time + AbiLayouts.offset(t, "tsc_timestamp"), sample.tsc());
        host.set(ValueLayout.JAVA_LONG_UNALIGNED, time + AbiLayouts.offset(t, "system_time"), sample.systemTime());
        host.set(ValueLayout.JAVA_INT_UNALIGNED, time + AbiLayouts.offset(t, "tsc_to_system_mul"), sample.scale().mul());
        host.set(ValueLayout.JAVA_BYTE, time + AbiLayouts.offset(t, "tsc_shift"), (byte) sample.scale().shift());
        INT.setVolatile(host, version, ((v + 1) | 1) + 1);
    }

    /** {@code update_domain_wallclock_time}: the wallclock at system time 0, with its version protocol. */
    private void writeWallclock() {
        long wall = clock.wallclockAtZero();
        long sec = Math.floorDiv(wall, 1_000_000_000L);
        int nsec = (int) Math.floorMod(wall, 1_000_000_000L);
        AbiLayouts l = AbiLayouts.X86_64;
        long version = page + AbiLayouts.offset(l.shared_info, "wc_version");
        int v = (int) INT.getVolatile(host, version);
        INT.setVolatile(host, version, (v + 1) | 1);
        host.set(ValueLayout.JAVA_INT, page + AbiLayouts.offset(l.shared_info, "wc_sec"), (int) sec);
        host.set(ValueLayout.JAVA_INT, page + AbiLayouts.offset(l.shared_info, "wc_nsec"), nsec);
        host.set(ValueLayout.JAVA_INT, page + AbiLayouts.offset(l.shared_info, "wc_sec_hi"), (int) (sec >>> 32));
        INT.setVolatile(host, version, ((v + 1) | 1) + 1);
    }
}
