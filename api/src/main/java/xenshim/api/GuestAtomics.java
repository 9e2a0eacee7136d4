package xenshim.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * The host's atomic read-modify-write of a word of guest memory that the guest itself changes with
 * {@code lock}-prefixed instructions: the event bits in {@code shared_info} and each vcpu_info, the flags of
 * a grant entry. Every host thread that sets or clears such bits (a backend's send, xenstored's notify,
 * another domain's vCPU, dom0 mapping a grant) goes through its domain's {@code GuestAtomics}, found by
 * {@link #KEY}.
 *
 * <p><b>Why it is not just a {@link VarHandle}.</b> On KVM the guest's {@code lock btr} and the host's
 * {@code lock or} are both the CPU's own atomics, and {@link #HARDWARE} is all there is. On the software
 * CPU (QEMU's TCG through Unicorn) a guest's locked instruction is emulated as a load and then a store:
 * Unicorn runs TCG without {@code CF_PARALLEL} and has no API to turn it on, so those instructions are
 * atomic only against the engine's own thread. A host thread that sets a bit between the guest's load and
 * its store loses it: the guest stores the word it read before. (It was seen as a xenstore reply that never
 * woke the guest: dom0 set the port's pending bit, the guest's own clear of another bit in the same word
 * wiped it.) The software CPU's {@code GuestAtomics} therefore runs each operation while the guest is
 * stopped between two instructions: it kicks the vCPU out of its run and waits for it, unless the caller is
 * the vCPU's own thread (a handler runs between the guest's instructions), which operates directly.
 *
 * <p><b>Rules for callers.</b> Use it for a read-modify-write of a word the guest also read-modify-writes;
 * plain stores the guest only reads (ring indexes, {@code vcpu_time_info}) and plain loads need nothing.
 * Each call is one operation on one aligned 32-bit word, so nothing is ever held across a call; locks of
 * the caller's own (the event channels', a grant table's) may be held around it, as this is innermost.
 * A multi-step update (a bounded compare-and-set loop) is a sequence of calls, each atomic against the
 * guest, as the same loop is against a guest on another CPU.
 */
public interface GuestAtomics {

    /**
     * A domain's atomics: {@link #HARDWARE} unless the platform attached the software CPU's. Attached
     * before the guest runs, with the domain's memory.
     */
    DomainKey<GuestAtomics> KEY = DomainKey.of("guest atomics", () -> GuestAtomics.HARDWARE);

    /** The CPU's own atomics, for a guest whose locked instructions are the CPU's (KVM, or no guest at all). */
    GuestAtomics HARDWARE = new GuestAtomics() {
        private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

        @Override
        public int getAndBitwiseOr(MemorySegment memory, long offset, int bits) {
            return (int) INT.getAndBitwiseOr(memory, offset, bits);
        }

        @Override
        public int getAndBitwiseAnd(MemorySegment memory, long offset, int bits) {
            return (int) INT.getAndBitwiseAnd(memory, offset, bits);
        }

        @Override
        public int compareAndExchange(MemorySegment memory, long offset, int expected, int update) {
            return (int) INT.compareAndExchange(memory, offset, expected, update);
        }

        @Override
        public String toString() {
            return "hardware atomics";
        }
    };

    /**
     * ORs {@code bits} into the native-order 32-bit word at {@code offset} (4-byte aligned) of
     * {@code memory}; the word before.
     */
    int getAndBitwiseOr(MemorySegment memory, long offset, int bits);

    /** ANDs {@code bits} into the word at {@code offset}; the word before. */
    int getAndBitwiseAnd(MemorySegment memory, long offset, int bits);

    /** Stores {@code update} if the word at {@code offset} is {@code expected}; the word seen. */
    int compareAndExchange(MemorySegment memory, long offset, int expected, int update);
}
