/* flood: pipelined xenstore requests (see xspipe.h). */
#include "xspipe.h"

static volatile struct xenstore_domain_interface *ring;
static evtchn_port_t port;

static inline void barrier(void) { asm volatile("" ::: "memory"); }
static inline void mb(void) { asm volatile("mfence" ::: "memory"); }

long xspipe_init(void)
{
    uint64_t pfn, p;
    long rc = pv_param(HVM_PARAM_STORE_PFN, &pfn);
    if (rc == 0)
        rc = pv_param(HVM_PARAM_STORE_EVTCHN, &p);
    if (rc != 0)
        return rc;
    if (pfn == 0 || p == 0)
        return -XEN_ENOENT;
    ring = (volatile struct xenstore_domain_interface *)(uintptr_t)(pfn << 12);
    port = (evtchn_port_t)p;
    return 0;
}

static void put(XENSTORE_RING_IDX prod, const void *data, size_t n)
{
    const char *p = data;
    for (size_t i = 0; i < n; i++)
        ring->req[MASK_XENSTORE_IDX(prod + i)] = p[i];
}

int xspipe_request(uint32_t type, uint32_t req_id, const char *a, size_t alen, const char *b, size_t blen)
{
    struct xsd_sockmsg hdr = { .type = type, .req_id = req_id, .tx_id = 0, .len = (uint32_t)(alen + blen) };
    XENSTORE_RING_IDX cons = ring->req_cons, prod = ring->req_prod;
    mb();
    size_t used = prod - cons;
    if (used > XENSTORE_RING_SIZE)
        return -XEN_EIO;
    if (XENSTORE_RING_SIZE - used < sizeof(hdr) + alen + blen)
        return 0;
    put(prod, &hdr, sizeof(hdr));
    put(prod + sizeof(hdr), a, alen);
    put(prod + sizeof(hdr) + alen, b, blen);
    barrier();             /* x86: the bytes before the index that publishes them */
    ring->req_prod = prod + (XENSTORE_RING_IDX)(sizeof(hdr) + alen + blen);
    return 1;
}

long xspipe_reply(struct xs_message *m)
{
    XENSTORE_RING_IDX cons = ring->rsp_cons, prod = ring->rsp_prod;
    barrier();             /* x86: the index before the bytes it covers */
    size_t avail = prod - cons;
    if (avail > XENSTORE_RING_SIZE)
        return -XEN_EIO;
    if (avail < sizeof(m->hdr))
        return 0;
    char *h = (char *)&m->hdr;
    for (size_t i = 0; i < sizeof(m->hdr); i++)
        h[i] = ring->rsp[MASK_XENSTORE_IDX(cons + i)];
    if (m->hdr.len > XENSTORE_PAYLOAD_MAX)
        return -XEN_EIO;
    if (avail < sizeof(m->hdr) + m->hdr.len)
        return 0;
    for (size_t i = 0; i < m->hdr.len; i++)
        m->body[i] = ring->rsp[MASK_XENSTORE_IDX(cons + sizeof(m->hdr) + i)];
    m->body[m->hdr.len] = 0;
    mb();                  /* the bytes read before the index frees them */
    ring->rsp_cons = cons + (XENSTORE_RING_IDX)(sizeof(m->hdr) + m->hdr.len);
    return 1;
}

void xspipe_notify(void)
{
    pv_send(port);
}

long xspipe_wait(unsigned timeout_ms)
{
    return pv_wait(port, timeout_ms);
}
