/*
 * xenshim guests: the PV devices a Xen HVM/PVH guest finds at boot, as a frontend
 * kernel drives them: event channels waited on with SCHEDOP_poll (every
 * port stays masked; no upcall is needed), the PV console ring, a xenstore
 * client over its ring, and grant table v1 entries.
 */
#ifndef XENSHIM_GUEST_PV_H
#define XENSHIM_GUEST_PV_H

#include "hypercall.h"
#include <xen/grant_table.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>

/* Events. pv_init() takes the page that shared_info is mapped at. */
void pv_init(volatile struct shared_info *shared);
uint64_t pv_now_ns(void);                       /* HVMOP_get_time; 0 if refused */
long pv_param(uint32_t index, uint64_t *value);
long pv_alloc_unbound(domid_t remote, evtchn_port_t *port);
long pv_send(evtchn_port_t port);
/* Waits up to timeout_ms for an event on port and takes it: 0, or -XEN_ETIME. */
long pv_wait(evtchn_port_t port, unsigned timeout_ms);

/* The PV console: HVM_PARAM_CONSOLE_PFN and _EVTCHN. */
long cons_init(void);
void cons_write(const char *s, size_t len);
int cons_printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* xenstore over HVM_PARAM_STORE_PFN and _EVTCHN; paths may be relative. */
long xs_init(void);
/* Each returns 0 or a negative Xen errno (from the XS_ERROR string). */
long xs_read(const char *path, char *value, size_t size);
long xs_write(const char *path, const char *value);
long xs_get_domain_path(domid_t domid, char *path, size_t size);
const char *xs_error_name(long rc);

/* Grant table v1, frame 0 mapped at the page given. */
long gnttab_init(void *frame0);
void gnttab_grant(grant_ref_t ref, domid_t domid, unsigned long gfn, int readonly);
/* Ends a grant as Linux's gnttab_end_foreign_access_ref: 0, or -1 while it is mapped. */
int gnttab_end(grant_ref_t ref, uint16_t *flags_seen);
uint16_t gnttab_flags(grant_ref_t ref);

#endif
