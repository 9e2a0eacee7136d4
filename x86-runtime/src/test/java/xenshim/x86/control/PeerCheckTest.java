package xenshim.x86.control;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The second lock on the control channel: the credentials the kernel gives for a connecting process
 * ({@code SO_PEERCRED}) must be the owner's. The first lock, the socket's mode, is tested by
 * {@code ControlOtherUserTest} with a process of another user.
 */
class PeerCheckTest {

    private static final UserPrincipalLookupService USERS = FileSystems.getDefault().getUserPrincipalLookupService();

    @TempDir
    Path dir;

    private UserPrincipal me() throws IOException {
        return Files.getOwner(Files.createTempFile(dir, "me", ""));
    }

    /** A user that is not this one: by number, so that it needs no entry in /etc/passwd. */
    private static UserPrincipal someoneElse() throws IOException {
        return USERS.lookupPrincipalByName(String.valueOf(ControlPaths.uid() == 54321 ? 54322 : 54321));
    }

    private static GroupPrincipal group(long gid) throws IOException {
        return USERS.lookupPrincipalByGroupName(String.valueOf(gid));
    }

    @Test
    void theOwnerIsLetInWhateverItsGroup() throws Exception {
        PeerCheck check = new PeerCheck(me(), 4711);
        assertThat(check.refusal(new UnixDomainPrincipal(me(), group(0)))).isNull();
        assertThat(check.refusal(new UnixDomainPrincipal(me(), group(54321)))).isNull();
    }

    @Test
    void anyOtherUserIsRefusedInOneLineNamingBoth() throws Exception {
        UserPrincipal other = someoneElse();
        PeerCheck check = new PeerCheck(me(), 4711);
        String refusal = check.refusal(new UnixDomainPrincipal(other, group(0)));
        assertThat(refusal).isEqualTo("refused: user " + other.getName() + " may not control xenshim process 4711, which runs as "
                + me().getName() + "; only the same user may");
        assertThat(refusal.lines()).hasSize(1);
        assertThat(check.refusal(null)).startsWith("refused: ");
    }

    @Test
    void aRealConnectionOfTheSameUserIsLetInByItsCredentials() throws Exception {
        Path socket = dir.resolve("c.sock");
        try (ControlServer server = ControlServer.start(socket, r -> ControlAnswer.ok(List.of("in")))) {
            try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
                assertThat(new PeerCheck(me(), 1).refusal(peer)).as("what the kernel says of the server, this process").isNull();
                assertThat(new PeerCheck(someoneElse(), 1).refusal(peer)).startsWith("refused: user " + me().getName());
            }
            assertThat(ControlClient.send(socket, ControlRequest.of("shims"))).isEqualTo(ControlAnswer.ok(List.of("in")));
        }
    }
}
