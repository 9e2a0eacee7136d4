package xenshim.x86.memory;

import xenshim.api.PagedGuestMemory;

/**
 * A vCPU's address space as hypercall arguments see it: guest-linear
 * addresses translated through the guest's own page tables in whatever
 * paging mode the vCPU is in (none, 32-bit, PAE, 4- or 5-level), then through
 * the domain's {@link GuestPhysMemory}. Like Xen's {@code hvm_copy_*_guest_linear}
 * it walks as a supervisor access, needs the R/W bit on every level for a
 * write when CR0.WP is set, and turns any failure into a fault (the guest gets
 * {@code -EFAULT}; no #PF is injected).
 *
 * <p>The vCPU loop calls {@link #refresh} with the control registers before
 * each hypercall. A one-entry cache keeps the last translated page for the
 * rest of that call, as long as the domain's p2m has not changed since
 * ({@link GuestPhysMemory#generation}): a {@code decrease_reservation} in the
 * middle of a call makes the next access walk again and find the hole.
 * Allocation-free.
 */
public final class VcpuMemory extends PagedGuestMemory {

    private static final long CR0_PE = 1L;
    private static final long CR0_WP = 1L << 16;
    private static final long CR0_PG = 1L << 31;
    private static final long CR4_PSE = 1L << 4;
    private static final long CR4_PAE = 1L << 5;
    private static final long CR4_LA57 = 1L << 12;
    private static final long EFER_LMA = 1L << 10;

    private static final long PTE_P = 1L;
    private static final long PTE_RW = 1L << 1;
    private static final long PTE_PS = 1L << 7;
    private static final long ADDR_MASK = 0x000F_FFFF_FFFF_F000L;
    private static final long NONE = -1;

    private final GuestPhysMemory phys;
    private long cr0;
    private long cr3;
    private long cr4;
    private long efer;

    private long cachedPage = NONE;
    private long cachedGeneration;
    private long cachedHost;
    private boolean cachedWritable;

    public VcpuMemory(GuestPhysMemory phys) {
        super(phys.host());
        this.phys = phys;
    }

    /** Takes the vCPU's paging state for the calls that follow; drops the cache. */
    public void refresh(long newCr0, long newCr3, long newCr4, long newEfer) {
        this.cr0 = newCr0;
        this.cr3 = newCr3;
        this.cr4 = newCr4;
        this.efer = newEfer;
        this.cachedPage = NONE;
    }

    @Override
    protected long translate(long address, boolean write) {
        long page = address & ~(PAGE_SIZE - 1L);
        long generation = phys.generation(); // before the walk: a change during it makes the next access walk again
        if (page == cachedPage && (cachedWritable || !write) && generation == cachedGeneration) {
            return cachedHost | (address & (PAGE_SIZE - 1L));
        }
        long gpa = linearToPhysical(address, write);
        if (gpa == NONE) {
            return NONE;
        }
        long host = phys.translate(gpa);
        if (host == NONE) {
            return NONE;
        }
        cachedPage = page;
        cachedGeneration = generation;
        cachedHost = host & ~(PAGE_SIZE - 1L);
        cachedWritable = write;
        return host;
    }

    /** The guest-physical address of {@code linear}, or -1 if the walk fails. Package-private for the tests. */
    long linearToPhysical(long linear, boolean write) {
        if ((cr0 & CR0_PG) == 0 || (cr0 & CR0_PE) == 0) {
            return (efer & EFER_LMA) != 0 ? linear : linear & 0xFFFF_FFFFL;
        }
        boolean checkWrite = write && (cr0 & CR0_WP) != 0;
        if ((efer & EFER_LMA) != 0) {
            return longMode(linear, checkWrite);
        }
        if (linear >>> 32 != 0) {
            return NONE;
        }
        return (cr4 & CR4_PAE) != 0 ? pae(linear, checkWrite) : legacy(linear, checkWrite);
    }

    private long longMode(long linear, boolean checkWrite) {
        int levels = (cr4 & CR4_LA57) != 0 ? 5 : 4;
        int bits = 12 + 9 * levels;
        long high = linear >> (bits - 1);
        if (high != 0 && high != -1) {
            return NONE; // not canonical
        }
        long table = cr3 & ADDR_MASK;
        for (int level = levels; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            long entry = entry(table + (((linear >>> shift) & 0x1FF) << 3));
            if ((entry & PTE_P) == 0 || (checkWrite && (entry & PTE_RW) == 0)) {
                return NONE;
            }
            if (level == 1 || ((level == 2 || level == 3) && (entry & PTE_PS) != 0)) {
                long size = 1L << shift;
                return (entry & ADDR_MASK & ~(size - 1)) | (linear & (size - 1));
            }
            table = entry & ADDR_MASK;
        }
        return NONE;
    }

    private long pae(long linear, boolean checkWrite) {
        long pdpte = entry((cr3 & 0xFFFF_FFE0L) + ((linear >>> 30) << 3));
        if ((pdpte & PTE_P) == 0) {
            return NONE;
        }
        long pde = entry((pdpte & ADDR_MASK) + (((linear >>> 21) & 0x1FF) << 3));
        if ((pde & PTE_P) == 0 || (checkWrite && (pde & PTE_RW) == 0)) {
            return NONE;
        }
        if ((pde & PTE_PS) != 0) {
            return (pde & ADDR_MASK & ~0x1F_FFFFL) | (linear & 0x1F_FFFFL);
        }
        long pte = entry((pde & ADDR_MASK) + (((linear >>> 12) & 0x1FF) << 3));
        if ((pte & PTE_P) == 0 || (checkWrite && (pte & PTE_RW) == 0)) {
            return NONE;
        }
        return (pte & ADDR_MASK) | (linear & 0xFFF);
    }

    private long legacy(long linear, boolean checkWrite) {
        long pde = entry32((cr3 & 0xFFFF_F000L) + ((linear >>> 22) << 2));
        if ((pde & PTE_P) == 0 || (checkWrite && (pde & PTE_RW) == 0)) {
            return NONE;
        }
        if ((pde & PTE_PS) != 0 && (cr4 & CR4_PSE) != 0) {
            return (pde & 0xFFC0_0000L) | (linear & 0x3F_FFFFL);
        }
        long pte = entry32((pde & 0xFFFF_F000L) + (((linear >>> 12) & 0x3FF) << 2));
        if ((pte & PTE_P) == 0 || (checkWrite && (pte & PTE_RW) == 0)) {
            return NONE;
        }
        return (pte & 0xFFFF_F000L) | (linear & 0xFFF);
    }

    /** A 64-bit table entry at guest-physical {@code gpa}; 0 (not present) if the table is not backed. */
    private long entry(long gpa) {
        long host = phys.translate(gpa);
        return host == NONE ? 0 : phys.read64(host);
    }

    private long entry32(long gpa) {
        long host = phys.translate(gpa);
        return host == NONE ? 0 : phys.read32(host);
    }
}
