package xenshim.x86.control;

import java.nio.file.attribute.UserPrincipal;
import java.util.Objects;
import jdk.net.UnixDomainPrincipal;

/**
 * Who may use a control channel: the user who runs xenshim, and no one else. The socket's mode (0600,
 * in a 0700 directory) already keeps others out; this check, on the credentials the kernel gives for
 * the connecting process ({@code SO_PEERCRED}), is the second lock, for a socket whose mode was
 * widened or that sits in a folder given with {@code --control PATH}. root is no exception: a swap
 * loads code into this process, which only its own user should decide.
 *
 * @param owner the user who runs xenshim (the owner of the socket file it made)
 * @param pid   this process, for the message
 */
public record PeerCheck(UserPrincipal owner, long pid) {

    public PeerCheck {
        Objects.requireNonNull(owner);
    }

    /**
     * @return null if {@code peer} may use the channel, else the one-line reason it may not
     */
    public String refusal(UnixDomainPrincipal peer) {
        if (peer == null) {
            return "refused: the connecting process's credentials are unknown";
        }
        if (owner.equals(peer.user())) {
            return null;
        }
        return "refused: user " + peer.user().getName() + " may not control xenshim process " + pid
                + ", which runs as " + owner.getName() + "; only the same user may";
    }
}
