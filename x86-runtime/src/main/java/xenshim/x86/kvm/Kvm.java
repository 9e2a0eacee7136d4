package xenshim.x86.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code /dev/kvm} file descriptor: capability queries and VM creation.
 *
 * <pre>{@code
 * try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(); GuestRam ram = GuestRam.create(vm, 128 << 20);
 *      VcpuFd cpu = vm.createVcpu(0)) { ... }
 * }</pre>
 */
public final class Kvm implements AutoCloseable {
    public static final String PATH = "/dev/kvm";
    /** The only KVM API version there has ever been. */
    public static final int API_VERSION = 12;

    // capabilities (linux/kvm.h)
    public static final int CAP_IRQCHIP = 0, CAP_USER_MEMORY = 3, CAP_EXT_CPUID = 7, CAP_NR_VCPUS = 9,
            CAP_MAX_VCPUS = 66, CAP_SYNC_REGS = 74, CAP_MAX_VCPU_ID = 128, CAP_IMMEDIATE_EXIT = 136,
            CAP_X86_USER_SPACE_MSR = 188, CAP_X86_MSR_FILTER = 189;

    /** KVM_GET_API_VERSION = _IO(KVMIO, 0x00). */
    static final long KVM_GET_API_VERSION = Native.io(0x00);
    /** KVM_CREATE_VM = _IO(KVMIO, 0x01); arg = machine type (0). */
    static final long KVM_CREATE_VM = Native.io(0x01);
    /** KVM_CHECK_EXTENSION = _IO(KVMIO, 0x03); arg = capability. */
    static final long KVM_CHECK_EXTENSION = Native.io(0x03);
    /** KVM_GET_VCPU_MMAP_SIZE = _IO(KVMIO, 0x04). */
    static final long KVM_GET_VCPU_MMAP_SIZE = Native.io(0x04);
    /** KVM_GET_SUPPORTED_CPUID = _IOWR(KVMIO, 0x05, struct kvm_cpuid2) (8 bytes; entries follow). */
    static final long KVM_GET_SUPPORTED_CPUID = Native.iowr(0x05, CpuidEntry.CPUID2_HEADER);

    private final OwnedFd fd;

    private Kvm(int fd) {
        this.fd = new OwnedFd("Kvm", fd);
    }

    /**
     * Opens {@code /dev/kvm} and checks the API version.
     *
     * @throws KvmException with a one-line message if there is no KVM, the user may not use it,
     *     or its API version is not 12
     */
    public static Kvm open() {
        if (!"Linux".equals(System.getProperty("os.name"))) {
            throw new KvmException("KVM needs Linux; this is " + System.getProperty("os.name"));
        }
        if (!"amd64".equals(System.getProperty("os.arch")) && !"x86_64".equals(System.getProperty("os.arch"))) {
            throw new KvmException("this KVM layer needs an x86-64 host; this is " + System.getProperty("os.arch"));
        }
        int fd = Native.open(PATH);
        if (fd < 0) {
            int errno = -fd;
            throw new KvmException(switch (errno) {
                case KvmException.ENOENT -> PATH + " does not exist: this machine has no KVM";
                case KvmException.EACCES, KvmException.EPERM -> PATH + " is not writable by this user"
                        + " (add the user to the group owning it, usually 'kvm', or run as root)";
                case KvmException.ENXIO, KvmException.ENODEV -> PATH + " exists but no KVM driver is loaded ("
                        + KvmException.errnoName(errno) + ")";
                default -> "cannot open " + PATH + ": " + KvmException.errnoName(errno) + " (" + errno + ")";
            });
        }
        Kvm kvm = new Kvm(fd);
        int version;
        try {
            version = kvm.apiVersion();
        } catch (KvmException e) {
            kvm.close();
            throw e;
        }
        if (version != API_VERSION) {
            kvm.close();
            throw new KvmException(PATH + " speaks KVM API version " + version + ", not " + API_VERSION);
        }
        return kvm;
    }

    /** Why {@link #open()} would fail, as its one-line message; empty if KVM is usable. */
    public static Optional<String> unavailableReason() {
        try (Kvm kvm = open()) {
            return kvm.apiVersion() == API_VERSION ? Optional.empty() : Optional.of("unexpected KVM API version");
        } catch (KvmException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** KVM_GET_API_VERSION; 12. */
    public int apiVersion() {
        return Native.ioctl("KVM_GET_API_VERSION", fd.get(), KVM_GET_API_VERSION, 0L);
    }

    /** KVM_CHECK_EXTENSION: 0 if {@code cap} is unsupported, else a positive, cap-specific value. */
    public int checkExtension(int cap) {
        return Native.ioctl("KVM_CHECK_EXTENSION", fd.get(), KVM_CHECK_EXTENSION, cap);
    }

    /** KVM_GET_VCPU_MMAP_SIZE: bytes to mmap from a vCPU fd (kvm_run plus any extra pages). */
    public int vcpuMmapSize() {
        return Native.ioctl("KVM_GET_VCPU_MMAP_SIZE", fd.get(), KVM_GET_VCPU_MMAP_SIZE, 0L);
    }

    /** KVM_GET_SUPPORTED_CPUID: the CPUID leaves KVM can present to a guest on this host. */
    public List<CpuidEntry> supportedCpuid() {
        for (int capacity = 256; ; capacity *= 2) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(CpuidEntry.entryOffset(capacity), 8);
                buf.set(java.lang.foreign.ValueLayout.JAVA_INT, CpuidEntry.NENT, capacity);
                try {
                    Native.ioctl("KVM_GET_SUPPORTED_CPUID", fd.get(), KVM_GET_SUPPORTED_CPUID, buf);
                } catch (KvmException e) {
                    if (e.errno() == KvmException.E2BIG && capacity < 65536) {
                        continue;
                    }
                    throw e;
                }
                int n = buf.get(java.lang.foreign.ValueLayout.JAVA_INT, CpuidEntry.NENT);
                List<CpuidEntry> entries = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    entries.add(CpuidEntry.read(buf, CpuidEntry.entryOffset(i)));
                }
                return List.copyOf(entries);
            }
        }
    }

    /** KVM_CREATE_VM (default machine type). */
    public VmFd createVm() {
        int mmapSize = vcpuMmapSize();
        int vmFd = Native.ioctl("KVM_CREATE_VM", fd.get(), KVM_CREATE_VM, 0L);
        return new VmFd(vmFd, mmapSize);
    }

    @Override
    public void close() {
        fd.close();
    }
}
