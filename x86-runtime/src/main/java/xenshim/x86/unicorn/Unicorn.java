package xenshim.x86.unicorn;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The Unicorn engine ({@code libunicorn.so.2}, Debian's {@code libunicorn2} 2.0.1) as FFM
 * downcall handles: one method per C function this package uses, the constants of
 * {@code <unicorn/unicorn.h>} and {@code <unicorn/x86.h>} it needs (under their C names; a probe
 * test compiles them against the headers), and the two structs it passes. Package-private: nothing
 * outside sees a {@code uc_engine *}.
 *
 * <p>Each call returns the {@code uc_err}; {@link #check} turns a failure into a
 * {@link UnicornException}. The hot-path calls ({@link #emuStart}, {@link #regRead},
 * {@link #regWrite}, {@link #emuStop}) allocate nothing and never throw for a {@code uc_err}, so hooks
 * can use them.
 */
@SuppressWarnings("restricted")
final class Unicorn {
    private Unicorn() {}

    static final String LIBRARY = "libunicorn.so.2";
    static final String HOW_TO_INSTALL = "install libunicorn2 (apt-get install libunicorn2)";

    // ---- unicorn.h ----

    static final int UC_API_MAJOR = 2;
    static final int UC_ARCH_X86 = 4;
    static final int UC_MODE_64 = 1 << 3;

    static final int UC_ERR_OK = 0, UC_ERR_NOMEM = 1, UC_ERR_ARCH = 2, UC_ERR_HANDLE = 3, UC_ERR_MODE = 4,
            UC_ERR_VERSION = 5, UC_ERR_READ_UNMAPPED = 6, UC_ERR_WRITE_UNMAPPED = 7, UC_ERR_FETCH_UNMAPPED = 8,
            UC_ERR_HOOK = 9, UC_ERR_INSN_INVALID = 10, UC_ERR_MAP = 11, UC_ERR_WRITE_PROT = 12,
            UC_ERR_READ_PROT = 13, UC_ERR_FETCH_PROT = 14, UC_ERR_ARG = 15, UC_ERR_READ_UNALIGNED = 16,
            UC_ERR_WRITE_UNALIGNED = 17, UC_ERR_FETCH_UNALIGNED = 18, UC_ERR_HOOK_EXIST = 19,
            UC_ERR_RESOURCE = 20, UC_ERR_EXCEPTION = 21;

    /** {@code uc_err} names, indexed by value (the probe test checks each against its constant). */
    private static final String[] ERROR_NAMES = {
        "UC_ERR_OK", "UC_ERR_NOMEM", "UC_ERR_ARCH", "UC_ERR_HANDLE", "UC_ERR_MODE", "UC_ERR_VERSION",
        "UC_ERR_READ_UNMAPPED", "UC_ERR_WRITE_UNMAPPED", "UC_ERR_FETCH_UNMAPPED", "UC_ERR_HOOK",
        "UC_ERR_INSN_INVALID", "UC_ERR_MAP", "UC_ERR_WRITE_PROT", "UC_ERR_READ_PROT", "UC_ERR_FETCH_PROT",
        "UC_ERR_ARG", "UC_ERR_READ_UNALIGNED", "UC_ERR_WRITE_UNALIGNED", "UC_ERR_FETCH_UNALIGNED",
        "UC_ERR_HOOK_EXIST", "UC_ERR_RESOURCE", "UC_ERR_EXCEPTION",
    };

    static final int UC_HOOK_INTR = 1, UC_HOOK_INSN = 1 << 1, UC_HOOK_CODE = 1 << 2, UC_HOOK_BLOCK = 1 << 3,
            UC_HOOK_MEM_READ_UNMAPPED = 1 << 4, UC_HOOK_MEM_WRITE_UNMAPPED = 1 << 5,
            UC_HOOK_MEM_FETCH_UNMAPPED = 1 << 6, UC_HOOK_INSN_INVALID = 1 << 14;
    static final int UC_HOOK_MEM_UNMAPPED =
            UC_HOOK_MEM_READ_UNMAPPED | UC_HOOK_MEM_WRITE_UNMAPPED | UC_HOOK_MEM_FETCH_UNMAPPED;

    static final int UC_MEM_READ_UNMAPPED = 19, UC_MEM_WRITE_UNMAPPED = 20, UC_MEM_FETCH_UNMAPPED = 21;

    static final int UC_PROT_NONE = 0, UC_PROT_READ = 1, UC_PROT_WRITE = 2, UC_PROT_EXEC = 4, UC_PROT_ALL = 7;

    static final int UC_CTL_IO_NONE = 0, UC_CTL_IO_WRITE = 1, UC_CTL_IO_READ = 2;
    static final int UC_CTL_UC_USE_EXITS = 4, UC_CTL_TB_REMOVE_CACHE = 9, UC_CTL_TB_FLUSH = 10;

    /** {@code UC_CTL(type, nr, rw)}: {@code type | nr << 26 | rw << 30}. */
    static int ctl(int type, int nr, int rw) {
        return type | (nr << 26) | (rw << 30);
    }

    /** {@code uc_ctl_exits_enable(uc)}: {@code UC_CTL_WRITE(UC_CTL_UC_USE_EXITS, 1)} with argument 1. */
    static final int UC_CTL_WRITE_UC_USE_EXITS_1 = ctl(UC_CTL_UC_USE_EXITS, 1, UC_CTL_IO_WRITE);
    /** {@code uc_ctl_remove_cache(uc, address, end)}: {@code UC_CTL_WRITE(UC_CTL_TB_REMOVE_CACHE, 2)}. */
    static final int UC_CTL_WRITE_UC_TB_REMOVE_CACHE_2 = ctl(UC_CTL_TB_REMOVE_CACHE, 2, UC_CTL_IO_WRITE);
    /** {@code uc_ctl_flush_tlb(uc)} (sic: it flushes the translation-block cache): {@code UC_CTL_WRITE(UC_CTL_TB_FLUSH, 0)}. */
    static final int UC_CTL_WRITE_UC_TB_FLUSH_0 = ctl(UC_CTL_TB_FLUSH, 0, UC_CTL_IO_WRITE);

    // ---- x86.h ----

    static final int UC_X86_REG_CS = 11, UC_X86_REG_DS = 17, UC_X86_REG_EFLAGS = 25, UC_X86_REG_ES = 28,
            UC_X86_REG_FS = 32, UC_X86_REG_GS = 33, UC_X86_REG_RAX = 35, UC_X86_REG_RBP = 36,
            UC_X86_REG_RBX = 37, UC_X86_REG_RCX = 38, UC_X86_REG_RDI = 39, UC_X86_REG_RDX = 40,
            UC_X86_REG_RIP = 41, UC_X86_REG_RSI = 43, UC_X86_REG_RSP = 44, UC_X86_REG_SS = 49,
            UC_X86_REG_CR0 = 50, UC_X86_REG_CR2 = 52, UC_X86_REG_CR3 = 53, UC_X86_REG_CR4 = 54,
            UC_X86_REG_R8 = 106, UC_X86_REG_R9 = 107, UC_X86_REG_R10 = 108, UC_X86_REG_R11 = 109,
            UC_X86_REG_R12 = 110, UC_X86_REG_R13 = 111, UC_X86_REG_R14 = 112, UC_X86_REG_R15 = 113,
            UC_X86_REG_IDTR = 242, UC_X86_REG_GDTR = 243, UC_X86_REG_LDTR = 244, UC_X86_REG_TR = 245,
            UC_X86_REG_MSR = 248, UC_X86_REG_FS_BASE = 250, UC_X86_REG_GS_BASE = 251, UC_X86_REG_RFLAGS = 253;

    static final int UC_X86_INS_CPUID = 113, UC_X86_INS_IN = 218, UC_X86_INS_OUT = 500, UC_X86_INS_WRMSR = 1305;

    /** {@code uc_x86_mmr}: selector, base, limit, flags (QEMU's descriptor flags); 24 bytes. */
    static final StructLayout UC_X86_MMR = MemoryLayout.structLayout(
            JAVA_SHORT.withName("selector"), MemoryLayout.paddingLayout(6), JAVA_LONG.withName("base"),
            JAVA_INT.withName("limit"), JAVA_INT.withName("flags")).withName("uc_x86_mmr");
    static final long MMR_SELECTOR = UC_X86_MMR.byteOffset(groupElement("selector"));
    static final long MMR_BASE = UC_X86_MMR.byteOffset(groupElement("base"));
    static final long MMR_LIMIT = UC_X86_MMR.byteOffset(groupElement("limit"));
    static final long MMR_FLAGS = UC_X86_MMR.byteOffset(groupElement("flags"));

    /** {@code uc_x86_msr}: rid, value; 16 bytes. Read and written through {@link #UC_X86_REG_MSR}. */
    static final StructLayout UC_X86_MSR = MemoryLayout.structLayout(
            JAVA_INT.withName("rid"), MemoryLayout.paddingLayout(4), JAVA_LONG.withName("value"))
            .withName("uc_x86_msr");
    static final long MSR_RID = UC_X86_MSR.byteOffset(groupElement("rid"));
    static final long MSR_VALUE = UC_X86_MSR.byteOffset(groupElement("value"));

    // ---- the library ----

    private static final Linker LINKER = Linker.nativeLinker();
    private static final String UNAVAILABLE;
    private static final SymbolLookup LIB;

    static {
        SymbolLookup lib = null;
        String reason = null;
        try {
            lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        } catch (IllegalArgumentException e) {
            reason = LIBRARY + " cannot be loaded (" + e.getMessage() + "): " + HOW_TO_INSTALL;
        }
        LIB = lib;
        UNAVAILABLE = reason;
    }

    /** Why the engine cannot be used here, or empty if it can. */
    static Optional<String> unavailableReason() {
        return Optional.ofNullable(UNAVAILABLE);
    }

    /** Throws, saying which package to install, if the library is missing. */
    static void require() {
        if (UNAVAILABLE != null) {
            throw new UnicornException(UNAVAILABLE);
        }
    }

    private static MethodHandle function(String name, FunctionDescriptor fd, Linker.Option... options) {
        if (LIB == null) {
            return null; // every use goes through require() first
        }
        MemorySegment symbol = LIB.find(name)
                .orElseThrow(() -> new UnicornException(LIBRARY + " has no " + name + ": " + HOW_TO_INSTALL));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    private static final MethodHandle UC_VERSION = function("uc_version",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle UC_OPEN = function("uc_open",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle UC_CLOSE = function("uc_close", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle UC_STRERROR = function("uc_strerror",
            FunctionDescriptor.of(ADDRESS, JAVA_INT));
    /** {@code uc_ctl(uc, control)}: no variadic argument. */
    private static final MethodHandle UC_CTL = function("uc_ctl",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), Linker.Option.firstVariadicArg(2));
    /** {@code uc_ctl(uc, control, int)}. */
    private static final MethodHandle UC_CTL_INT = function("uc_ctl",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    /** {@code uc_ctl(uc, control, uint64_t, uint64_t)}. */
    private static final MethodHandle UC_CTL_LONG_LONG = function("uc_ctl",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle UC_REG_READ = function("uc_reg_read",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle UC_REG_WRITE = function("uc_reg_write",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle UC_REG_READ_BATCH = function("uc_reg_read_batch",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle UC_REG_WRITE_BATCH = function("uc_reg_write_batch",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle UC_MEM_MAP = function("uc_mem_map",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT));
    private static final MethodHandle UC_MEM_MAP_PTR = function("uc_mem_map_ptr",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_INT, ADDRESS));
    private static final MethodHandle UC_MMIO_MAP = function("uc_mmio_map",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle UC_MEM_UNMAP = function("uc_mem_unmap",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle UC_MEM_READ = function("uc_mem_read",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
    private static final MethodHandle UC_MEM_WRITE = function("uc_mem_write",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
    private static final MethodHandle UC_EMU_START = function("uc_emu_start",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle UC_EMU_STOP = function("uc_emu_stop", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    /** {@code uc_hook_add(uc, &hh, type, callback, user_data, begin, end)}: no variadic argument. */
    private static final MethodHandle UC_HOOK_ADD = function("uc_hook_add",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(7));
    /** {@code uc_hook_add(uc, &hh, UC_HOOK_INSN, callback, user_data, begin, end, insn)}. */
    private static final MethodHandle UC_HOOK_ADD_INSN = function("uc_hook_add",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG,
                    JAVA_INT), Linker.Option.firstVariadicArg(7));
    private static final MethodHandle UC_HOOK_DEL = function("uc_hook_del",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

    // ---- errors ----

    /** The symbolic name of a {@code uc_err}, e.g. {@code UC_ERR_MAP}; {@code "uc_err <n>"} if unknown. */
    static String errorName(int error) {
        return error >= 0 && error < ERROR_NAMES.length ? ERROR_NAMES[error] : "uc_err " + error;
    }

    /** {@code const char *uc_strerror(uc_err code)}. */
    static String strerror(int error) {
        try {
            MemorySegment s = (MemorySegment) UC_STRERROR.invokeExact(error);
            return s.address() == 0 ? "" : s.reinterpret(1024).getString(0);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Throws naming {@code call} unless {@code error} is {@code UC_ERR_OK}. */
    static void check(String call, int error) {
        if (error != UC_ERR_OK) {
            throw failure(call, error);
        }
    }

    /** {@code "<call> failed: <UC_ERR_NAME> (<n>): <uc_strerror>"}. */
    static UnicornException failure(String call, int error) {
        return new UnicornException(call, error, strerror(error));
    }

    // ---- calls ----

    /** {@code unsigned int uc_version(unsigned int *major, unsigned int *minor)}: {@code major << 24 | minor << 16 | ...}. */
    static int version() {
        require();
        try {
            return (int) UC_VERSION.invokeExact(MemorySegment.NULL, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_open(arch, mode, &uc)}; returns the engine. */
    static MemorySegment open(int arch, int mode) {
        require();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ADDRESS);
            int r = (int) UC_OPEN.invokeExact(arch, mode, out);
            check("uc_open", r);
            return out.get(ADDRESS, 0);
        } catch (UnicornException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static int close(MemorySegment uc) {
        try {
            return (int) UC_CLOSE.invokeExact(uc);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_ctl(uc, control)}. */
    static int ctl(MemorySegment uc, int control) {
        try {
            return (int) UC_CTL.invokeExact(uc, control);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_ctl(uc, control, int)}. */
    static int ctl(MemorySegment uc, int control, int arg) {
        try {
            return (int) UC_CTL_INT.invokeExact(uc, control, arg);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_ctl(uc, control, uint64_t, uint64_t)}. */
    static int ctl(MemorySegment uc, int control, long arg1, long arg2) {
        try {
            return (int) UC_CTL_LONG_LONG.invokeExact(uc, control, arg1, arg2);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_reg_read(uc, regid, value)}. Allocation-free. */
    static int regRead(MemorySegment uc, int regid, MemorySegment value) {
        try {
            return (int) UC_REG_READ.invokeExact(uc, regid, value);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_reg_write(uc, regid, value)}. Allocation-free. */
    static int regWrite(MemorySegment uc, int regid, MemorySegment value) {
        try {
            return (int) UC_REG_WRITE.invokeExact(uc, regid, value);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_reg_read_batch(uc, int *regs, void **vals, count)}. */
    static int regReadBatch(MemorySegment uc, MemorySegment regs, MemorySegment vals, int count) {
        try {
            return (int) UC_REG_READ_BATCH.invokeExact(uc, regs, vals, count);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_reg_write_batch(uc, int *regs, void *const *vals, count)}. */
    static int regWriteBatch(MemorySegment uc, MemorySegment regs, MemorySegment vals, int count) {
        try {
            return (int) UC_REG_WRITE_BATCH.invokeExact(uc, regs, vals, count);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_mem_map(uc, address, size, perms)}: memory Unicorn allocates (zero-filled). */
    static int memMap(MemorySegment uc, long address, long size, int perms) {
        try {
            return (int) UC_MEM_MAP.invokeExact(uc, address, size, perms);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_mem_map_ptr(uc, address, size, perms, ptr)}: memory the caller owns. */
    static int memMapPtr(MemorySegment uc, long address, long size, int perms, MemorySegment ptr) {
        try {
            return (int) UC_MEM_MAP_PTR.invokeExact(uc, address, size, perms, ptr);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_mmio_map(uc, address, size, read_cb, user_data_read, write_cb, user_data_write)}. */
    static int mmioMap(MemorySegment uc, long address, long size, MemorySegment readCallback,
                       MemorySegment writeCallback) {
        try {
            return (int) UC_MMIO_MAP.invokeExact(uc, address, size, readCallback, MemorySegment.NULL, writeCallback,
                    MemorySegment.NULL);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_mem_unmap(uc, address, size)}. */
    static int memUnmap(MemorySegment uc, long address, long size) {
        try {
            return (int) UC_MEM_UNMAP.invokeExact(uc, address, size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_mem_read(uc, address, bytes, size)}: {@code address} is guest-physical. */
    static int memRead(MemorySegment uc, long address, MemorySegment bytes, long size) {
        try {
            return (int) UC_MEM_READ.invokeExact(uc, address, bytes, size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_mem_write(uc, address, bytes, size)}: {@code address} is guest-physical. */
    static int memWrite(MemorySegment uc, long address, MemorySegment bytes, long size) {
        try {
            return (int) UC_MEM_WRITE.invokeExact(uc, address, bytes, size);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_emu_start(uc, begin, until, timeout, count)}. Allocation-free; hooks run inside it. */
    static int emuStart(MemorySegment uc, long begin, long until, long timeoutMicros, long count) {
        try {
            return (int) UC_EMU_START.invokeExact(uc, begin, until, timeoutMicros, count);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** The address of {@code uc_emu_stop}, for {@link BlockStartStop}'s machine code. */
    static long emuStopAddress() {
        require();
        return LIB.find("uc_emu_stop").orElseThrow().address();
    }

    /**
     * {@code uc_emu_stop(uc)}. Exact only from a block hook or an exception hook: from another thread
     * or from an instruction hook it can leave a half-run block with RIP at its start (see
     * {@link BlockStartStop}).
     */
    static int emuStop(MemorySegment uc) {
        try {
            return (int) UC_EMU_STOP.invokeExact(uc);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_hook_add(uc, &hh, type, callback, NULL, begin, end)}; returns the hook handle. */
    static long hookAdd(MemorySegment uc, int type, MemorySegment callback, long begin, long end) {
        return hookAdd(uc, type, callback, MemorySegment.NULL, begin, end);
    }

    /** {@code uc_hook_add(uc, &hh, type, callback, user_data, begin, end)}; returns the hook handle. */
    static long hookAdd(MemorySegment uc, int type, MemorySegment callback, MemorySegment userData, long begin,
                        long end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hh = arena.allocate(JAVA_LONG);
            int r = (int) UC_HOOK_ADD.invokeExact(uc, hh, type, callback, userData, begin, end);
            check("uc_hook_add", r);
            return hh.get(JAVA_LONG, 0);
        } catch (UnicornException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /**
     * {@code uc_hook_add(uc, &hh, UC_HOOK_INSN, callback, NULL, begin, end, insn)}; returns the hook
     * handle, or throws ({@code UC_ERR_HOOK} for an instruction this version cannot hook).
     */
    static long hookAddInsn(MemorySegment uc, MemorySegment callback, long begin, long end, int insn) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment hh = arena.allocate(JAVA_LONG);
            int r = (int) UC_HOOK_ADD_INSN.invokeExact(uc, hh, UC_HOOK_INSN, callback, MemorySegment.NULL, begin, end,
                    insn);
            check("uc_hook_add", r);
            return hh.get(JAVA_LONG, 0);
        } catch (UnicornException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code uc_hook_del(uc, hh)}. */
    static int hookDel(MemorySegment uc, long hook) {
        try {
            return (int) UC_HOOK_DEL.invokeExact(uc, hook);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** An FFM upcall stub for {@code target}, valid as long as {@code arena}. */
    static MemorySegment upcall(MethodHandle target, FunctionDescriptor fd, Arena arena) {
        return LINKER.upcallStub(target, fd, arena);
    }
}
