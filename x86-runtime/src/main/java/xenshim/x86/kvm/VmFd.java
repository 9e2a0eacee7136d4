package xenshim.x86.kvm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.List;

/** A VM file descriptor: guest memory, VM-wide capabilities, MSR filtering, vCPU creation. */
public final class VmFd implements AutoCloseable {

    /** {@code struct kvm_userspace_memory_region}: slot, flags, guest_phys_addr, memory_size, userspace_addr; 32 bytes. */
    static final StructLayout USERSPACE_MEMORY_REGION = MemoryLayout.structLayout(
            JAVA_INT.withName("slot"), JAVA_INT.withName("flags"), JAVA_LONG.withName("guest_phys_addr"),
            JAVA_LONG.withName("memory_size"), JAVA_LONG.withName("userspace_addr"))
            .withName("kvm_userspace_memory_region");
    /** {@code struct kvm_enable_cap}: cap, flags, args[4], pad[64]; 104 bytes. */
    static final StructLayout ENABLE_CAP = MemoryLayout.structLayout(
            JAVA_INT.withName("cap"), JAVA_INT.withName("flags"),
            MemoryLayout.sequenceLayout(4, JAVA_LONG).withName("args"),
            MemoryLayout.sequenceLayout(64, JAVA_BYTE).withName("pad")).withName("kvm_enable_cap");
    /** {@code struct kvm_msr_filter}: flags, pad, ranges[KVM_MSR_FILTER_MAX_RANGES = 16]; 392 bytes. */
    static final StructLayout MSR_FILTER = MemoryLayout.structLayout(
            JAVA_INT.withName("flags"), MemoryLayout.paddingLayout(4),
            MemoryLayout.sequenceLayout(16, MsrFilterRange.LAYOUT).withName("ranges")).withName("kvm_msr_filter");

    /** KVM_SET_USER_MEMORY_REGION = _IOW(KVMIO, 0x46, struct kvm_userspace_memory_region). */
    static final long KVM_SET_USER_MEMORY_REGION = Native.iow(0x46, USERSPACE_MEMORY_REGION);
    /** KVM_CREATE_VCPU = _IO(KVMIO, 0x41); arg = vCPU id. */
    static final long KVM_CREATE_VCPU = Native.io(0x41);
    /** KVM_SET_TSS_ADDR = _IO(KVMIO, 0x47); arg = guest-physical address of 3 pages. */
    static final long KVM_SET_TSS_ADDR = Native.io(0x47);
    /** KVM_SET_IDENTITY_MAP_ADDR = _IOW(KVMIO, 0x48, __u64). */
    static final long KVM_SET_IDENTITY_MAP_ADDR = Native.iow(0x48, JAVA_LONG);
    /** KVM_CREATE_IRQCHIP = _IO(KVMIO, 0x60). */
    static final long KVM_CREATE_IRQCHIP = Native.io(0x60);
    /** KVM_CHECK_EXTENSION = _IO(KVMIO, 0x03), on the VM fd. */
    static final long KVM_CHECK_EXTENSION = Native.io(0x03);
    /** KVM_ENABLE_CAP = _IOW(KVMIO, 0xa3, struct kvm_enable_cap). */
    static final long KVM_ENABLE_CAP = Native.iow(0xa3, ENABLE_CAP);
    /** KVM_X86_SET_MSR_FILTER = _IOW(KVMIO, 0xc6, struct kvm_msr_filter). */
    static final long KVM_X86_SET_MSR_FILTER = Native.iow(0xc6, MSR_FILTER);

    /** KVM_MEM_LOG_DIRTY_PAGES, KVM_MEM_READONLY: memory-region flags. */
    public static final int MEM_LOG_DIRTY_PAGES = 1, MEM_READONLY = 2;
    /** Arguments to KVM_CAP_X86_USER_SPACE_MSR: which failed MSR accesses exit to user space. */
    public static final int MSR_EXIT_REASON_INVAL = 1, MSR_EXIT_REASON_UNKNOWN = 2, MSR_EXIT_REASON_FILTER = 4;
    /** kvm_msr_filter flags: MSRs outside every range are allowed (0) or denied (1). */
    public static final int MSR_FILTER_DEFAULT_ALLOW = 0, MSR_FILTER_DEFAULT_DENY = 1;
    public static final int MSR_FILTER_MAX_RANGES = 16;

    private final OwnedFd fd;
    private final int vcpuMmapSize;

    VmFd(int fd, int vcpuMmapSize) {
        this.fd = new OwnedFd("VmFd", fd);
        this.vcpuMmapSize = vcpuMmapSize;
    }

    /**
     * KVM_SET_USER_MEMORY_REGION: guest-physical {@code guestPhysAddr ..+ hostMemory.byteSize()}
     * is backed by {@code hostMemory} (page-aligned, e.g. from {@link GuestRam}). A zero-sized
     * segment deletes the slot. {@code hostMemory} must stay mapped while the slot exists.
     */
    public void setUserMemoryRegion(int slot, int flags, long guestPhysAddr, MemorySegment hostMemory) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment r = arena.allocate(USERSPACE_MEMORY_REGION);
            r.set(JAVA_INT, USERSPACE_MEMORY_REGION.byteOffset(groupElement("slot")), slot);
            r.set(JAVA_INT, USERSPACE_MEMORY_REGION.byteOffset(groupElement("flags")), flags);
            r.set(JAVA_LONG, USERSPACE_MEMORY_REGION.byteOffset(groupElement("guest_phys_addr")), guestPhysAddr);
            r.set(JAVA_LONG, USERSPACE_MEMORY_REGION.byteOffset(groupElement("memory_size")), hostMemory.byteSize());
            r.set(JAVA_LONG, USERSPACE_MEMORY_REGION.byteOffset(groupElement("userspace_addr")), hostMemory.address());
            Native.ioctl("KVM_SET_USER_MEMORY_REGION", fd.get(), KVM_SET_USER_MEMORY_REGION, r);
        }
    }

    /** KVM_CHECK_EXTENSION on this VM (some answers are per VM). */
    public int checkExtension(int cap) {
        return Native.ioctl("KVM_CHECK_EXTENSION", fd.get(), KVM_CHECK_EXTENSION, cap);
    }

    /** KVM_ENABLE_CAP on the VM with up to 4 arguments. */
    public void enableCap(int cap, long... args) {
        if (args.length > 4) {
            throw new IllegalArgumentException("at most 4 arguments: " + args.length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment c = arena.allocate(ENABLE_CAP);
            c.set(JAVA_INT, ENABLE_CAP.byteOffset(groupElement("cap")), cap);
            long argsAt = ENABLE_CAP.byteOffset(groupElement("args"));
            for (int i = 0; i < args.length; i++) {
                c.set(JAVA_LONG, argsAt + 8L * i, args[i]);
            }
            Native.ioctl("KVM_ENABLE_CAP", fd.get(), KVM_ENABLE_CAP, c);
        }
    }

    /**
     * KVM_X86_SET_MSR_FILTER. Denied accesses exit to user space ({@link VcpuExit.MsrRead},
     * {@link VcpuExit.MsrWrite}) only after {@code enableCap(Kvm.CAP_X86_USER_SPACE_MSR,
     * MSR_EXIT_REASON_FILTER)}; otherwise they #GP.
     *
     * @param flags {@link #MSR_FILTER_DEFAULT_ALLOW} or {@link #MSR_FILTER_DEFAULT_DENY}
     * @param ranges at most 16; an empty list removes the filter
     */
    public void setMsrFilter(int flags, List<MsrFilterRange> ranges) {
        if (ranges.size() > MSR_FILTER_MAX_RANGES) {
            throw new IllegalArgumentException("at most " + MSR_FILTER_MAX_RANGES + " MSR filter ranges");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate(MSR_FILTER);
            f.set(JAVA_INT, MSR_FILTER.byteOffset(groupElement("flags")), flags);
            for (int i = 0; i < ranges.size(); i++) {
                MsrFilterRange range = ranges.get(i);
                long at = MSR_FILTER.byteOffset(groupElement("ranges"), MemoryLayout.PathElement.sequenceElement(i));
                f.set(JAVA_INT, at + MsrFilterRange.FLAGS, range.flags());
                f.set(JAVA_INT, at + MsrFilterRange.NMSRS, range.nmsrs());
                f.set(JAVA_INT, at + MsrFilterRange.BASE, range.base());
                f.set(ADDRESS, at + MsrFilterRange.BITMAP, arena.allocateFrom(JAVA_BYTE, range.bitmap()));
            }
            Native.ioctl("KVM_X86_SET_MSR_FILTER", fd.get(), KVM_X86_SET_MSR_FILTER, f);
        }
    }

    /** KVM_CREATE_IRQCHIP: in-kernel PIC, IOAPIC and LAPICs (then {@code hlt} no longer exits). */
    public void createIrqchip() {
        Native.ioctl("KVM_CREATE_IRQCHIP", fd.get(), KVM_CREATE_IRQCHIP, 0L);
    }

    /** KVM_SET_TSS_ADDR: 3 pages of guest-physical space VMX needs for real mode on old CPUs. */
    public void setTssAddr(long guestPhysAddr) {
        Native.ioctl("KVM_SET_TSS_ADDR", fd.get(), KVM_SET_TSS_ADDR, guestPhysAddr);
    }

    /** KVM_SET_IDENTITY_MAP_ADDR: one page of guest-physical space for VMX's real-mode identity map. */
    public void setIdentityMapAddr(long guestPhysAddr) {
        try (Arena arena = Arena.ofConfined()) {
            Native.ioctl("KVM_SET_IDENTITY_MAP_ADDR", fd.get(), KVM_SET_IDENTITY_MAP_ADDR,
                    arena.allocateFrom(JAVA_LONG, guestPhysAddr));
        }
    }

    /** KVM_CREATE_VCPU, and mmaps its {@code kvm_run}. */
    public VcpuFd createVcpu(int id) {
        int vcpuFd = Native.ioctl("KVM_CREATE_VCPU", fd.get(), KVM_CREATE_VCPU, id);
        try {
            return new VcpuFd(vcpuFd, id, vcpuMmapSize);
        } catch (RuntimeException | Error e) {
            Native.close(vcpuFd);
            throw e;
        }
    }

    /** Closes the VM fd. The VM lives on in the kernel until its vCPU fds are closed too. */
    @Override
    public void close() {
        fd.close();
    }
}
