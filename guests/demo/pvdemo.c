/*
 * demo, PV part: a round trip with a dom0 backend through a granted page.
 *
 *  1. The PV console ring (HVM_PARAM_CONSOLE_*) carries the output from here on.
 *  2. xenstore (HVM_PARAM_STORE_*): the domain path and name.
 *  3. Grant table frame 0 mapped with XENMEM_add_to_physmap; a page of ours
 *     granted to dom0 as ref PV_REF with a message in it; a port allocated
 *     for dom0.
 *  4. data/pv-demo/{gref,port,mode} written, then data/pv-demo/state = ready.
 *  5. dom0's backend (watching that node) maps the page, writes its answer
 *     and sends an event; we print the answer.
 *
 * `pv=` on the command line: `rw` (default), `readonly` (the grant is
 * read-only: the backend's writable map is refused and it says so in
 * data/pv-demo/result; the page must be unchanged), `revoke` (while the
 * backend holds the page mapped, ending the grant fails; once it unmaps,
 * it succeeds), `off`.  One `demo: pv: PASS ...` or `demo: pv: FAIL ...`
 * line per check; any FAIL ends the guest with SHUTDOWN_crash.
 */
#include "pv.h"

#define PV_REF 8                /* the first entry after the reserved ones */
#define WAIT_MS 5000

static char grant_page[4096] __attribute__((section(".bss.pagealigned"), aligned(4096)));
static char gnttab_frame[4096] __attribute__((section(".bss.pagealigned"), aligned(4096)));

static int failures;

static void check(int ok, const char *what, long rc)
{
    if (ok) {
        cons_printk("demo: pv: PASS %s\n", what);
    } else {
        cons_printk("demo: pv: FAIL %s rc=%ld (%s)\n", what, rc, xs_error_name(rc));
        failures++;
    }
}

static long publish(const char *leaf, const char *value)
{
    char path[64];
    snprintf(path, sizeof(path), "data/pv-demo/%s", leaf);
    long rc = xs_write(path, value);
    cons_printk("demo: pv: xenstore write %s = \"%s\" rc=%ld\n", path, value, rc);
    return rc;
}

static const char *mode_of_cmdline(void)
{
    const char *v = cmdline_find("pv");
    if (!v)
        return "rw";
    if (!strncmp(v, "readonly", 8))
        return "readonly";
    if (!strncmp(v, "revoke", 6))
        return "revoke";
    if (!strncmp(v, "off", 3))
        return "off";
    return "rw";
}

/* Returns 0 if every check passed, -1 if one failed, 1 if there is no PV platform. */
int pv_demo(volatile struct shared_info *shared)
{
    const char *mode = mode_of_cmdline();
    if (!strncmp(mode, "off", 3))
        return 1;
    pv_init(shared);
    long rc = cons_init();
    if (rc != 0) {
        printk("demo: pv: no PV console (rc=%ld): skipped\n", rc);
        return 1;
    }
    uint64_t pfn = 0, port = 0;
    pv_param(HVM_PARAM_CONSOLE_PFN, &pfn);
    pv_param(HVM_PARAM_CONSOLE_EVTCHN, &port);
    printk("demo: pv: console ring at gfn 0x%lx, port %lu; output goes through it from here\n",
           (unsigned long)pfn, (unsigned long)port);
    cons_printk("demo: pv: this line came through the console ring\n");

    rc = xs_init();
    if (rc != 0) {
        cons_printk("demo: pv: no xenstore (rc=%ld): skipped\n", rc);
        return 1;
    }
    pv_param(HVM_PARAM_STORE_PFN, &pfn);
    pv_param(HVM_PARAM_STORE_EVTCHN, &port);
    char path[128], name[64], domid_text[16];
    rc = xs_read("domid", domid_text, sizeof(domid_text));
    check(rc == 0, "xenstore read domid", rc);
    domid_t self = (domid_t)parse_ulong(domid_text, NULL);
    rc = xs_get_domain_path(self, path, sizeof(path));
    check(rc == 0, "xenstore get_domain_path", rc);
    rc = xs_read("name", name, sizeof(name));
    check(rc == 0, "xenstore read name", rc);
    cons_printk("demo: pv: xenstore ring at gfn 0x%lx, port %lu: domid %u, path %s, name \"%s\"\n",
                (unsigned long)pfn, (unsigned long)port, self, path, name);

    rc = gnttab_init(gnttab_frame);
    check(rc == 0, "grant table frame 0 mapped (XENMEM_add_to_physmap)", rc);
    if (rc != 0)
        return -1;
    int readonly = !strncmp(mode, "readonly", 8);
    char message[96];
    snprintf(message, sizeof(message), "hello from d%u, granted %s", self, readonly ? "read-only" : "read-write");
    memset(grant_page, 0, sizeof(grant_page));
    memcpy(grant_page, message, strlen(message) + 1);
    unsigned long gfn = (unsigned long)(uintptr_t)grant_page >> 12;
    gnttab_grant(PV_REF, 0, gfn, readonly);
    evtchn_port_t ev;
    rc = pv_alloc_unbound(0, &ev);
    check(rc == 0, "port allocated for dom0", rc);
    cons_printk("demo: pv: granted gfn 0x%lx to d0 as ref %u (%s), port %u: \"%s\"\n",
                gfn, PV_REF, mode, ev, message);

    char text[16];
    snprintf(text, sizeof(text), "%u", PV_REF);
    publish("gref", text);
    snprintf(text, sizeof(text), "%u", ev);
    publish("port", text);
    publish("mode", mode);
    rc = publish("state", "ready");
    check(rc == 0, "published state ready", rc);

    rc = pv_wait(ev, WAIT_MS);
    check(rc == 0, "dom0's event on our port", rc);
    char result[160] = "";      /* written before the event */
    rc = xs_read("data/pv-demo/result", result, sizeof(result));
    check(rc == 0, "dom0's result in xenstore", rc);
    cons_printk("demo: pv: dom0 says: \"%s\"\n", result);

    if (readonly) {
        check(!memcmp(grant_page, message, strlen(message) + 1),
              "read-only grant: the page is unchanged", 0);
        check(!strncmp(result, "write refused", 13), "read-only grant: dom0's write was refused", 0);
    } else {
        char answer[200];
        memcpy(answer, grant_page, sizeof(answer) - 1);   /* dom0's text: bounded, whatever it wrote */
        answer[sizeof(answer) - 1] = 0;
        cons_printk("demo: pv: the granted page now reads: \"%s\"\n", answer);
        check(!strncmp(grant_page, "hello d", 7), "dom0 answered in the granted page", 0);
    }

    uint16_t flags;
    if (!strncmp(mode, "revoke", 6)) {
        int ended = gnttab_end(PV_REF, &flags);
        cons_printk("demo: pv: ending the grant while dom0 maps it: %s (flags 0x%x)\n",
                    ended == 0 ? "ended" : "refused", flags);
        check(ended != 0 && (flags & (GTF_reading | GTF_writing)),
              "revoke while mapped is refused (GTF_reading/GTF_writing set)", ended);
        rc = publish("state", "revoke-tried");
        rc = rc == 0 ? pv_wait(ev, WAIT_MS) : rc;
        check(rc == 0, "dom0 unmapped and said so", rc);
    }
    int ended = gnttab_end(PV_REF, &flags);
    cons_printk("demo: pv: grant ref %u ended: %s (flags 0x%x)\n", PV_REF, ended == 0 ? "yes" : "no", flags);
    check(ended == 0 && !(flags & (GTF_reading | GTF_writing)), "grant ended once dom0 unmapped", ended);
    publish("state", "done");
    cons_printk("demo: pv: %s\n", failures ? "round trip FAILED" : "round trip done");
    return failures ? -1 : 0;
}
