package xenshim.api.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestInstance.Lifecycle;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import xenshim.api.GuestFault;
import xenshim.api.GuestMemory;

/**
 * The {@link GuestMemory} contract, checked the same way for every
 * implementation: each access either touches all of its range or, when any
 * byte of it is not accessible, throws a {@link GuestFault} naming the first
 * such byte and touches nothing (the memory and the Java-side buffer are
 * compared byte for byte with snapshots). A zero-length access always
 * succeeds. Addresses are unsigned and a range past 2<sup>64</sup> wraps to 0.
 *
 * <p>A subclass lists {@link #shapes}: fresh memories with their raw bytes,
 * the {@link Truth} of which bytes they map, and landmark addresses (hole
 * edges, read-only pages, the end). Every access is tried at each landmark
 * (and at 0 and 2<sup>63</sup>) shifted by a page or a few bytes either way,
 * over lengths from 0 to more than two pages.
 */
@TestInstance(Lifecycle.PER_CLASS)
public abstract class GuestMemoryContract {

    protected static final int PAGE = 4096;

    private static final long[] SHIFTS = {-PAGE - 1, -PAGE, -33, -32, -17, -16, -9, -8, -7, -4, -3, -2, -1,
                                          0, 1, 2, 3, 7, 8, PAGE - 1};
    private static final int[] LENGTHS = {0, 1, 2, 3, 7, 8, 9, 31, 32, 33, PAGE - 1, PAGE, PAGE + 1, 2 * PAGE + 5};
    /** Bytes of a Java-side buffer either side of the part an access may use. */
    private static final int GUARD = 5;
    private static final byte SENTINEL = 0x5A;
    /** What a fill writes: never a byte of the initial contents, so an unwritten byte shows. */
    private static final byte FILL = 0;

    /** Where the byte at a caller address lives in a memory's raw bytes, or -1 if it is not accessible. */
    @FunctionalInterface
    public interface Truth {
        long offset(long address, boolean write);
    }

    /** A memory under test, its raw bytes (bypassing all checks), the truth about it, its landmarks. */
    public record Subject(GuestMemory memory, MemorySegment raw, Truth truth, List<Long> landmarks) {
    }

    /** A named way to make a fresh {@link Subject}. */
    public record Shape(String name, Supplier<Subject> make) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** The memories to check, each made fresh for every test. */
    protected abstract List<Shape> shapes();

    /** Every access the interface offers. */
    enum Access {
        READ8(1), READ16(2), READ32(4), READ64(8), WRITE8(1), WRITE16(2), WRITE32(4), WRITE64(8),
        READ_ARRAY(0), READ_SEGMENT(0), READ_BYTES(0), WRITE_ARRAY(0), WRITE_SEGMENT(0), FILL(0);

        /** The fixed size of a scalar access, 0 for a ranged one. */
        final int size;

        Access(int size) {
            this.size = size;
        }

        boolean writes() {
            return name().startsWith("WRITE") || this == FILL;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void scalarReadsAndWritesAreAllOrNothing(Shape shape) {
        check(shape, Access.READ8, Access.READ16, Access.READ32, Access.READ64,
                Access.WRITE8, Access.WRITE16, Access.WRITE32, Access.WRITE64);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void rangedReadsAreAllOrNothing(Shape shape) {
        check(shape, Access.READ_ARRAY, Access.READ_SEGMENT, Access.READ_BYTES);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void rangedWritesAreAllOrNothing(Shape shape) {
        check(shape, Access.WRITE_ARRAY, Access.WRITE_SEGMENT);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void fillsAreAllOrNothing(Shape shape) {
        check(shape, Access.FILL);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void aRangeWrappingPastTheTopOfTheAddressSpaceIsCheckedAsAnyOther(Shape shape) {
        Probe probe = new Probe(shape.make().get());
        for (Access access : Access.values()) {
            probe.check(access, 0xFFFF_FFFF_FFFF_FFF0L, access.size == 0 ? 32 : access.size);
            probe.check(access, -1L, access.size == 0 ? 2 : access.size);
        }
    }

    private void check(Shape shape, Access... accesses) {
        Probe probe = new Probe(shape.make().get());
        long[] addresses = probe.addresses();
        for (Access access : accesses) {
            for (long address : addresses) {
                if (access.size != 0) {
                    probe.check(access, address, access.size);
                } else {
                    for (int length : LENGTHS) {
                        probe.check(access, address, length);
                    }
                }
            }
        }
    }

    /** One subject, its initial bytes, and the check of one access against the truth. */
    private static final class Probe {
        private final Subject subject;
        private final MemorySegment initial;

        Probe(Subject subject) {
            this.subject = subject;
            byte[] bytes = new byte[Math.toIntExact(subject.raw().byteSize())];
            Random random = new Random(42);
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (1 + random.nextInt(255)); // never FILL
            }
            this.initial = MemorySegment.ofArray(bytes);
            MemorySegment.copy(initial, 0, subject.raw(), 0, bytes.length);
        }

        long[] addresses() {
            return LongStream.concat(subject.landmarks().stream().mapToLong(Long::longValue), LongStream.of(0, Long.MIN_VALUE))
                    .flatMap(landmark -> Arrays.stream(SHIFTS).map(shift -> landmark + shift))
                    .distinct()
                    .toArray();
        }

        void check(Access access, long address, int length) {
            String what = access + " of " + length + " bytes at 0x" + Long.toHexString(address);
            long[] offsets = new long[length];
            long firstBad = 0;
            boolean faults = false;
            for (int i = 0; i < length && !faults; i++) {
                offsets[i] = subject.truth().offset(address + i, access.writes());
                faults = offsets[i] < 0;
                firstBad = address + i;
            }
            byte[] data = new byte[length];
            for (int i = 0; i < length && !faults; i++) {
                data[i] = access == Access.FILL ? FILL : (byte) ~initial.get(ValueLayout.JAVA_BYTE, offsets[i]);
            }
            byte[] buffer = new byte[length + 2 * GUARD];
            Arrays.fill(buffer, SENTINEL);
            if (access.writes()) {
                System.arraycopy(data, 0, buffer, GUARD, length);
            }
            byte[] before = buffer.clone();

            Throwable thrown = null;
            byte[] read = null;
            try {
                read = perform(access, address, length, buffer, data);
            } catch (Throwable t) {
                thrown = t;
            }

            if (faults) {
                assertThat(thrown).as(what + " faults").isInstanceOf(GuestFault.class);
                assertThat(((GuestFault) thrown).address()).as(what + ": the fault names the first bad byte")
                        .isEqualTo(firstBad);
                assertThat(Arrays.mismatch(buffer, before)).as(what + ": the Java-side buffer is untouched (first change)")
                        .isEqualTo(-1);
                assertUnchanged(what + " faulted, yet touched the memory", initial);
                return;
            }
            assertThat(thrown).as(what + " succeeds").isNull();
            MemorySegment expected = initial;
            if (access.writes()) {
                expected = MemorySegment.ofArray(initial.toArray(ValueLayout.JAVA_BYTE));
                for (int i = 0; i < length; i++) {
                    expected.set(ValueLayout.JAVA_BYTE, offsets[i], data[i]);
                }
            } else {
                byte[] want = new byte[length];
                for (int i = 0; i < length; i++) {
                    want[i] = initial.get(ValueLayout.JAVA_BYTE, offsets[i]);
                }
                assertThat(Arrays.mismatch(read, want)).as(what + " reads the bytes at those addresses (first wrong one)")
                        .isEqualTo(-1);
                if (access == Access.READ_ARRAY || access == Access.READ_SEGMENT) {
                    assertThat(Arrays.copyOfRange(buffer, 0, GUARD)).as(what + ": before the buffer's part")
                            .containsOnly(SENTINEL);
                    assertThat(Arrays.copyOfRange(buffer, GUARD + length, buffer.length))
                            .as(what + ": after the buffer's part").containsOnly(SENTINEL);
                }
            }
            assertUnchanged(what + " changed other bytes than its own", expected);
            MemorySegment.copy(initial, 0, subject.raw(), 0, initial.byteSize());
        }

        private void assertUnchanged(String what, MemorySegment expected) {
            long mismatch = subject.raw().mismatch(expected);
            assertThat(mismatch).as(what + " (first difference at raw offset shown)").isEqualTo(-1L);
        }

        /** Does the access; returns what a read read (null for a write). */
        private byte[] perform(Access access, long address, int length, byte[] buffer, byte[] data) {
            GuestMemory memory = subject.memory();
            ByteBuffer le = ByteBuffer.wrap(Arrays.copyOf(data, 8)).order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer out = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            switch (access) {
                case READ8 -> out.put(memory.read8(address));
                case READ16 -> out.putShort(memory.read16(address));
                case READ32 -> out.putInt(memory.read32(address));
                case READ64 -> out.putLong(memory.read64(address));
                case WRITE8 -> memory.write8(address, le.get(0));
                case WRITE16 -> memory.write16(address, le.getShort(0));
                case WRITE32 -> memory.write32(address, le.getInt(0));
                case WRITE64 -> memory.write64(address, le.getLong(0));
                case READ_ARRAY -> {
                    memory.read(address, buffer, GUARD, length);
                    return Arrays.copyOfRange(buffer, GUARD, GUARD + length);
                }
                case READ_SEGMENT -> {
                    memory.read(address, MemorySegment.ofArray(buffer).asSlice(GUARD, length));
                    return Arrays.copyOfRange(buffer, GUARD, GUARD + length);
                }
                case READ_BYTES -> {
                    return memory.readBytes(address, length);
                }
                case WRITE_ARRAY -> memory.write(address, buffer, GUARD, length);
                case WRITE_SEGMENT -> memory.write(address, MemorySegment.ofArray(buffer).asSlice(GUARD, length));
                case FILL -> memory.fill(address, length, FILL);
            }
            return access.writes() ? null : Arrays.copyOf(out.array(), length);
        }
    }

    /** The truth of a memory made of 4 KiB pages at {@code base}, some unmapped, some read-only. */
    protected static Truth pages(long base, int count, List<Integer> unmapped, List<Integer> readOnly) {
        return (address, write) -> {
            long offset = address - base;
            if (Long.compareUnsigned(offset, (long) count * PAGE) >= 0) {
                return -1;
            }
            int page = (int) (offset / PAGE);
            return unmapped.contains(page) || (write && readOnly.contains(page)) ? -1 : offset;
        };
    }

    /** The truth of one contiguous segment of {@code size} bytes at {@code base}, wrapping past 2<sup>64</sup>. */
    protected static Truth segment(long base, long size) {
        return (address, write) -> Long.compareUnsigned(address - base, size) < 0 ? address - base : -1;
    }
}
