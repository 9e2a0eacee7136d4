/*
 * flood: xenstore requests pipelined on the guest's store ring, for a guest
 * that does not wait for each reply before its next request (common/pv.c's
 * client does). The same ring page and port as pv.c's (HVM_PARAM_STORE_*);
 * use one or the other at a time, never both at once.
 */
#ifndef XENSHIM_FLOOD_XSPIPE_H
#define XENSHIM_FLOOD_XSPIPE_H

#include "pv.h"

#define XEN_EIO 5           /* xen/errno.h; xenguest.h does not name it */

/* One message read from the ring: a reply or a watch event, body NUL-terminated. */
struct xs_message {
    struct xsd_sockmsg hdr;
    char body[XENSTORE_PAYLOAD_MAX + 1];
};

/* Finds the ring and its port (HVM_PARAM_STORE_PFN, _EVTCHN): 0, or a negative errno. */
long xspipe_init(void);
/* Queues a whole request if the ring has room for all of it now: 1; 0 with
 * nothing written if it has not; a negative errno for broken indexes. */
int xspipe_request(uint32_t type, uint32_t req_id, const char *a, size_t alen, const char *b, size_t blen);
/* Takes one message once it is whole in the ring: 1; 0 if none is whole
 * yet; a negative errno for broken indexes or a payload over the maximum. */
long xspipe_reply(struct xs_message *m);
/* Tells xenstored (requests queued, replies taken). */
void xspipe_notify(void);
/* Waits up to timeout_ms for xenstored's notification: 0, or -ETIME. */
long xspipe_wait(unsigned timeout_ms);

#endif
