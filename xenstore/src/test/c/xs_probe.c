/*
 * Probe of xs_wire.h (and the permission bits of xenstore_lib.h) for
 * XsWireProbeTest: every record is a constant or a layout the Java side
 * (xenshim.xenstore.XsWire) must match. Compiled with gcc -c, never run;
 * see c-probe's xenshim_probe.h for the record format.
 */
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

#include <xen/io/xs_wire.h>
#include <xenstore_lib.h>

#include "xenshim_probe.h"

#define C(x) PROBE("const " #x, x)
#define S(s) PROBE("sizeof " #s, sizeof(struct s))
#define F(s, m) PROBE("offsetof " #s "." #m, offsetof(struct s, m)) \
        PROBE("sizeof " #s "." #m, sizeof(((struct s *)0)->m))

const struct xenshim_probe_record xenshim_probe[] = {
    C(XS_CONTROL) C(XS_DEBUG) C(XS_DIRECTORY) C(XS_READ) C(XS_GET_PERMS) C(XS_WATCH) C(XS_UNWATCH)
    C(XS_TRANSACTION_START) C(XS_TRANSACTION_END) C(XS_INTRODUCE) C(XS_RELEASE) C(XS_GET_DOMAIN_PATH)
    C(XS_WRITE) C(XS_MKDIR) C(XS_RM) C(XS_SET_PERMS) C(XS_WATCH_EVENT) C(XS_ERROR) C(XS_IS_DOMAIN_INTRODUCED)
    C(XS_RESUME) C(XS_SET_TARGET) C(XS_RESET_WATCHES) C(XS_DIRECTORY_PART) C(XS_TYPE_COUNT) C(XS_INVALID)
    C(XS_WATCH_PATH) C(XS_WATCH_TOKEN)
    C(XENSTORE_RING_SIZE) C(XENSTORE_PAYLOAD_MAX) C(XENSTORE_ABS_PATH_MAX) C(XENSTORE_REL_PATH_MAX)
    C(XENSTORE_SERVER_FEATURE_RECONNECTION) C(XENSTORE_SERVER_FEATURE_ERROR)
    C(XENSTORE_CONNECTED) C(XENSTORE_RECONNECT)
    C(XENSTORE_ERROR_NONE) C(XENSTORE_ERROR_COMM) C(XENSTORE_ERROR_RINGIDX) C(XENSTORE_ERROR_PROTO)
    C(XS_PERM_NONE) C(XS_PERM_READ) C(XS_PERM_WRITE) C(XS_PERM_ENOENT_OK) C(XS_PERM_OWNER) C(XS_PERM_IGNORE)
    PROBE("const xsd_errors.count", sizeof(xsd_errors) / sizeof(xsd_errors[0]))

    S(xsd_sockmsg) F(xsd_sockmsg, type) F(xsd_sockmsg, req_id) F(xsd_sockmsg, tx_id) F(xsd_sockmsg, len)
    S(xenstore_domain_interface) F(xenstore_domain_interface, req) F(xenstore_domain_interface, rsp)
    F(xenstore_domain_interface, req_cons) F(xenstore_domain_interface, req_prod)
    F(xenstore_domain_interface, rsp_cons) F(xenstore_domain_interface, rsp_prod)
    F(xenstore_domain_interface, server_features) F(xenstore_domain_interface, connection)
    F(xenstore_domain_interface, error)
};
