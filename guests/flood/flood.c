/*
 * flood: a guest that misbehaves on purpose, for xenshim's fault-containment
 * tests, or that measures the service it gets beside one that does.
 *
 * Command line: mode=<mode> seconds=<s> (default 3), and
 *   mode=hypercall [nr=<n>]  calls hypercall n (default xen_version) with
 *       the arguments (0, buffer, 16) as fast as it can, and tallies the
 *       results (a throwing handler's -EIO, xen_version's number).
 *   mode=event     finds dom0's echo backend (as the evtchn guest does:
 *       data/echo/port, data/echo/state = connected) and sends on its port P
 *       as fast as it can, never taking the echoes: with P masked they
 *       coalesce on its one pending bit, as in Xen. At the end P must be
 *       pending once, and nothing more may come.
 *   mode=xenstore  pipelines requests on its store ring, as many as the ring
 *       takes (never waiting for a reply before the next request, up to 64 in
 *       flight): first 200 watches (past its watch quota), then writes of
 *       data/flood/g<i / 100>/n<i % 100> for i = 0..1499 over and over (past
 *       its node quota: the first pass makes nodes until xenstored says
 *       ENOSPC; later writes to nodes it made succeed).
 *   mode=spin      spins (pause) as fast as it can, making no hypercall: a
 *       guest that takes its CPU and nothing else, to compare the floods with.
 *   mode=idle      what mode=event sets up, then it rests s seconds.
 *   mode=measure [slice=<ms>]  for s seconds alternates an event round trip
 *       with the echo backend (send on P, wait up to 1 s for the echo) and a
 *       xenstore write of data/measure/k<i % 16> read back, timing each on its
 *       pvclock, and adds them up per slice of the window (default 100 ms).
 *   pulse=<ms> (the floods): rest a pulse, flood a pulse, rest, ... for s
 *       seconds, instead of flooding the whole time.
 *
 * Each mode prints one result line, "flood: <mode> ... from_ns=<a>
 * to_ns=<b>" (Xen system time, the same clock for every domain); measure
 * prints a line "flood: slice i=<k> ..." before it for each slice k (from
 * from_ns + k * slice) in which it did anything. Then it powers off; measure
 * crashes (SHUTDOWN_crash) after its line if a round trip timed out or a
 * request failed. A mode that cannot set up says why in a "flood: FAIL" line
 * and crashes.
 */
#include "xspipe.h"

#define NS_PER_MS       1000000ull
#define NS_PER_S        1000000000ull
#define BATCH           16          /* calls between two looks at the clock (rdtsc: no exit) */
#define IN_FLIGHT       64          /* pipelined xenstore requests not yet answered, at most */
#define WATCHES         200
#define FLOOD_NODES     1500
#define GROUP           100         /* nodes under one parent: its record (names of its children) stays
                                       under xenstored's entry size, so the node quota is what stops it */
#define MEASURE_NODES   16

static union {
    struct shared_info si;
    char page[4096];
} shared_info_page __attribute__((section(".bss.pagealigned"), aligned(4096)));

static volatile struct shared_info *const sh = &shared_info_page.si;

/* Xen system time from vCPU 0's pvclock (vcpu_time_info in shared_info), with
 * no hypercall: read again (up to 1000 times) while Xen updates it, as
 * Linux's pvclock reader does; then system_time + ((((tsc - tsc_timestamp)
 * << shift) * mul) >> 32). */
static uint64_t now_ns(void)
{
    volatile struct vcpu_time_info *t = &sh->vcpu_info[0].time;
    uint32_t v, mul;
    uint64_t stamp, system, tsc;
    int8_t shift;
    for (int tries = 0;; tries++) {
        v = t->version;
        asm volatile("" ::: "memory");
        stamp = t->tsc_timestamp;
        system = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        tsc = rdtsc_ordered();
        asm volatile("" ::: "memory");
        if ((!(v & 1) && v == t->version) || tries >= 1000)
            break;
    }
    uint64_t delta = tsc - stamp;
    if ((int64_t)delta < 0)
        delta = 0;
    delta = shift >= 0 ? delta << shift : delta >> -shift;
    return system + (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

static void fail(const char *what, long rc) __attribute__((noreturn));
static void fail(const char *what, long rc)
{
    printk("flood: FAIL %s rc=%ld; crashing\n", what, rc);
    xen_shutdown(SHUTDOWN_crash);
}

/* The number after key= on the command line, or dflt; a value that is not a number ends the guest. */
static unsigned long number(const char *key, unsigned long dflt)
{
    const char *v = cmdline_find(key);
    if (!v)
        return dflt;
    const char *end;
    unsigned long n = parse_ulong(v, &end);
    if (end == v || (*end != 0 && *end != ' ')) {
        printk("flood: bad %s= on the command line (want a number)\n", key);
        fail("command line", -XEN_EINVAL);
    }
    return n;
}

static int is_mode(const char *value, const char *name)
{
    size_t n = strlen(name);
    return value && !strncmp(value, name, n) && (value[n] == 0 || value[n] == ' ');
}

/* Any hypercall by number: an indirect call into the hypercall page. */
static long hypercall_nr(unsigned long nr, unsigned long a1, void *a2, unsigned long a3)
{
    register unsigned long res asm("rax");
    register unsigned long arg1 asm("rdi") = a1;
    register unsigned long arg2 asm("rsi") = (unsigned long)(uintptr_t)a2;
    register unsigned long arg3 asm("rdx") = a3;
    register unsigned long arg4 asm("r10") = 0;
    register unsigned long arg5 asm("r8") = 0;
    asm volatile("call *%[entry]"
                 : "=r"(res), "+r"(arg1), "+r"(arg2), "+r"(arg3), "+r"(arg4), "+r"(arg5)
                 : [entry] "r"(hypercall_page + 32 * nr)
                 : "memory", "cc");
    return (long)res;
}

static void map_shared_info(void)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0,
        .gpfn = (unsigned long)(uintptr_t)&shared_info_page >> 12,
    };
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc != 0)
        fail("XENMEM_add_to_physmap(shared_info)", rc);
    pv_init(sh);
}

/* A port P for dom0, published in data/echo/port; waits (2 s) until the echo
 * backend has bound it and says data/echo/state = connected, as the evtchn
 * guest does. */
static evtchn_port_t echo_port(void)
{
    long rc = xs_init();
    if (rc != 0)
        fail("xenstore ring (HVM_PARAM_STORE_*)", rc);
    evtchn_port_t p;
    rc = pv_alloc_unbound(0, &p);
    if (rc != 0)
        fail("EVTCHNOP_alloc_unbound for dom0", rc);
    char text[16];
    snprintf(text, sizeof(text), "%u", p);
    rc = xs_write("data/echo/port", text);
    if (rc != 0)
        fail("write data/echo/port", rc);
    uint64_t deadline = now_ns() + 2 * NS_PER_S;
    for (;;) {
        struct evtchn_status st = { .dom = DOMID_SELF, .port = p };
        char state[32] = "";
        rc = HYPERVISOR_event_channel_op(EVTCHNOP_status, &st);
        if (rc != 0)
            fail("EVTCHNOP_status of P", rc);
        if (xs_read("data/echo/state", state, sizeof(state)) != 0)
            state[0] = 0;
        if (st.status == EVTCHNSTAT_interdomain && !strncmp(state, "connected", sizeof(state)))
            break;
        if (now_ns() >= deadline)
            fail("dom0's echo backend did not connect within 2 s", -XEN_ETIME);
        pv_wait(p, 1);      /* masks P, and waits 1 ms: nothing sends on it yet */
    }
    pv_wait(p, 0);          /* the event the bind may have left: not an echo */
    return p;
}

/* ---- the schedule ----------------------------------------------------------- */

/*
 * A flood runs for `seconds` from `from`. With pulse=<ms> it rests for a
 * pulse, floods for a pulse, rests, ... (a rest first), so that a neighbour
 * measures its service with and without the flood, interleaved in time;
 * without pulse= it floods the whole time. A rest is a SCHEDOP_poll with a
 * timeout on a port nothing sends on: the vCPU is parked, using no CPU.
 */
static struct {
    uint64_t from, until, pulse;
    evtchn_port_t idle;
} plan;

static void plan_start(uint64_t seconds)
{
    plan.pulse = number("pulse", 0) * NS_PER_MS;
    long rc = pv_alloc_unbound(DOMID_SELF, &plan.idle);
    if (rc != 0)
        fail("EVTCHNOP_alloc_unbound for itself (the port it rests on)", rc);
    plan.from = now_ns();
    plan.until = plan.from + seconds * NS_PER_S;
}

static int flooding(uint64_t now)
{
    return plan.pulse == 0 || ((now - plan.from) / plan.pulse) % 2 == 1;
}

/* Rests until the current (rest) phase ends, or the flood does. */
static void rest(uint64_t now)
{
    uint64_t end = plan.pulse ? plan.from + ((now - plan.from) / plan.pulse + 1) * plan.pulse : plan.until;
    if (end > plan.until)
        end = plan.until;
    if (end > now)
        pv_wait(plan.idle, (unsigned)((end - now + NS_PER_MS - 1) / NS_PER_MS));   /* -ETIME */
}

/* ---- mode=hypercall ------------------------------------------------------ */

static void flood_hypercalls(uint64_t seconds)
{
    static char buffer[64];
    unsigned long nr = number("nr", __HYPERVISOR_xen_version);
    if (nr >= 128)
        fail("nr= is not a hypercall number (0..127)", -XEN_EINVAL);
    struct { long rc; unsigned long n; } seen[4];
    int kinds = 0;
    unsigned long others = 0, calls = 0;
    plan_start(seconds);
    uint64_t now;
    while ((now = now_ns()) < plan.until) {
        if (!flooding(now)) {
            rest(now);
            continue;
        }
        for (int i = 0; i < BATCH; i++) {
            long rc = hypercall_nr(nr, 0, buffer, 16);
            int k = 0;
            while (k < kinds && seen[k].rc != rc)
                k++;
            if (k < kinds) {
                seen[k].n++;
            } else if (kinds < 4) {
                seen[kinds].rc = rc;
                seen[kinds++].n = 1;
            } else {
                others++;
            }
        }
        calls += BATCH;
    }
    char results[160] = "";
    size_t used = 0;
    for (int k = 0; k < kinds && used < sizeof(results); k++)
        used += (size_t)snprintf(results + used, sizeof(results) - used, " rc=%ld x%lu", seen[k].rc, seen[k].n);
    printk("flood: hypercall nr=%lu calls=%lu pulse_ms=%lu from_ns=%lu to_ns=%lu results:%s others=%lu\n", nr,
           calls, (unsigned long)(plan.pulse / NS_PER_MS), (unsigned long)plan.from, (unsigned long)now, results,
           others);
}

/* ---- mode=event ---------------------------------------------------------- */

static void flood_events(uint64_t seconds)
{
    evtchn_port_t p = echo_port();
    unsigned long sends = 0, failed = 0;
    long first_rc = 0;
    plan_start(seconds);
    uint64_t now;
    while ((now = now_ns()) < plan.until) {
        if (!flooding(now)) {
            rest(now);
            continue;
        }
        for (int i = 0; i < BATCH; i++) {
            long rc = pv_send(p);
            if (rc != 0 && failed++ == 0)
                first_rc = rc;
        }
        sends += BATCH;
    }
    /* every echo landed on P's one pending bit: one event to take, then none */
    int pending = pv_wait(p, 0) == 0;
    int extra = pv_wait(p, 20) == 0;
    printk("flood: event port=%u sends=%lu failed=%lu first_rc=%ld pending_after=%d extra_after=%d pulse_ms=%lu "
           "from_ns=%lu to_ns=%lu\n", p, sends, failed, first_rc, pending, extra,
           (unsigned long)(plan.pulse / NS_PER_MS), (unsigned long)plan.from, (unsigned long)now);
}

/* ---- mode=xenstore ------------------------------------------------------- */

static struct xs_message msg;

struct tally {
    unsigned long ok, enospc, e2big, other, events;
};

/* The first error xenstored answered that the flood does not expect (its XS_ERROR string). */
static char first_other[16] = "none";

/* Appends text, then n in decimal, at p; where it ended. (No snprintf: the flood builds a request per
 * iteration, and a guest whose every store is slow, as on a nested KVM, would spend its time there.) */
static char *put(char *p, const char *text, unsigned long n)
{
    while (*text)
        *p++ = *text++;
    char digits[20];
    int k = 0;
    do {
        digits[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (k)
        *p++ = digits[--k];
    return p;
}

/* The i-th request of the flood: a watch (i < WATCHES), else a write; its type and its two parts. */
static uint32_t flood_request(unsigned long i, char *a, size_t *alen, char *b, size_t *blen)
{
    if (i < WATCHES) {
        *put(a, "data/flood/w", i) = 0;
        *alen = strlen(a) + 1;
        *put(b, "w", i) = 0;
        *blen = strlen(b) + 1;
        return XS_WATCH;
    }
    unsigned long node = (i - WATCHES) % FLOOD_NODES;
    *put(put(a, "data/flood/g", node / GROUP), "/n", node % GROUP) = 0;
    *alen = strlen(a) + 1;
    *blen = (size_t)(put(b, "flood ", i) - b);
    return XS_WRITE;
}

/* Counts the reply in `msg`; *created counts the first pass's writes that made their node. */
static void count_reply(struct tally *watches, struct tally *writes, const uint32_t *types,
                        unsigned long *created)
{
    if (msg.hdr.type == XS_WATCH_EVENT) {
        watches->events++;
        return;
    }
    struct tally *t = types[msg.hdr.req_id % IN_FLIGHT] == XS_WATCH ? watches : writes;
    if (msg.hdr.type != XS_ERROR) {
        t->ok++;
        if (t == writes && msg.hdr.req_id - WATCHES < FLOOD_NODES)
            (*created)++;
    } else if (!strncmp(msg.body, "ENOSPC", sizeof(msg.body))) {
        t->enospc++;
    } else if (!strncmp(msg.body, "E2BIG", sizeof(msg.body))) {
        t->e2big++;
    } else if (t->other++ == 0 && !strncmp(first_other, "none", sizeof(first_other))) {
        snprintf(first_other, sizeof(first_other), "%s", msg.body);
    }
}

static void flood_xenstore(uint64_t seconds)
{
    long rc = xspipe_init();
    if (rc != 0)
        fail("xenstore ring (HVM_PARAM_STORE_*)", rc);
    struct tally watches = { 0 }, writes = { 0 };
    uint32_t types[IN_FLIGHT];  /* by req_id % IN_FLIGHT: ids in flight are consecutive */
    unsigned long sent = 0, answered = 0, created = 0, notified = 0, waited = 0;
    char a[64], b[64];
    size_t alen = 0, blen = 0;
    uint32_t type = flood_request(0, a, &alen, b, &blen);
    plan_start(seconds);
    uint64_t now = plan.from;
    /* past the window, only the answers to what is in flight are awaited (5 s at most), but a flood
     * that has not yet been refused a node goes on until it is (30 s at most): on a slow or loaded
     * machine the window may end before the quota is reached, and the quota is what is tested */
    for (;;) {
        int first_pass = !writes.enospc && now < plan.until + 30 * NS_PER_S;
        if (!(now < plan.until || first_pass || (sent > answered && now < plan.until + 5 * NS_PER_S)))
            break;
        int on = now < plan.until ? flooding(now) : first_pass;
        int moved = 0;
        while (on && sent - answered < IN_FLIGHT) {
            int queued = xspipe_request(type, (uint32_t)sent, a, alen, b, blen);
            if (queued < 0)
                fail("xenstore ring (request indexes)", queued);
            if (queued == 0)
                break;
            types[sent % IN_FLIGHT] = type;
            type = flood_request(++sent, a, &alen, b, &blen);
            moved = 1;
        }
        if (moved) {
            xspipe_notify();
            notified++;
        }
        int took = 0;
        long got;
        while ((got = xspipe_reply(&msg)) == 1) {
            count_reply(&watches, &writes, types, &created);
            if (msg.hdr.type != XS_WATCH_EVENT)
                answered++;
            took = 1;
        }
        if (got < 0)
            fail("xenstore ring (reply)", got);
        if (took) {
            xspipe_notify();
            notified++;
        } else if (!moved && sent > answered) {
            xspipe_wait(10);
            waited++;
        } else if (!moved && now < plan.until) {
            rest(now);
        }
        now = now_ns();
    }
    /* a watch is refused E2BIG past its quota and a write ENOSPC; any other answer is unexpected */
    unsigned long other = watches.other + watches.enospc + writes.other + writes.e2big;
    if (watches.enospc || writes.e2big)
        snprintf(first_other, sizeof(first_other), "%s", watches.enospc ? "ENOSPC(watch)" : "E2BIG(write)");
    printk("flood: xenstore requests=%lu answered=%lu watch_ok=%lu watch_e2big=%lu write_ok=%lu "
           "write_enospc=%lu created=%lu other=%lu first_other=%s events=%lu notified=%lu waited=%lu pulse_ms=%lu "
           "from_ns=%lu to_ns=%lu\n", sent, answered, watches.ok, watches.e2big, writes.ok, writes.enospc, created,
           other, first_other, watches.events, notified, waited, (unsigned long)(plan.pulse / NS_PER_MS), (unsigned long)plan.from,
           (unsigned long)plan.until);
}

/* ---- mode=spin ----------------------------------------------------------- */

static void spin(uint64_t seconds)
{
    unsigned long loops = 0;
    plan_start(seconds);
    uint64_t now;
    while ((now = now_ns()) < plan.until) {
        if (!flooding(now)) {
            rest(now);
            continue;
        }
        for (int i = 0; i < 1000; i++)
            cpu_relax();
        loops++;
    }
    printk("flood: spin loops=%lu pulse_ms=%lu from_ns=%lu to_ns=%lu\n", loops,
           (unsigned long)(plan.pulse / NS_PER_MS), (unsigned long)plan.from, (unsigned long)now);
}

/* ---- mode=idle ----------------------------------------------------------- */

static void idle(uint64_t seconds)
{
    echo_port();
    plan_start(seconds);
    rest(plan.from);
    printk("flood: idle from_ns=%lu to_ns=%lu\n", (unsigned long)plan.from, (unsigned long)now_ns());
}

/* ---- mode=measure -------------------------------------------------------- */

#define MAX_SLICES 512

/* What one slice of the window served: event round trips and xenstore requests, and their time. */
static struct slice {
    uint32_t events, xs;
    uint64_t event_ns, xs_ns;
} slices[MAX_SLICES];

static void measure(uint64_t seconds)
{
    evtchn_port_t p = echo_port();
    uint64_t slice_ns = number("slice", 100) * NS_PER_MS;
    if (slice_ns == 0)
        fail("slice= must be at least 1 (ms)", -XEN_EINVAL);
    struct slice total = { 0 };
    uint64_t event_max = 0, xs_max = 0;
    unsigned long failures = 0;
    long first_rc = 0;
    char path[32], value[32], back[32];
    uint64_t from = now_ns(), until = from + seconds * NS_PER_S, now = from;
    for (unsigned long i = 0; now < until; i++) {
        struct slice *in = &slices[(now - from) / slice_ns < MAX_SLICES ? (now - from) / slice_ns : MAX_SLICES - 1];
        uint64_t t0 = now;
        long rc = pv_send(p);
        if (rc == 0)
            rc = pv_wait(p, 1000);
        uint64_t t1 = now_ns();
        in->events++;
        in->event_ns += t1 - t0;
        if (t1 - t0 > event_max)
            event_max = t1 - t0;
        if (rc != 0 && failures++ == 0)
            first_rc = rc;

        snprintf(path, sizeof(path), "data/measure/k%lu", i % MEASURE_NODES);
        snprintf(value, sizeof(value), "%lu", i);
        rc = xs_write(path, value);
        if (rc == 0)
            rc = xs_read(path, back, sizeof(back));
        if (rc == 0 && strncmp(back, value, sizeof(back)))
            rc = -XEN_EIO;      /* read back something else */
        now = now_ns();
        in->xs += 2;
        in->xs_ns += now - t1;
        if (now - t1 > xs_max)
            xs_max = now - t1;
        if (rc != 0 && failures++ == 0)
            first_rc = rc;
    }
    for (int k = 0; k < MAX_SLICES; k++) {
        total.events += slices[k].events;
        total.event_ns += slices[k].event_ns;
        total.xs += slices[k].xs;
        total.xs_ns += slices[k].xs_ns;
        if (slices[k].events)
            printk("flood: slice i=%d events=%u event_ns=%lu xs_requests=%u xs_ns=%lu\n", k, slices[k].events,
                   (unsigned long)slices[k].event_ns, slices[k].xs, (unsigned long)slices[k].xs_ns);
    }
    printk("flood: measure events=%u event_ns=%lu event_max_ns=%lu xs_requests=%u xs_ns=%lu xs_max_ns=%lu "
           "failures=%lu first_rc=%ld slice_ms=%lu from_ns=%lu to_ns=%lu\n", total.events,
           (unsigned long)total.event_ns, (unsigned long)event_max, total.xs, (unsigned long)total.xs_ns,
           (unsigned long)xs_max, failures, first_rc, (unsigned long)(slice_ns / NS_PER_MS), (unsigned long)from,
           (unsigned long)now);
    if (failures)
        xen_shutdown(SHUTDOWN_crash);
}

void kmain(struct hvm_start_info *si)
{
    (void)si;
    if (xen_init() != 0) {
        early_puts("flood: cannot continue without Xen\n");
        for (;;)
            asm volatile("cli; hlt");
    }
    map_shared_info();
    const char *mode = cmdline_find("mode");
    uint64_t seconds = number("seconds", 3);
    if (is_mode(mode, "hypercall"))
        flood_hypercalls(seconds);
    else if (is_mode(mode, "event"))
        flood_events(seconds);
    else if (is_mode(mode, "xenstore"))
        flood_xenstore(seconds);
    else if (is_mode(mode, "spin"))
        spin(seconds);
    else if (is_mode(mode, "idle"))
        idle(seconds);
    else if (is_mode(mode, "measure"))
        measure(seconds);
    else
        fail("mode= is none of hypercall, event, xenstore, spin, idle, measure", -XEN_EINVAL);
    xen_shutdown(SHUTDOWN_poweroff);
}
