package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xenshim.api.EventChannels;
import xenshim.api.PhysMap.MemoryMapEntry;
import xenshim.api.XenClock;
import xenshim.x86.memory.GuestPhysMemory;
import xenshim.x86.time.TscClock;

/** The event words, vcpu_info moves and time, checked at the byte offsets the Xen headers give. */
class SharedInfoPageTest {

    private static final long RAM = 64 * 4096;
    private static final long PAGE = RAM; // shared_info: the hypervisor page after RAM
    private static final long WALLCLOCK = 1_796_000_000_123_456_789L;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment host = arena.allocate(RAM + GuestPhysMemory.HYPERVISOR_PAGES * GuestPhysMemory.PAGE_SIZE,
            4096);
    private final GuestPhysMemory phys = new GuestPhysMemory(host, RAM,
            List.of(new MemoryMapEntry(0, RAM, MemoryMapEntry.E820_RAM)), GuestPhysMemory.Slots.NONE);
    private final EventChannels channels = new EventChannels();
    private final AtomicLong now = new AtomicLong(5_000_000);
    private final XenClock clock = new XenClock() {
        @Override
        public long now() {
            return now.addAndGet(100);
        }

        @Override
        public long wallclockAtZero() {
            return WALLCLOCK;
        }
    };
    private final SharedInfoPage page = new SharedInfoPage(phys, channels, clock);
    private final List<Integer> raised = new ArrayList<>();

    @AfterEach
    void close() {
        arena.close();
    }

    private boolean bit(long offset, int bit) {
        return (host.get(ValueLayout.JAVA_BYTE, offset + bit / 8) & (1 << (bit % 8))) != 0;
    }

    @Test
    void portBitsAreInTheSharedInfoArraysAndSelectorsInTheVcpuInfo() {
        assertThat(page.testAndSetPending(70)).isFalse();
        assertThat(bit(PAGE + 2048, 70)).as("evtchn_pending at 2048").isTrue();
        assertThat(page.testAndSetPending(70)).isTrue();
        page.setMask(4095);
        assertThat(bit(PAGE + 2560, 4095)).as("evtchn_mask at 2560").isTrue();
        assertThat(page.testAndClearMask(4095)).isTrue();
        assertThat(page.testMask(4095)).isFalse();
        assertThat(page.testAndSetPendingSel(0, 1)).isFalse();
        assertThat(bit(PAGE + 8, 1)).as("vcpu_info[0].evtchn_pending_sel at 8").isTrue();
        assertThat(page.testAndSetUpcallPending(1)).isFalse();
        assertThat(host.get(ValueLayout.JAVA_BYTE, PAGE + 64)).as("vcpu_info[1].evtchn_upcall_pending").isEqualTo((byte) 1);
        assertThat(page.upcallPending(1)).isTrue();
        page.clearPending(70);
        assertThat(bit(PAGE + 2048, 70)).isFalse();
    }

    @Test
    void deliveryThroughTheTableRaisesTheUpcallOnceUntilTheGuestClearsIt() {
        channels.bind(page, raised::add);
        int port = channels.bindIpi(0);
        EventChannels.send(xenshim.api.Domain.guest(1), port); // another domain's table: nothing here
        assertThat(raised).isEmpty();
        channels.delivery().setPending(0, port);
        channels.delivery().clearPending(port);
        channels.delivery().setPending(0, port);
        assertThat(raised).containsExactly(0);
        host.set(ValueLayout.JAVA_BYTE, PAGE, (byte) 0); // the guest's upcall handler: upcall_pending = 0,
        host.set(ValueLayout.JAVA_LONG, PAGE + 8, 0); // xchg(evtchn_pending_sel, 0)
        channels.delivery().clearPending(port);
        channels.delivery().setPending(0, port);
        assertThat(raised).containsExactly(0, 0);
    }

    @Test
    void registerVcpuInfoMovesItAsXenDoes() {
        channels.bind(page, raised::add);
        host.set(ValueLayout.JAVA_BYTE, PAGE + 1, (byte) 1); // evtchn_upcall_mask, to be copied
        assertThat(page.registerVcpuInfo(0, 5, 4096 - 64 + 8)).as("past the page").isEqualTo(-XEN_EINVAL);
        assertThat(page.registerVcpuInfo(0, 5, 4)).as("unaligned").isEqualTo(-XEN_EINVAL);
        assertThat(page.registerVcpuInfo(0, 1L << 40, 0)).as("not RAM").isEqualTo(-XEN_EINVAL);
        assertThat(page.registerVcpuInfo(1, 5, 0)).as("no such vCPU").isEqualTo(-XEN_ENOENT);
        assertThat(page.registerVcpuInfo(0, 5, 128)).isZero();
        long moved = 5 * 4096 + 128;
        assertThat(host.get(ValueLayout.JAVA_BYTE, moved + 1)).as("copied").isEqualTo((byte) 1);
        assertThat(host.get(ValueLayout.JAVA_BYTE, moved)).as("upcall pending").isEqualTo((byte) 1);
        assertThat(host.get(ValueLayout.JAVA_LONG, moved + 8)).as("every selector").isEqualTo(-1L);
        assertThat(raised).containsExactly(0);
        assertThat(page.registerVcpuInfo(0, 6, 0)).as("once only").isEqualTo(-XEN_EINVAL);
        host.set(ValueLayout.JAVA_LONG, moved + 8, 0);
        page.testAndSetPendingSel(0, 3);
        assertThat(host.get(ValueLayout.JAVA_LONG, moved + 8)).isEqualTo(8L);
    }

    /** A guest clock found ahead of Xen's at an update keeps its time and runs slower: never back. */
    @Test
    void anUpdateNeverTakesTheGuestClockBack() {
        AtomicLong jump = new AtomicLong();
        page.bindTsc(0, new TscClock(clock, () -> now.get() * 3 + jump.get(), 3_000_000_000L));
        page.updateTime(0);
        long time = PAGE + 32;
        long tsc0 = host.get(ValueLayout.JAVA_LONG, time + 8);
        long system0 = host.get(ValueLayout.JAVA_LONG, time + 16);
        int mul0 = host.get(ValueLayout.JAVA_INT, time + 24);
        byte shift0 = host.get(ValueLayout.JAVA_BYTE, time + 28);
        jump.set(3_000_000); // the TSC read 1 ms "late": the old record now reads 1 ms ahead
        page.updateTime(0);
        long tsc1 = host.get(ValueLayout.JAVA_LONG, time + 8);
        long system1 = host.get(ValueLayout.JAVA_LONG, time + 16);
        int mul1 = host.get(ValueLayout.JAVA_INT, time + 24);
        long had = system0 + new TscClock.Scale(mul0, shift0, 0).toNanos(tsc1 - tsc0);
        assertThat(system1).as("continues from the guest's time").isEqualTo(had);
        assertThat(system1).isGreaterThan(now.get());
        assertThat(Integer.toUnsignedLong(mul1)).as("runs slower").isLessThan(Integer.toUnsignedLong(mul0));
    }

    @Test
    void timeAndWallclockFollowTheVersionProtocol() {
        page.bindTsc(0, new TscClock(clock, () -> now.get() * 3));
        page.updateTime(0);
        long time = PAGE + 32; // vcpu_info[0].time
        int version = host.get(ValueLayout.JAVA_INT, time);
        assertThat(version % 2).as("even when done").isZero();
        assertThat(version).isPositive();
        long tsc = host.get(ValueLayout.JAVA_LONG, time + 8);
        long system = host.get(ValueLayout.JAVA_LONG, time + 16);
        int mul = host.get(ValueLayout.JAVA_INT, time + 24);
        byte shift = host.get(ValueLayout.JAVA_BYTE, time + 28);
        TscClock.Scale scale = new TscClock.Scale(mul, shift, 0);
        assertThat(tsc).isCloseTo(system * 3, org.assertj.core.api.Assertions.within(600L));
        assertThat(scale.toNanos(3_000_000)).isCloseTo(1_000_000L, org.assertj.core.api.Assertions.within(2L));
        page.updateTime(0);
        assertThat(host.get(ValueLayout.JAVA_INT, time)).isEqualTo(version + 2);

        assertThat(host.get(ValueLayout.JAVA_INT, PAGE + 3072) % 2).as("wc_version even").isZero();
        long sec = Integer.toUnsignedLong(host.get(ValueLayout.JAVA_INT, PAGE + 3076))
                | (long) host.get(ValueLayout.JAVA_INT, PAGE + 3084) << 32;
        assertThat(sec).isEqualTo(WALLCLOCK / 1_000_000_000L);
        assertThat(host.get(ValueLayout.JAVA_INT, PAGE + 3080)).isEqualTo(123_456_789);
    }
}
