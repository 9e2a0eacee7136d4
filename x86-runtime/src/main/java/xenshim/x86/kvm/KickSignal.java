package xenshim.x86.kvm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * The signal {@link VcpuFd#kick()} sends to a vCPU thread to make a blocked KVM_RUN return
 * EINTR.
 *
 * <p>A signal only interrupts KVM_RUN if it is delivered, i.e. neither ignored nor blocked, and
 * its default action for real-time signals would kill the process; so it needs a handler, and
 * that handler runs on a JVM thread at an arbitrary point. It must therefore not be Java (an FFM
 * upcall is not async-signal-safe). The handler installed here is libc's {@code getpid}: a
 * native function that ignores its argument, touches no memory, and is async-signal-safe, so it
 * is a no-op handler. {@code SA_RESTART} makes ordinary restartable syscalls the thread may be
 * in resume transparently; KVM_RUN itself returns -EINTR regardless (it is not restartable).
 *
 * <p>The signal is the highest real-time signal (SIGRTMAX-1 downwards) whose disposition is
 * still SIG_DFL when this class initialises; HotSpot does not use real-time signals and glibc
 * reserves only the two below SIGRTMIN.
 */
final class KickSignal {
    private KickSignal() {}

    private static final MethodHandle SIGACTION = Native.libc("sigaction", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle TGKILL = Native.libc("tgkill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SIGRTMIN = Native.libc("__libc_current_sigrtmin", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle SIGRTMAX = Native.libc("__libc_current_sigrtmax", FunctionDescriptor.of(JAVA_INT));

    /** glibc x86-64 {@code struct sigaction}: handler, sigset_t (128 bytes), int flags, restorer; 152 bytes. */
    static final StructLayout SIGACTION_LAYOUT = MemoryLayout.structLayout(
            ADDRESS.withName("sa_handler"), MemoryLayout.sequenceLayout(128, java.lang.foreign.ValueLayout.JAVA_BYTE)
                    .withName("sa_mask"),
            JAVA_INT.withName("sa_flags"), MemoryLayout.paddingLayout(4), ADDRESS.withName("sa_restorer"))
            .withName("sigaction");
    private static final long SA_HANDLER = SIGACTION_LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("sa_handler"));
    private static final long SA_FLAGS = SIGACTION_LAYOUT.byteOffset(MemoryLayout.PathElement.groupElement("sa_flags"));
    private static final int SA_RESTART = 0x10000000;

    private static final MemorySegment HANDLER = Native.LINKER.defaultLookup().findOrThrow("getpid");
    private static final int PID = (int) ProcessHandle.current().pid();

    /** The signal number kick() sends. */
    static final int SIGNAL = install();

    private static int install() {
        try (Arena arena = Arena.ofConfined()) {
            int min = (int) SIGRTMIN.invokeExact();
            int max = (int) SIGRTMAX.invokeExact();
            MemorySegment old = arena.allocate(SIGACTION_LAYOUT);
            for (int sig = max - 1; sig >= min + 2; sig--) {
                if ((int) SIGACTION.invokeExact(sig, MemorySegment.NULL, old) != 0) {
                    continue;
                }
                if (old.get(ADDRESS, SA_HANDLER).address() != 0) {
                    continue; // someone else's
                }
                MemorySegment act = arena.allocate(SIGACTION_LAYOUT); // zeroed: empty sa_mask
                act.set(ADDRESS, SA_HANDLER, HANDLER);
                act.set(JAVA_INT, SA_FLAGS, SA_RESTART);
                if ((int) SIGACTION.invokeExact(sig, act, MemorySegment.NULL) == 0) {
                    return sig;
                }
            }
        } catch (Throwable t) {
            throw new KvmException("cannot install the vCPU kick signal handler: " + t);
        }
        throw new KvmException("cannot install the vCPU kick signal handler: no free real-time signal");
    }

    /** Sends the kick signal to thread {@code tid} of this process. */
    static void send(int tid) {
        try {
            int r = (int) TGKILL.invokeExact(PID, tid, SIGNAL);
            assert r == 0 || r == -1; // -1 (ESRCH): the thread has gone; nothing to kick
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
