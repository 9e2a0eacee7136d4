package xenshim.api;

import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A domain: its identity, and the state the platform owns for it.
 *
 * <p>State (event channels, grants, HVM params, shutdown state, …) belongs
 * to the domain, not to the handlers, so a shim can be swapped while the
 * domain runs. Platform state types live in this module; a third-party
 * handler attaches its own state under a {@link DomainKey} of its own.
 */
public final class Domain {

    /** {@code DOMID_SELF} from {@code xen.h}: "the calling domain" in hypercall arguments. */
    public static final int DOMID_SELF = xenshim.api.xen.XenDomains.DOMID_SELF;

    private final int domid;
    private final boolean privileged;
    private final DomainType type;
    private final UUID handle;
    private final ConcurrentHashMap<DomainKey<?>, Object> state = new ConcurrentHashMap<>();

    public Domain(int domid, boolean privileged, DomainType type, UUID handle) {
        if (domid < 0 || domid >= xenshim.api.xen.XenDomains.DOMID_FIRST_RESERVED) {
            throw new IllegalArgumentException("domid out of range: " + domid);
        }
        this.domid = domid;
        this.privileged = privileged;
        this.type = Objects.requireNonNull(type);
        this.handle = Objects.requireNonNull(handle);
    }

    /** An unprivileged HVM guest with a random handle. */
    public static Domain guest(int domid) {
        return new Domain(domid, false, DomainType.HVM, UUID.randomUUID());
    }

    /** The in-process control domain: dom0, privileged, {@link DomainType#LOCAL}. */
    public static Domain localDom0() {
        return new Domain(0, true, DomainType.LOCAL, new UUID(0, 0));
    }

    public int domid() {
        return domid;
    }

    /** Whether Xen's default (dummy XSM) policy treats this domain as privileged ({@code is_control_domain}). */
    public boolean isPrivileged() {
        return privileged;
    }

    public DomainType type() {
        return type;
    }

    /** The toolstack's handle for this domain ({@code xen_domain_handle_t}, a UUID). */
    public UUID handle() {
        return handle;
    }

    /** The 16 bytes of {@code xen_domain_handle_t}, in UUID byte order. */
    public byte[] handleBytes() {
        byte[] bytes = new byte[16];
        long hi = handle.getMostSignificantBits();
        long lo = handle.getLeastSignificantBits();
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (hi >>> (56 - 8 * i));
            bytes[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
        return bytes;
    }

    /**
     * This domain's state under {@code key}, made by the key's initial
     * supplier on first use.
     *
     * @throws IllegalStateException if the key has no supplier and the
     *                               platform attached nothing under it
     */
    @SuppressWarnings("unchecked")
    public <T> T state(DomainKey<T> key) {
        Object value = state.get(key);
        if (value == null) {
            if (key.initial() == null) {
                throw new IllegalStateException(this + " has no " + key.name());
            }
            value = state.computeIfAbsent(key, k -> Objects.requireNonNull(k.initial().get(), k.name()));
        }
        return (T) value;
    }

    /** The state under {@code key} if there is any, without making it. */
    @SuppressWarnings("unchecked")
    public <T> Optional<T> find(DomainKey<T> key) {
        return Optional.ofNullable((T) state.get(key));
    }

    /**
     * Attaches state the platform makes itself (guest memory, say).
     *
     * @throws IllegalStateException if something is attached under the key already
     */
    public <T> void attach(DomainKey<T> key, T value) {
        if (state.putIfAbsent(key, Objects.requireNonNull(value)) != null) {
            throw new IllegalStateException(this + " already has " + key.name());
        }
    }

    @Override
    public String toString() {
        return "d" + domid;
    }
}
