package xenshim.x86.dom0;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Domain;
import xenshim.api.GrantMappings;
import xenshim.api.GuestConsole;
import xenshim.api.xen.XenGnttab;
import xenshim.dispatcher.HypercallPage;
import xenshim.xenstore.XsClient;
import xenshim.xenstore.XsException;
import xenshim.xenstore.Xenstored;

/**
 * dom0's side of the demo guest's PV round trip ({@code guests/demo/pvdemo.c}), a backend as a split
 * driver's is: it watches the guest's {@code data/pv-demo/state}; at {@code ready} it reads the grant
 * ref, port and mode the guest published, binds the port, maps the granted page with
 * {@code GNTTABOP_map_grant_ref} (the page itself, no copy), reads the guest's message and writes its
 * answer into the page, then writes {@code data/pv-demo/result} and sends an event. Each step is printed
 * on the console as dom0's ({@code dom0: pv-demo: ...}).
 *
 * <p>Modes: {@code rw} unmaps before it answers; {@code readonly} first asks for a writable map, which
 * Xen refuses, then maps read-only and finds the page refuses writes; {@code revoke} keeps the page
 * mapped until the guest's {@code state} says {@code revoke-tried}, then unmaps and sends again.
 */
public final class PvDemoBackend implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PvDemoBackend.class);

    private final HypercallPage page;
    private final Domain dom0;
    private final Domain guest;
    private final GuestConsole console;
    private final XsClient store;
    private final String home;
    private Dom0Calls calls;
    private Dom0Calls.GrantMap mapped;
    private int mappedRef;
    private int port = -1;
    private boolean closed;

    public PvDemoBackend(HypercallPage page, Domain dom0, Domain guest, Xenstored xenstore, GuestConsole console) {
        this.page = Objects.requireNonNull(page);
        this.dom0 = Objects.requireNonNull(dom0);
        this.guest = Objects.requireNonNull(guest);
        this.console = Objects.requireNonNull(console);
        this.store = xenstore.client();
        this.home = store.domainPath(guest.domid()) + "/data/pv-demo";
    }

    /** Starts watching the guest's {@code data/pv-demo/state}. */
    public PvDemoBackend start() {
        store.watch(home + "/state", "pv-demo", (path, token) -> stateChanged());
        return this;
    }

    private synchronized void stateChanged() {
        if (closed) {
            return;
        }
        try {
            switch (read("state")) {
                case "ready" -> answer();
                case "revoke-tried" -> {
                    unmap();
                    send();
                }
                case "done" -> {
                    unmap();
                    say("round trip done");
                }
                default -> {
                    // not there yet (the watch's first event), or a state of no interest
                }
            }
        } catch (XsException | NumberFormatException e) {
            say("the guest's data/pv-demo is not usable: " + e.getMessage());
        }
    }

    private void answer() {
        int ref = Integer.parseInt(read("gref"));
        int guestPort = Integer.parseInt(read("port"));
        String mode = read("mode");
        if (calls == null) {
            calls = new Dom0Calls(page, dom0);
        }
        port = calls.bindInterdomain(guest.domid(), guestPort);
        if (port < 0) {
            say("binding d" + guest.domid() + " port " + guestPort + " failed with " + port);
            return;
        }
        String result;
        if (mode.equals("readonly")) {
            result = answerReadOnly(ref);
        } else {
            result = answerInPage(ref, mode.equals("revoke"));
        }
        store.write(home + "/result", result);
        send();
    }

    /** Maps the page writable, answers in it; unmaps unless the guest is to try a revoke first. */
    private String answerInPage(int ref, boolean keepMapped) {
        Dom0Calls.GrantMap map = calls.mapGrant(guest.domid(), ref, false);
        if (!map.ok()) {
            say(who(ref) + ": map failed: " + XenGnttab.statusName(map.status()));
            return "map failed: " + XenGnttab.statusName(map.status());
        }
        mapped = map;
        mappedRef = ref;
        MemorySegment granted = dom0.state(GrantMappings.KEY).segment(map.handle());
        String message = text(granted);
        say(who(ref) + " mapped read-write: \"" + message + "\"");
        String reply = "hello d" + guest.domid() + ", this is dom0: I read \"" + message + "\" in your page";
        byte[] bytes = (reply + '\0').getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(bytes, 0, granted, ValueLayout.JAVA_BYTE, 0, bytes.length);
        if (!keepMapped) {
            unmap();
        }
        return "answered in the page";
    }

    /** A writable map of a read-only grant is refused; a read-only one maps a page that refuses writes. */
    private String answerReadOnly(int ref) {
        Dom0Calls.GrantMap writable = calls.mapGrant(guest.domid(), ref, false);
        if (writable.ok()) {
            mapped = writable;
            mappedRef = ref;
            unmap();
            say(who(ref) + ": a writable map of a read-only grant succeeded");
            return "writable map succeeded";
        }
        String refused = XenGnttab.statusName(writable.status());
        say(who(ref) + ": a writable map is refused: " + refused);
        Dom0Calls.GrantMap map = calls.mapGrant(guest.domid(), ref, true);
        if (!map.ok()) {
            say(who(ref) + ": read-only map failed: " + XenGnttab.statusName(map.status()));
            return "read-only map failed: " + XenGnttab.statusName(map.status());
        }
        mapped = map;
        mappedRef = ref;
        MemorySegment granted = dom0.state(GrantMappings.KEY).segment(map.handle());
        say(who(ref) + " mapped read-only: \"" + text(granted) + "\"");
        String write;
        try {
            granted.set(ValueLayout.JAVA_BYTE, 0, (byte) 'X');
            write = "written";
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            write = "refused by the read-only page";
        }
        say(who(ref) + ": a write through the read-only map: " + write);
        unmap();
        return "write refused: " + refused + "; through the read-only map: " + write;
    }

    private void unmap() {
        if (mapped != null) {
            int status = calls.unmapGrant(mapped);
            say(who(mappedRef) + " unmapped: " + XenGnttab.statusName(status));
            mapped = null;
        }
    }

    private void send() {
        if (port >= 0) {
            calls.send(port);
        }
    }

    private String who(int ref) {
        return "d" + guest.domid() + " ref " + ref;
    }

    private String read(String leaf) {
        try {
            return store.read(home + "/" + leaf).strip();
        } catch (XsException e) {
            if (leaf.equals("state")) {
                return ""; // not written yet
            }
            throw e;
        }
    }

    /** The NUL-terminated text at the start of a page the guest wrote: bounded, printable. */
    private static String text(MemorySegment granted) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < 200; i++) {
            byte b = granted.get(ValueLayout.JAVA_BYTE, i);
            if (b == 0) {
                break;
            }
            s.append(b >= 0x20 && b < 0x7f ? (char) b : '?');
        }
        return s.toString();
    }

    private void say(String line) {
        byte[] bytes = ("dom0: pv-demo: " + line + "\n").getBytes(StandardCharsets.US_ASCII);
        try {
            console.write(dom0, bytes, 0, bytes.length);
        } catch (RuntimeException e) {
            LOG.warn("pv-demo backend: the console failed", e);
        }
    }

    /** Stops watching, unmaps what is mapped and closes dom0's port. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        store.close(); // outside the lock: a watch event may be waiting for it
        synchronized (this) {
            if (calls != null) {
                unmap();
                if (port >= 0) {
                    calls.close(port);
                }
                calls.close();
            }
        }
    }
}
