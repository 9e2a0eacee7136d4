package xenshim.x86.kvm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The libc calls this package makes, as FFM downcall handles, and the ioctl
 * number encoding. Package-private: nothing outside sees a file descriptor.
 */
@SuppressWarnings("restricted")
final class Native {
    private Native() {}

    static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_VH =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... options) {
        return LINKER.downcallHandle(
                LINKER.defaultLookup().find(name).orElseThrow(() -> new KvmException("libc has no " + name)),
                fd, options);
    }

    /** {@code int open(const char *path, int flags, ... mode)}. */
    static final MethodHandle OPEN = libc("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), ERRNO, Linker.Option.firstVariadicArg(2));
    /** {@code int close(int fd)}. */
    static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    /** {@code int ioctl(int fd, unsigned long request, void *arg)}. */
    static final MethodHandle IOCTL_PTR = libc("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), ERRNO, Linker.Option.firstVariadicArg(2));
    /** {@code int ioctl(int fd, unsigned long request, unsigned long arg)}. */
    static final MethodHandle IOCTL_LONG = libc("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), ERRNO, Linker.Option.firstVariadicArg(2));
    /** {@code void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)}. */
    static final MethodHandle MMAP = libc("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), ERRNO);
    /** {@code int munmap(void *addr, size_t len)}. */
    static final MethodHandle MUNMAP = libc("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    /** {@code pid_t gettid(void)} (glibc 2.30+). */
    static final MethodHandle GETTID = libc("gettid", FunctionDescriptor.of(JAVA_INT));

    static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static final int O_RDWR = 2, O_CLOEXEC = 0x80000;
    static final int PROT_READ = 1, PROT_WRITE = 2;
    static final int MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
    static final long PAGE_SIZE = 4096;

    // ---- ioctl numbers (asm-generic/ioctl.h): dir<<30 | size<<16 | type<<8 | nr ----

    static final int KVMIO = 0xAE;
    private static final int IOC_NONE = 0, IOC_WRITE = 1, IOC_READ = 2;

    private static long ioc(int dir, int nr, long size) {
        if (size < 0 || size >= (1 << 14)) {
            throw new IllegalArgumentException("ioctl size " + size);
        }
        return ((long) dir << 30) | (size << 16) | ((long) KVMIO << 8) | nr;
    }

    /** {@code _IO(KVMIO, nr)}. */
    static long io(int nr) {
        return ioc(IOC_NONE, nr, 0);
    }

    /** {@code _IOR(KVMIO, nr, T)} with {@code sizeof(T) == layout.byteSize()}. */
    static long ior(int nr, MemoryLayout layout) {
        return ioc(IOC_READ, nr, layout.byteSize());
    }

    /** {@code _IOW(KVMIO, nr, T)} with {@code sizeof(T) == layout.byteSize()}. */
    static long iow(int nr, MemoryLayout layout) {
        return ioc(IOC_WRITE, nr, layout.byteSize());
    }

    /** {@code _IOWR(KVMIO, nr, T)} with {@code sizeof(T) == layout.byteSize()}. */
    static long iowr(int nr, MemoryLayout layout) {
        return ioc(IOC_READ | IOC_WRITE, nr, layout.byteSize());
    }

    // ---- calls (cold path: one small confined arena per call for errno) ----

    static int errno(MemorySegment capture) {
        return (int) ERRNO_VH.get(capture, 0L);
    }

    /** ioctl with a pointer argument; returns the non-negative result or throws naming {@code name}. */
    static int ioctl(String name, int fd, long request, MemorySegment arg) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE_LAYOUT);
            int r = (int) IOCTL_PTR.invokeExact(capture, fd, request, arg);
            if (r < 0) {
                throw new KvmException(name, errno(capture));
            }
            return r;
        } catch (KvmException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** ioctl with an integer argument; returns the non-negative result or throws naming {@code name}. */
    static int ioctl(String name, int fd, long request, long arg) {
        return ioctl(name, fd, request, MemorySegment.ofAddress(arg));
    }

    /** Opens {@code path} read-write, close-on-exec; returns the fd or {@code -errno}. */
    static int open(String path) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE_LAYOUT);
            int r = (int) OPEN.invokeExact(capture, arena.allocateFrom(path), O_RDWR | O_CLOEXEC, 0);
            return r < 0 ? -errno(capture) : r;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static void close(int fd) {
        try {
            int r = (int) CLOSE.invokeExact(fd);
            assert r == 0 || r == -1;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * mmaps {@code size} bytes and returns them as a segment in {@code arena}; closing the
     * arena munmaps them.
     */
    static MemorySegment mmap(long size, int prot, int flags, int fd, Arena arena) {
        long address;
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment capture = tmp.allocate(CAPTURE_LAYOUT);
            MemorySegment p = (MemorySegment) MMAP.invokeExact(capture, MemorySegment.NULL, size, prot, flags, fd, 0L);
            address = p.address();
            if (address == -1L) {
                throw new KvmException("mmap of " + size + " bytes", errno(capture));
            }
        } catch (KvmException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        return MemorySegment.ofAddress(address).reinterpret(size, arena, s -> munmap(s.address(), size));
    }

    private static void munmap(long address, long size) {
        try {
            int r = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(address), size);
            assert r == 0;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
