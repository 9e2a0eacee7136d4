package xenshim.example.entropy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.verifyNoMoreInteractions;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.example.entropy.EntropyHandler.XENSHIM_ENTROPY_get;

import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.mockito.ArgumentCaptor;
import org.mockito.Mock;
import org.mockito.junit.jupiter.MockitoExtension;
import xenshim.api.GuestFault;
import xenshim.api.GuestMemory;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

/**
 * The handler with its random source, and then its guest memory, mocked:
 * that the guest gets exactly the bytes the source made, that refused calls
 * never ask the source, and that a faulting write is one all-or-nothing copy,
 * never retried or split, which comes back to the guest as {@code -EFAULT}.
 */
@ExtendWith(MockitoExtension.class)
class EntropyHandlerMockitoTest {

    @Mock
    SecureRandom random;

    /** The source "makes" 1, 2, 3, ... so that the test knows the bytes. */
    private void countingBytes() {
        doAnswer(call -> {
            byte[] bytes = call.getArgument(0);
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (i + 1);
            }
            return null;
        }).when(random).nextBytes(any(byte[].class));
    }

    @Test
    void theGuestGetsExactlyTheBytesTheSourceMadeOneAskPerCall() {
        countingBytes();
        FakeGuestMemory memory = FakeGuestMemory.standard();
        var harness = HandlerHarness.of(new EntropyHandler(random)).domain(FakeDomains.guest(3)).memory(memory);

        assertThat(harness.call(XENSHIM_ENTROPY_get, memory.base(), 5)).isEqualTo(5);
        assertThat(memory.readBytes(memory.base(), 6)).containsExactly(1, 2, 3, 4, 5, 0);

        ArgumentCaptor<byte[]> asked = ArgumentCaptor.forClass(byte[].class);
        verify(random).nextBytes(asked.capture());
        assertThat(asked.getValue()).hasSize(5);
        verifyNoMoreInteractions(random);
    }

    @Test
    void aRefusedCallNeverAsksTheSource() {
        FakeGuestMemory memory = FakeGuestMemory.standard();
        var harness = HandlerHarness.of(new EntropyHandler(random)).memory(memory);

        assertThat(harness.call(7, memory.base(), 16)).isEqualTo(-XEN_ENOSYS);
        assertThat(harness.call(XENSHIM_ENTROPY_get, memory.base(), 0)).isEqualTo(-XEN_EINVAL);
        assertThat(harness.call(XENSHIM_ENTROPY_get, memory.base(), 4097)).isEqualTo(-XEN_EINVAL);

        verifyNoInteractions(random);
    }

    @Mock
    GuestMemory faulting;

    /**
     * A buffer whose second half is not writable: the memory refuses the
     * whole copy (GuestMemory is all or nothing), and the handler makes that
     * one copy only, with the source's bytes, and neither retries it nor
     * writes the first half by itself.
     */
    @Test
    void aWriteThatFaultsIsOneCopyAndTheGuestGetsFault() {
        countingBytes();
        long buffer = 0x20ff8;
        doThrow(new GuestFault(0x21000, "write")).when(faulting).write(eq(buffer), any(byte[].class), anyInt(),
                anyInt());
        var harness = HandlerHarness.of(new EntropyHandler(random)).domain(FakeDomains.guest(1)).memory(faulting);

        assertThat(harness.call(XENSHIM_ENTROPY_get, buffer, 16)).isEqualTo(-XEN_EFAULT);
        assertThat(harness.failures()).as("a guest fault is not a handler failure").isEmpty();

        ArgumentCaptor<byte[]> written = ArgumentCaptor.forClass(byte[].class);
        verify(faulting).write(eq(buffer), written.capture(), eq(0), eq(16));
        assertThat(written.getValue()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
        verifyNoMoreInteractions(faulting);
    }

    @Test
    void aRefusedCallNeverTouchesGuestMemory() {
        var harness = HandlerHarness.of(new EntropyHandler(random)).memory(faulting);
        assertThat(harness.call(1, 0x20000, 16)).isEqualTo(-XEN_ENOSYS);
        assertThat(harness.call(XENSHIM_ENTROPY_get, 0x20000, 5000)).isEqualTo(-XEN_EINVAL);
        verifyNoInteractions(faulting, random);
    }
}
