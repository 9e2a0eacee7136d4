package xenshim.handlers.version;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoMoreInteractions;
import static org.mockito.Mockito.when;
import static xenshim.api.xen.XenVersion.XENVER_build_id;
import static xenshim.api.xen.XenVersion.XENVER_extraversion;
import static xenshim.api.xen.XenVersion.XENVER_version;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.mockito.Mock;
import org.mockito.junit.jupiter.MockitoExtension;
import xenshim.api.Abi;
import xenshim.api.XenVersionInfo;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

/**
 * The handler with its injected {@link XenVersionInfo} mocked: what a handler
 * author does to check that a handler asks its platform service, and when.
 * ({@code XenVersionInfo} is a record, hence final: Mockito's inline mock
 * maker, loaded as a Java agent by the build, mocks it.)
 */
@ExtendWith(MockitoExtension.class)
class XenVersionHandlerMockitoTest {

    @Mock
    XenVersionInfo info;

    private final FakeGuestMemory memory = FakeGuestMemory.standard();

    @BeforeEach
    void strings() {
        // The handler renders its strings once, in its constructor.
        when(info.extraversion()).thenReturn("-mocked");
        when(info.compiler()).thenReturn("cc");
        when(info.compileBy()).thenReturn("me");
        when(info.compileDomain()).thenReturn("example.org");
        when(info.compileDate()).thenReturn("today");
        when(info.changeset()).thenReturn("c0ffee");
        when(info.capabilities()).thenReturn("hvm-3.0-x86_64");
        when(info.commandline()).thenReturn("");
    }

    @Test
    void versionComesFromTheInjectedInfoOnEveryCall() {
        when(info.packedVersion()).thenReturn(0x0005_0002L, 0x0006_0000L);
        var harness = HandlerHarness.of(new XenVersionHandler(info)).domain(FakeDomains.guest(2)).memory(memory);

        assertThat(harness.call(XENVER_version)).isEqualTo(0x0005_0002L);
        assertThat(harness.abi(Abi.X86_32).call(XENVER_version)).isEqualTo(0x0006_0000L);

        verify(info, times(2)).packedVersion();
    }

    @Test
    void stringsAreReadOnceAtConstructionNotPerCall() {
        var harness = HandlerHarness.of(new XenVersionHandler(info)).domain(FakeDomains.guest(2)).memory(memory);
        for (int i = 0; i < 3; i++) {
            assertThat(harness.call(XENVER_extraversion, memory.base())).isZero();
        }
        assertThat(memory.readBytes(memory.base(), 16))
                .containsExactly('-', 'm', 'o', 'c', 'k', 'e', 'd', 0, 0, 0, 0, 0, 0, 0, 0, 0);

        verify(info).extraversion();
        verify(info).compiler();
        verify(info).compileBy();
        verify(info).compileDomain();
        verify(info).compileDate();
        verify(info).changeset();
        verify(info).capabilities();
        verify(info).commandline();
        verifyNoMoreInteractions(info);
    }

    @Test
    void buildIdIsAskedForOnlyWhenThePolicyAllowsIt() {
        when(info.buildId()).thenReturn(new byte[] {1, 2, 3});
        var memoryOfDom0 = FakeGuestMemory.standard();
        var privileged = HandlerHarness.of(new XenVersionHandler(info)).domain(FakeDomains.localDom0())
                .memory(memoryOfDom0);
        var unprivileged = HandlerHarness.of(new XenVersionHandler(info)).domain(FakeDomains.guest(2)).memory(memory);

        assertThat(unprivileged.call(XENVER_build_id, 0)).isEqualTo(-xenshim.api.xen.XenErrno.XEN_EPERM);
        assertThat(privileged.call(XENVER_build_id, 0)).isEqualTo(3);

        verify(info, times(1)).buildId();
    }
}
