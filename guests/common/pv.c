/*
 * xenshim guests: event channels by SCHEDOP_poll, the PV console ring, a xenstore
 * client and grant table v1 entries (see pv.h).  Every wait is bounded.
 */
#include "pv.h"

#define XEN_EIO 5
#define XEN_ETIME_RC (-XEN_ETIME)

static volatile struct shared_info *sh;

static inline void barrier(void) { asm volatile("" ::: "memory"); }
/* x86: stores are not reordered with stores, loads not with loads; the
 * compiler must not reorder either. mb orders a store before a later load. */
static inline void wmb(void) { barrier(); }
static inline void rmb(void) { barrier(); }
static inline void mb(void) { asm volatile("mfence" ::: "memory"); }

static int test_and_clear(unsigned long nr, volatile xen_ulong_t *base)
{
    int old;
    asm volatile("lock btr %2, %1; sbb %0, %0"
                 : "=r"(old), "+m"(*base) : "r"(nr) : "memory");
    return old != 0;
}

static void set_bit(unsigned long nr, volatile xen_ulong_t *base)
{
    asm volatile("lock bts %1, %0" : "+m"(*base) : "r"(nr) : "memory");
}

void pv_init(volatile struct shared_info *shared)
{
    sh = shared;
}

uint64_t pv_now_ns(void)
{
    struct xen_hvm_get_time t = { 0 };
    return HYPERVISOR_hvm_op(HVMOP_get_time, &t) == 0 ? t.now : 0;
}

long pv_param(uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
    long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
    *value = p.value;
    return rc;
}

long pv_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = remote };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);
    *port = a.port;
    return rc;
}

long pv_send(evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

/* Every port we use stays masked: events are taken by poll, never by an upcall. */
static void mask(evtchn_port_t port)
{
    set_bit(port, sh->evtchn_mask);
}

long pv_wait(evtchn_port_t port, unsigned timeout_ms)
{
    mask(port);
    uint64_t now = pv_now_ns();
    uint64_t deadline = now + (uint64_t)timeout_ms * 1000000;
    for (;;) {
        if (test_and_clear(port, sh->evtchn_pending))
            return 0;
        now = pv_now_ns();
        if (now == 0 || now >= deadline)
            return XEN_ETIME_RC;
        struct sched_poll p = { .nr_ports = 1, .timeout = deadline };
        set_xen_guest_handle(p.ports, &port);
        long rc = HYPERVISOR_sched_op(SCHEDOP_poll, &p);
        if (rc < 0 && rc != XEN_ETIME_RC)
            return rc;
    }
}

/* ---- the PV console ---------------------------------------------------- */

static volatile struct xencons_interface *cons;
static evtchn_port_t cons_port;

long cons_init(void)
{
    uint64_t pfn, port;
    long rc = pv_param(HVM_PARAM_CONSOLE_PFN, &pfn);
    if (rc == 0)
        rc = pv_param(HVM_PARAM_CONSOLE_EVTCHN, &port);
    if (rc != 0)
        return rc;
    if (pfn == 0 || port == 0)
        return -XEN_ENOENT;
    cons = (volatile struct xencons_interface *)(uintptr_t)(pfn << 12);
    cons_port = (evtchn_port_t)port;
    mask(cons_port);
    return 0;
}

void cons_write(const char *s, size_t len)
{
    if (!cons) {
        console_write(s, len);
        return;
    }
    while (len > 0) {
        XENCONS_RING_IDX cons_idx = cons->out_cons, prod = cons->out_prod;
        mb();
        size_t room = sizeof(cons->out) - (prod - cons_idx);
        if (room == 0) {
            /* the backend drains and notifies; past a second, the text is lost */
            pv_send(cons_port);
            if (pv_wait(cons_port, 1000) != 0)
                return;
            continue;
        }
        size_t n = len < room ? len : room;
        for (size_t i = 0; i < n; i++)
            cons->out[MASK_XENCONS_IDX(prod + i, cons->out)] = s[i];
        wmb();
        cons->out_prod = prod + (XENCONS_RING_IDX)n;
        pv_send(cons_port);
        s += n;
        len -= n;
    }
}

int cons_printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk_to(cons_write, fmt, ap);
    va_end(ap);
    return n;
}

/* ---- xenstore ------------------------------------------------------------ */

static volatile struct xenstore_domain_interface *xs;
static evtchn_port_t xs_port;
static uint32_t xs_req_id;

/* One reply (or a watch event, which this client skips: it sets no watch). */
static struct {
    struct xsd_sockmsg hdr;
    char body[XENSTORE_PAYLOAD_MAX + 1];
} reply;

long xs_init(void)
{
    uint64_t pfn, port;
    long rc = pv_param(HVM_PARAM_STORE_PFN, &pfn);
    if (rc == 0)
        rc = pv_param(HVM_PARAM_STORE_EVTCHN, &port);
    if (rc != 0)
        return rc;
    if (pfn == 0 || port == 0)
        return -XEN_ENOENT;
    xs = (volatile struct xenstore_domain_interface *)(uintptr_t)(pfn << 12);
    xs_port = (evtchn_port_t)port;
    mask(xs_port);
    return 0;
}

static long ring_write(const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        XENSTORE_RING_IDX cons_idx = xs->req_cons, prod = xs->req_prod;
        mb();
        size_t room = XENSTORE_RING_SIZE - (prod - cons_idx);
        if (room > XENSTORE_RING_SIZE)
            return -XEN_EIO;            /* a ring the server broke */
        if (room == 0) {
            pv_send(xs_port);
            if (pv_wait(xs_port, 5000) != 0)
                return XEN_ETIME_RC;
            continue;
        }
        size_t n = len < room ? len : room;
        for (size_t i = 0; i < n; i++)
            xs->req[MASK_XENSTORE_IDX(prod + i)] = p[i];
        wmb();
        xs->req_prod = prod + (XENSTORE_RING_IDX)n;
        pv_send(xs_port);
        p += n;
        len -= n;
    }
    return 0;
}

static long ring_read(void *data, size_t len)
{
    char *p = data;
    while (len > 0) {
        XENSTORE_RING_IDX cons_idx = xs->rsp_cons, prod = xs->rsp_prod;
        rmb();
        size_t avail = prod - cons_idx;
        if (avail > XENSTORE_RING_SIZE)
            return -XEN_EIO;
        if (avail == 0) {
            if (pv_wait(xs_port, 5000) != 0)
                return XEN_ETIME_RC;
            continue;
        }
        size_t n = len < avail ? len : avail;
        for (size_t i = 0; i < n; i++)
            p[i] = xs->rsp[MASK_XENSTORE_IDX(cons_idx + i)];
        mb();
        xs->rsp_cons = cons_idx + (XENSTORE_RING_IDX)n;
        pv_send(xs_port);
        p += n;
        len -= n;
    }
    return 0;
}

/* Reads one message (reply or watch event) into `reply`. */
static long read_message(void)
{
    long rc = ring_read(&reply.hdr, sizeof(reply.hdr));
    if (rc != 0)
        return rc;
    if (reply.hdr.len > XENSTORE_PAYLOAD_MAX)
        return -XEN_EIO;
    rc = ring_read(reply.body, reply.hdr.len);
    reply.body[reply.hdr.len] = 0;
    return rc;
}

static const struct { const char *name; int errnum; } xs_errors[] = {
    { "EINVAL", 22 }, { "EACCES", 13 }, { "EEXIST", 17 }, { "EISDIR", 21 },
    { "ENOENT", 2 }, { "ENOMEM", 12 }, { "ENOSPC", 28 }, { "EIO", 5 },
    { "ENOTEMPTY", 39 }, { "ENOSYS", 38 }, { "EROFS", 30 }, { "EBUSY", 16 },
    { "EAGAIN", 11 }, { "EISCONN", 106 }, { "E2BIG", 7 }, { "EPERM", 1 },
    { "EQUOTA", 122 },
};

const char *xs_error_name(long rc)
{
    for (size_t i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++)
        if (-rc == xs_errors[i].errnum)
            return xs_errors[i].name;
    return rc == XEN_ETIME_RC ? "timeout" : "?";
}

/* Sends type with the given NUL-separated parts; the reply lands in `reply`. */
static long request(uint32_t type, const char *a, size_t alen, const char *b, size_t blen)
{
    if (!xs)
        return -XEN_ENOENT;
    struct xsd_sockmsg hdr = { .type = type, .req_id = ++xs_req_id, .tx_id = 0,
                               .len = (uint32_t)(alen + blen) };
    long rc = ring_write(&hdr, sizeof(hdr));
    if (rc == 0)
        rc = ring_write(a, alen);
    if (rc == 0 && blen)
        rc = ring_write(b, blen);
    while (rc == 0) {
        rc = read_message();
        if (rc != 0)
            return rc;
        if (reply.hdr.type == XS_WATCH_EVENT || reply.hdr.req_id != hdr.req_id)
            continue;                   /* not a reply to this request */
        if (reply.hdr.type == XS_ERROR) {
            for (size_t i = 0; i < sizeof(xs_errors) / sizeof(xs_errors[0]); i++)
                if (!strncmp(reply.body, xs_errors[i].name, sizeof(reply.body)) &&
                    strlen(reply.body) == strlen(xs_errors[i].name))
                    return -xs_errors[i].errnum;
            return -XEN_EIO;
        }
        return 0;
    }
    return rc;
}

long xs_read(const char *path, char *value, size_t size)
{
    long rc = request(XS_READ, path, strlen(path) + 1, NULL, 0);
    if (rc != 0)
        return rc;
    size_t n = reply.hdr.len < size - 1 ? reply.hdr.len : size - 1;
    memcpy(value, reply.body, n);
    value[n] = 0;
    return 0;
}

long xs_write(const char *path, const char *value)
{
    return request(XS_WRITE, path, strlen(path) + 1, value, strlen(value));
}

long xs_get_domain_path(domid_t domid, char *path, size_t size)
{
    char id[8];
    snprintf(id, sizeof(id), "%u", domid);
    long rc = request(XS_GET_DOMAIN_PATH, id, strlen(id) + 1, NULL, 0);
    if (rc == 0) {
        size_t n = strlen(reply.body) < size - 1 ? strlen(reply.body) : size - 1;
        memcpy(path, reply.body, n);
        path[n] = 0;
    }
    return rc;
}

/* ---- grant table v1 ---------------------------------------------------- */

static volatile grant_entry_v1_t *gnt;

long gnttab_init(void *frame0)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table, .idx = 0,
        .gpfn = (unsigned long)(uintptr_t)frame0 >> 12,
    };
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc == 0)
        gnt = frame0;
    return rc;
}

void gnttab_grant(grant_ref_t ref, domid_t domid, unsigned long gfn, int readonly)
{
    gnt[ref].frame = (uint32_t)gfn;
    gnt[ref].domid = domid;
    wmb();      /* the frame and domid before the flags that make them valid */
    gnt[ref].flags = GTF_permit_access | (readonly ? GTF_readonly : 0);
}

uint16_t gnttab_flags(grant_ref_t ref)
{
    return gnt[ref].flags;
}

int gnttab_end(grant_ref_t ref, uint16_t *flags_seen)
{
    uint16_t flags = gnt[ref].flags, seen;
    do {
        *flags_seen = flags;
        if (flags & (GTF_reading | GTF_writing))
            return -1;
        seen = flags;
        flags = __sync_val_compare_and_swap(&gnt[ref].flags, seen, 0);
    } while (flags != seen);
    return 0;
}
