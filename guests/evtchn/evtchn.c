/*
 * evtchn: event channels, blocking and time, used the way a Xen HVM/PVH
 * guest uses them (2-level event channel ABI, per-vCPU upcall vector).
 *
 * One line per check on the Xen console:
 *   evtchn: PASS <what> <details>
 *   evtchn: FAIL <what> rc=<n> <details>
 *   evtchn: SKIP <what> (<why>)            (not counted)
 * other lines ("evtchn: step ...", "evtchn: time ...", ...) are information.
 * It ends with "evtchn: <N> passed, <M> failed" and SCHEDOP_shutdown:
 * poweroff if nothing failed, else crash.
 *
 * Steps:
 *  1. shared_info mapped at a page of our .bss (XENMEM_add_to_physmap),
 *     every port masked (as Linux does at boot), an IDT whose vector 0xf3 is
 *     the upcall handler (Linux's __xen_evtchn_do_upcall for the 2-level
 *     ABI), the local APIC software-enabled if there is one (Xen injects the
 *     upcall vector through it, and the handler EOIs it, as Linux's
 *     sysvec_xen_hvm_callback does), HVMOP_set_evtchn_upcall_vector.
 *  2. pvclock (vcpu_info[0].time) against HVMOP_get_time; the wallclock.
 *  3. VIRQ_TIMER: VCPUOP singleshot (waited for spinning, then with hlt),
 *     set_timer_op, VCPUOP periodic (and that stop stops it), a singleshot in
 *     the past with VCPU_SSHOTTMR_future (-ETIME).
 *  4. SCHEDOP_block with interrupts off, woken by a singleshot timer.
 *  5. SCHEDOP_poll: a loopback pair A (alloc_unbound, DOMID_SELF) and B
 *     (bind_interdomain to A), an IPI port C; poll timeout, poll wake (IPI,
 *     interdomain, timer), bad polls.
 *  6. A masked port stays pending; EVTCHNOP_unmask redelivers it.
 *  7. dom0 echo backend (see below).
 *  8. Two guests, from "peer=<domid>:<port>:<role>" on the command line.
 *
 * No wait is unbounded: waits for an upcall spin with interrupts on against
 * the guest's clock; hlt, SCHEDOP_block and long polls are only used once the
 * timer that ends them has been seen to fire (or with a singleshot timer
 * armed behind them as a backstop).
 *
 * dom0 echo backend contract (step 7): the guest finds xenstore through
 * HVM_PARAM_STORE_PFN/_EVTCHN (none: SKIP), allocates P =
 * alloc_unbound(DOMID_SELF, remote_dom 0), writes it to data/echo/port, and
 * expects dom0 to bind it (EVTCHNOP_bind_interdomain) and then write
 * data/echo/state = "connected" -- it waits up to 1 s for both -- and then
 * to answer every event it receives on P with exactly one event back. Then it does <pingpong> round trips (default 1000)
 * waiting for each reply by upcall, then as many more with P masked and
 * SCHEDOP_poll([P]).
 *
 * Two guests (step 8), "peer=<domid>:<port>:<role>":
 *   role "wait": <port> is this guest's own port, allocated unbound for
 *     domain <domid> (by dom0 before it started). It unmasks it, waits up
 *     to 5 s for one event on it, then sends one event back on it.
 *   role "bind": EVTCHNOP_bind_interdomain(<domid>, <port>) (retried up to
 *     5 s while it fails, for a peer still starting) gives L; the event the
 *     bind leaves pending on L is dropped, then it sends on L and waits up to
 *     5 s for the reply.
 */
#include "pv.h"

#define UPCALL_VECTOR   0xf3
#define SPURIOUS_VECTOR 0xff
#define WORD_BITS       (sizeof(xen_ulong_t) * 8)
#define NR_PORTS        (WORD_BITS * WORD_BITS)     /* 2-level ABI: 4096 */

#define US 1000ull
#define MS 1000000ull

#define barrier() asm volatile("" ::: "memory")

/* A page of our image that XENMEM_add_to_physmap replaces with shared_info. */
static union {
    struct shared_info si;
    char page[4096];
} shared_info_page __attribute__((section(".bss.pagealigned"), aligned(4096)));

static volatile struct shared_info *const sh = &shared_info_page.si;
#define vcpu0 (&sh->vcpu_info[0])

/* Filled by the upcall handler. */
static volatile uint32_t port_count[NR_PORTS];
static volatile uint32_t last_port;
static volatile uint32_t upcalls;
static volatile uint32_t stray;
static volatile uint32_t spurious;

static int npass, nfail;

/* ---- reporting ---------------------------------------------------------- */

static void vline(const char *kind, const char *what, int with_rc, long rc,
                  const char *fmt, va_list ap)
{
    char details[600];
    vsnprintf(details, sizeof(details), fmt, ap);
    if (with_rc)
        printk("evtchn: %s %s rc=%ld %s\n", kind, what, rc, details);
    else
        printk("evtchn: %s %s %s\n", kind, what, details);
}

/* PASS if ok, else FAIL with rc; the same details either way. Returns ok. */
__attribute__((format(printf, 4, 5)))
static int report(int ok, const char *what, long rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(ok ? "PASS" : "FAIL", what, !ok, rc, fmt, ap);
    va_end(ap);
    if (ok)
        npass++;
    else
        nfail++;
    return ok;
}

__attribute__((format(printf, 3, 4)))
static void fail(const char *what, long rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline("FAIL", what, 1, rc, fmt, ap);
    va_end(ap);
    nfail++;
}

static void skip(const char *what, const char *why)
{
    printk("evtchn: SKIP %s (%s)\n", what, why);
}

static void finish(void) __attribute__((noreturn));
static void finish(void)
{
    printk("evtchn: %d passed, %d failed\n", npass, nfail);
    xen_shutdown(nfail ? SHUTDOWN_crash : SHUTDOWN_poweroff);
}

/* ---- bits in shared_info ------------------------------------------------ */

static inline int sync_test_and_clear_bit(unsigned long nr, volatile xen_ulong_t *base)
{
    unsigned char old;
    asm volatile("lock btrq %2, %1\n\tsetc %0"
                 : "=qm"(old), "+m"(*base) : "r"(nr) : "memory", "cc");
    return old;
}

static inline void sync_set_bit(unsigned long nr, volatile xen_ulong_t *base)
{
    asm volatile("lock btsq %1, %0" : "+m"(*base) : "r"(nr) : "memory", "cc");
}

static inline int test_bit(unsigned long nr, const volatile xen_ulong_t *base)
{
    return (int)((base[nr / WORD_BITS] >> (nr % WORD_BITS)) & 1);
}

static int is_pending(evtchn_port_t p) { return test_bit(p, sh->evtchn_pending); }
static int is_masked(evtchn_port_t p) { return test_bit(p, sh->evtchn_mask); }
static void mask_port(evtchn_port_t p) { sync_set_bit(p, sh->evtchn_mask); }
static int clear_pending(evtchn_port_t p) { return sync_test_and_clear_bit(p, sh->evtchn_pending); }

/* ---- local APIC: Xen delivers the upcall vector through it -------------- */

#define MSR_APIC_BASE 0x1b
#define MSR_X2APIC_TPR 0x808
#define MSR_X2APIC_EOI 0x80b
#define MSR_X2APIC_SVR 0x80f
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_SVR_ENABLE 0x100

static volatile uint32_t *lapic;   /* xAPIC registers, identity-mapped */
static int lapic_x2;

static void lapic_eoi(void)
{
    if (lapic_x2)
        wrmsr(MSR_X2APIC_EOI, 0);
    else if (lapic)
        lapic[APIC_EOI / 4] = 0;
}

/* Software-enable the local APIC (SVR), spurious vector 0xff, TPR 0: a
 * disabled vLAPIC accepts no vector, the upcall's included. */
static void lapic_init(void)
{
    uint32_t a, b, c, d;
    cpuid(1, 0, &a, &b, &c, &d);
    if (!(d & (1u << 9))) {
        printk("evtchn: lapic: none (CPUID.1:EDX.APIC clear), no EOI\n");
        return;
    }
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & (1u << 11))) {
        printk("evtchn: lapic: IA32_APIC_BASE=0x%lx, globally disabled: no EOI\n",
               (unsigned long)base);
        return;
    }
    if (base & (1u << 10)) {
        uint64_t svr = rdmsr(MSR_X2APIC_SVR);
        wrmsr(MSR_X2APIC_TPR, 0);
        wrmsr(MSR_X2APIC_SVR, (svr & ~0xffull) | APIC_SVR_ENABLE | SPURIOUS_VECTOR);
        lapic_x2 = 1;
        printk("evtchn: lapic: x2APIC, IA32_APIC_BASE=0x%lx, SVR 0x%lx -> 0x%lx\n",
               (unsigned long)base, (unsigned long)svr,
               (unsigned long)rdmsr(MSR_X2APIC_SVR));
        return;
    }
    uint64_t pa = base & 0x000ffffffffff000ull;
    if (pa >= (4ull << 30)) {
        printk("evtchn: lapic: xAPIC at 0x%lx is above 4 GiB (unmapped): no EOI\n",
               (unsigned long)pa);
        return;
    }
    lapic = (volatile uint32_t *)(uintptr_t)pa;
    uint32_t svr = lapic[APIC_SVR / 4];
    lapic[APIC_TPR / 4] = 0;
    lapic[APIC_SVR / 4] = (svr & ~0xffu) | APIC_SVR_ENABLE | SPURIOUS_VECTOR;
    printk("evtchn: lapic: xAPIC at 0x%lx, SVR 0x%x -> 0x%x\n", (unsigned long)pa, svr,
           lapic[APIC_SVR / 4]);
}

/* ---- IDT ---------------------------------------------------------------- */

struct idt_gate {
    uint16_t offset0;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;        /* present, DPL 0, 64-bit interrupt gate: 0x8e */
    uint16_t offset1;
    uint32_t offset2;
    uint32_t zero;
} __attribute__((packed));

struct interrupt_frame;

static struct idt_gate idt[256] __attribute__((aligned(16)));

/* Linux's __xen_evtchn_do_upcall, 2-level ABI, one vCPU. */
/* bench=N: the guest clock at each upcall for the bench port (bench_mode) */
#define BENCH_MAX 100000
static uint64_t bench_send[BENCH_MAX], bench_up[BENCH_MAX], bench_bare[BENCH_MAX];
static volatile uint32_t bench_seen;
static volatile evtchn_port_t bench_port;   /* 0: no bench running */
static uint64_t now_ns(void);

__attribute__((interrupt)) static void on_upcall(struct interrupt_frame *frame)
{
    (void)frame;
    uint64_t entered = bench_port ? now_ns() : 0;
    lapic_eoi();
    upcalls++;
    do {
        vcpu0->evtchn_upcall_pending = 0;
        xen_ulong_t sel = __atomic_exchange_n(&vcpu0->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
        while (sel) {
            unsigned w = (unsigned)__builtin_ctzl(sel);
            sel &= sel - 1;
            xen_ulong_t bits = sh->evtchn_pending[w] & ~sh->evtchn_mask[w];
            while (bits) {
                unsigned b = (unsigned)__builtin_ctzl(bits);
                bits &= bits - 1;
                unsigned port = w * WORD_BITS + b;
                if (sync_test_and_clear_bit(port, sh->evtchn_pending)) {
                    if (port == bench_port && bench_seen < BENCH_MAX)
                        bench_up[bench_seen++] = entered;
                    port_count[port]++;
                    last_port = port;
                }
            }
        }
    } while (vcpu0->evtchn_upcall_pending);
}

__attribute__((interrupt)) static void on_spurious(struct interrupt_frame *frame)
{
    (void)frame;
    spurious++;     /* the local APIC's spurious vector: no EOI */
}

__attribute__((interrupt)) static void on_stray(struct interrupt_frame *frame)
{
    (void)frame;
    stray++;
    lapic_eoi();
}

static void exception(unsigned vector, const uint64_t *frame, unsigned long error)
    __attribute__((noreturn));
static void exception(unsigned vector, const uint64_t *frame, unsigned long error)
{
    fail("exception", 0, "vector=%u rip=0x%lx cs=0x%lx rflags=0x%lx error=0x%lx", vector,
         (unsigned long)frame[0], (unsigned long)frame[1], (unsigned long)frame[2], error);
    finish();
}

#define EXC(n) __attribute__((interrupt)) static void exc##n(struct interrupt_frame *f) \
    { exception(n, (const uint64_t *)f, 0); }
#define EXCE(n) __attribute__((interrupt)) static void exc##n(struct interrupt_frame *f, \
    unsigned long e) { exception(n, (const uint64_t *)f, e); }
EXC(0) EXC(1) EXC(2) EXC(3) EXC(4) EXC(5) EXC(6) EXC(7) EXCE(8) EXC(9) EXCE(10) EXCE(11)
EXCE(12) EXCE(13) EXCE(14) EXC(15) EXC(16) EXCE(17) EXC(18) EXC(19) EXC(20) EXCE(21)
EXC(22) EXC(23) EXC(24) EXC(25) EXC(26) EXC(27) EXC(28) EXCE(29) EXCE(30) EXC(31)

static void *const exceptions[32] = {
    exc0, exc1, exc2, exc3, exc4, exc5, exc6, exc7, exc8, exc9, exc10, exc11, exc12, exc13,
    exc14, exc15, exc16, exc17, exc18, exc19, exc20, exc21, exc22, exc23, exc24, exc25, exc26,
    exc27, exc28, exc29, exc30, exc31,
};

static void set_gate(int vector, void *handler, uint16_t cs)
{
    uint64_t at = (uint64_t)handler;
    idt[vector] = (struct idt_gate){
        .offset0 = at & 0xffff, .selector = cs, .ist = 0, .type = 0x8e,
        .offset1 = (at >> 16) & 0xffff, .offset2 = at >> 32, .zero = 0,
    };
}

static void idt_init(void)
{
    uint16_t cs;
    asm volatile("mov %%cs, %0" : "=r"(cs));
    for (int v = 0; v < 256; v++) {
        void *h = v < 32 ? exceptions[v]
                : v == UPCALL_VECTOR ? (void *)on_upcall
                : v == SPURIOUS_VECTOR ? (void *)on_spurious
                : (void *)on_stray;
        set_gate(v, h, cs);
    }
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
        sizeof(idt) - 1, (uint64_t)idt,
    };
    asm volatile("lidt %0" : : "m"(idtr));
}

/* ---- time --------------------------------------------------------------- */

struct pvclock {
    uint32_t version;
    int consistent;          /* even version, unchanged across the read */
    uint64_t tsc_timestamp, system_time, tsc;
    uint32_t mul;
    int8_t shift;
    uint8_t flags;
};

static void pvclock_sample(struct pvclock *p)
{
    volatile struct vcpu_time_info *t = &vcpu0->time;
    for (int tries = 0;; tries++) {
        uint32_t v = t->version;
        barrier();
        p->tsc_timestamp = t->tsc_timestamp;
        p->system_time = t->system_time;
        p->mul = t->tsc_to_system_mul;
        p->shift = t->tsc_shift;
        p->flags = t->flags;
        p->tsc = rdtsc_ordered();
        barrier();
        p->version = v;
        p->consistent = !(v & 1) && v == t->version;
        if (p->consistent || tries >= 1000)
            return;
    }
}

/* Xen's scaling: system_time + ((((tsc - tsc_timestamp) << shift) * mul) >> 32). */
static uint64_t pvclock_ns(const struct pvclock *p)
{
    uint64_t delta = p->tsc - p->tsc_timestamp;
    if ((int64_t)delta < 0)
        delta = 0;
    if (p->shift >= 0)
        delta <<= p->shift;
    else
        delta >>= -p->shift;
    return p->system_time + (uint64_t)(((unsigned __int128)delta * p->mul) >> 32);
}

/* The guest clock: pvclock once step 2 found it usable, else the TSC at a
 * guessed frequency (only to bound waits). */
static int clock_pv;
static uint64_t tsc_ns_mul = 1ull << 32;    /* ns per TSC tick, 32.32 (1 GHz) */
static uint32_t tsc_khz_guess = 1000000;

static uint64_t now_ns(void)
{
    if (clock_pv) {
        struct pvclock p;
        pvclock_sample(&p);
        return pvclock_ns(&p);
    }
    return (uint64_t)(((unsigned __int128)rdtsc_ordered() * tsc_ns_mul) >> 32);
}

static void guess_tsc_khz(void)
{
    uint32_t a, b, c, d, khz = 0;
    cpuid(xen_cpuid_base, 0, &a, &b, &c, &d);
    if (a >= xen_cpuid_base + 3) {
        cpuid(xen_cpuid_base + 3, 0, &a, &b, &c, &d);    /* Xen time leaf: ecx guest kHz */
        khz = c;
    }
    if (!khz) {
        cpuid(0, 0, &a, &b, &c, &d);
        uint32_t max = a;
        if (max >= 0x15) {
            cpuid(0x15, 0, &a, &b, &c, &d);
            if (a && b && c)
                khz = (uint32_t)((uint64_t)c * b / a / 1000);
        }
        if (!khz && max >= 0x16) {
            cpuid(0x16, 0, &a, &b, &c, &d);
            khz = (a & 0xffff) * 1000;
        }
    }
    if (khz) {
        tsc_khz_guess = khz;
        tsc_ns_mul = (1000000ull << 32) / khz;
    }
}

/* ---- waiting ------------------------------------------------------------ */

static int reached(volatile uint32_t *ctr, uint32_t target)
{
    return (int32_t)(*ctr - target) >= 0;
}

/* Interrupts on, spinning, until *ctr reaches target or timeout_ns of the guest
 * clock passed (or a cap of iterations, should the clock not move). Returns
 * with interrupts off; 1 if reached. */
static int wait_spin(volatile uint32_t *ctr, uint32_t target, uint64_t timeout_ns)
{
    uint64_t deadline = now_ns() + timeout_ns;
    uint64_t cap = timeout_ns / 4 + 1000000;
    asm volatile("sti" ::: "memory");
    for (uint64_t i = 0; !reached(ctr, target) && i < cap && now_ns() < deadline; i++)
        cpu_relax();
    asm volatile("cli" ::: "memory");
    return reached(ctr, target);
}

/* As wait_spin, but halting: `cli; check; sti; hlt`. Only for a wait that an
 * event known to arrive ends (a timer seen to fire). */
static int wait_hlt(volatile uint32_t *ctr, uint32_t target, uint64_t timeout_ns)
{
    uint64_t deadline = now_ns() + timeout_ns;
    uint64_t cap = timeout_ns / 4 + 1000000;
    asm volatile("cli" ::: "memory");
    for (uint64_t i = 0; !reached(ctr, target) && i < cap && now_ns() < deadline; i++)
        asm volatile("sti; hlt; cli" ::: "memory");
    return reached(ctr, target);
}

/* Let the upcall handler take what is pending (bounded); interrupts off after. */
static void drain(void)
{
    uint64_t deadline = now_ns() + 10 * MS;
    asm volatile("sti" ::: "memory");
    for (int i = 0; vcpu0->evtchn_upcall_pending && i < 10000000 && now_ns() < deadline; i++)
        cpu_relax();
    asm volatile("cli" ::: "memory");
}

/* ---- hypercall helpers -------------------------------------------------- */

static long ev_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound op = { .dom = DOMID_SELF, .remote_dom = remote, .port = 0 };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    *port = op.port;
    return rc;
}

static long ev_bind_interdomain(domid_t remote, evtchn_port_t rport, evtchn_port_t *local)
{
    struct evtchn_bind_interdomain op = { .remote_dom = remote, .remote_port = rport };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &op);
    *local = op.local_port;
    return rc;
}

static long ev_send(evtchn_port_t port)
{
    struct evtchn_send op = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
}

static long ev_unmask(evtchn_port_t port)
{
    struct evtchn_unmask op = { .port = port };
    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
}

static long ev_status(evtchn_port_t port, struct evtchn_status *st)
{
    memset(st, 0, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = port;
    return HYPERVISOR_event_channel_op(EVTCHNOP_status, st);
}

static const char *status_name(uint32_t s)
{
    switch (s) {
    case EVTCHNSTAT_closed: return "closed";
    case EVTCHNSTAT_unbound: return "unbound";
    case EVTCHNSTAT_interdomain: return "interdomain";
    case EVTCHNSTAT_pirq: return "pirq";
    case EVTCHNSTAT_virq: return "virq";
    case EVTCHNSTAT_ipi: return "ipi";
    default: return "?";
    }
}

static long set_singleshot(uint64_t abs_ns, uint32_t flags)
{
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = abs_ns, .flags = flags };
    return HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

static long stop_singleshot(void)
{
    return HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL);
}

static long sched_poll(evtchn_port_t *ports, unsigned n, uint64_t timeout_abs)
{
    struct sched_poll p = { .nr_ports = n, .timeout = timeout_abs };
    set_xen_guest_handle(p.ports, ports);
    return HYPERVISOR_sched_op(SCHEDOP_poll, &p);
}

/* ---- state shared by the steps ------------------------------------------ */

static int have_timer, singleshot_ok;
static evtchn_port_t timer_port;
static int have_pair;
static evtchn_port_t port_a, port_b;
static int poll_timeout_ok, poll_a_refused;

/* A singleshot timer behind a poll, so a poll whose timeout is not honoured
 * still ends; only once the singleshot timer was seen to fire. */
static int arm_backstop(uint64_t at)
{
    return have_timer && singleshot_ok && set_singleshot(at, 0) == 0;
}

/* Interrupts off (as they are outside waits); elapsed guest ns in *elapsed. */
static long timed_poll(evtchn_port_t *ports, unsigned n, uint64_t timeout_ns,
                       uint64_t *elapsed, int *backstop)
{
    uint64_t t0 = now_ns();
    int bs = arm_backstop(t0 + timeout_ns + 100 * MS);
    long rc = sched_poll(ports, n, t0 + timeout_ns);
    *elapsed = now_ns() - t0;
    if (bs)
        stop_singleshot();
    if (backstop)
        *backstop = bs;
    return rc;
}

/* ---- 1: shared_info, IDT, upcall vector --------------------------------- */

static int step_upcall(void)
{
    printk("evtchn: step 1: shared_info, IDT, upcall vector 0x%x\n", UPCALL_VECTOR);
    unsigned long gpfn = (unsigned long)(uintptr_t)&shared_info_page >> 12;
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .size = 0, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = gpfn,
    };
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    if (!report(rc == 0, "shared_info", rc, "XENMEM_add_to_physmap gpfn=0x%lx", gpfn))
        return 0;
    printk("evtchn: vcpu0: upcall_pending=%u upcall_mask=%u pending_sel=0x%lx\n",
           vcpu0->evtchn_upcall_pending, vcpu0->evtchn_upcall_mask,
           (unsigned long)vcpu0->evtchn_pending_sel);

    /* as Linux at boot: every port masked; each one used is unmasked after binding */
    for (unsigned i = 0; i < WORD_BITS; i++)
        sh->evtchn_mask[i] = ~(xen_ulong_t)0;

    idt_init();
    lapic_init();

    uint32_t a, b, c, d;
    cpuid(xen_cpuid_base + 4, 0, &a, &b, &c, &d);
    printk("evtchn: cpuid 0x%x: hvm flags=0x%x (XEN_HVM_CPUID_UPCALL_VECTOR %s)\n",
           xen_cpuid_base + 4, a, (a & XEN_HVM_CPUID_UPCALL_VECTOR) ? "set" : "clear");

    struct xen_hvm_evtchn_upcall_vector uv = { .vcpu = 0, .vector = UPCALL_VECTOR };
    rc = HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv);
    report(rc == 0, "upcall vector", rc, "HVMOP_set_evtchn_upcall_vector vcpu=0 vector=0x%x",
           UPCALL_VECTOR);
    return 1;
}

/* ---- 2: time ------------------------------------------------------------ */

static void step_time(void)
{
    printk("evtchn: step 2: time\n");
    guess_tsc_khz();
    struct pvclock p;
    pvclock_sample(&p);
    printk("evtchn: pvclock version=%u system_time=%lu tsc_timestamp=%lu tsc=%lu mul=%u shift=%d"
           " flags=0x%x\n",
           p.version, (unsigned long)p.system_time, (unsigned long)p.tsc_timestamp,
           (unsigned long)p.tsc, p.mul, p.shift, p.flags);
    if (p.consistent && p.mul != 0) {
        /* TSC Hz = ((10^9 << 32) / mul) >> shift */
        uint64_t hz = (1000000000ull << 32) / p.mul;
        hz = p.shift >= 0 ? hz >> p.shift : hz << -p.shift;
        clock_pv = 1;
        report(1, "pvclock", 0, "tsc_khz=%lu now=%lu", (unsigned long)(hz / 1000),
               (unsigned long)pvclock_ns(&p));
    } else {
        fail("pvclock", 0, "%s; waits are bounded by the TSC at %u kHz (a guess)",
             p.mul == 0 ? "tsc_to_system_mul is 0" : "version stays odd or keeps changing",
             tsc_khz_guess);
    }

    struct xen_hvm_get_time gt = { .now = 0 };
    uint64_t t1 = now_ns();
    long rc = HYPERVISOR_hvm_op(HVMOP_get_time, &gt);
    uint64_t t2 = now_ns();
    if (rc != 0) {
        fail("time", rc, "HVMOP_get_time failed; guest=%lu", (unsigned long)t1);
    } else {
        const uint64_t slack = 1 * MS;
        uint64_t h = gt.now;
        uint64_t e1 = h > t1 ? h - t1 : t1 - h;
        uint64_t e2 = t2 > h ? t2 - h : h - t2;
        printk("evtchn: time guest=%lu xen=%lu after=%lu err_ns=%lu\n", (unsigned long)t1,
               (unsigned long)h, (unsigned long)t2, (unsigned long)(e1 > e2 ? e1 : e2));
        report(clock_pv && t1 <= h + slack && h <= t2 + slack, "time", rc,
               "guest pvclock brackets HVMOP_get_time (slack_ns=%lu)", (unsigned long)slack);
    }

    uint32_t v, sec, nsec, hi;
    int tries = 0;
    do {
        v = sh->wc_version;
        barrier();
        sec = sh->wc_sec;
        nsec = sh->wc_nsec;
        hi = sh->wc_sec_hi;
        barrier();
    } while (((v & 1) || v != sh->wc_version) && ++tries < 100000);
    uint64_t wsec = ((uint64_t)hi << 32) | sec;
    printk("evtchn: wallclock sec=%lu nsec=%u version=%u\n", (unsigned long)wsec, nsec, v);
    report(wsec > 1600000000ull && !(v & 1), "wallclock", 0, "sec=%lu (want > 1600000000)",
           (unsigned long)wsec);
}

/* ---- 3: timers ---------------------------------------------------------- */

static void step_timers(void)
{
    printk("evtchn: step 3: timers\n");
    struct evtchn_bind_virq bv = { .virq = VIRQ_TIMER, .vcpu = 0, .port = 0 };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv);
    if (!report(rc == 0 && bv.port < NR_PORTS, "bind VIRQ_TIMER", rc, "vcpu=0 port=%u", bv.port))
        return;
    timer_port = bv.port;
    have_timer = 1;
    volatile uint32_t *cnt = &port_count[timer_port];
    rc = ev_unmask(timer_port);
    report(rc == 0 && !is_masked(timer_port), "unmask timer port", rc, "port=%u masked=%d",
           timer_port, is_masked(timer_port));

    /* singleshot, waited for spinning with interrupts on */
    uint32_t c0 = *cnt;
    uint64_t at = now_ns() + 2 * MS;
    rc = set_singleshot(at, VCPU_SSHOTTMR_future);
    if (rc != 0) {
        fail("singleshot", rc, "VCPUOP_set_singleshot_timer(now+2ms, future)");
    } else {
        int got = wait_spin(cnt, c0 + 1, 1000 * MS);
        uint64_t seen = now_ns();
        long late = (long)(seen - at);
        if (!got)
            fail("singleshot", rc, "no VIRQ_TIMER event within 1000 ms");
        else
            singleshot_ok = report(clock_pv && late > -(long)(500 * US), "singleshot", rc,
                                   "port=%u late_ns=%ld (timer at now+2ms)", timer_port, late);
    }

    /* the same, halting: the timer was just seen to fire, so the hlt ends */
    if (!singleshot_ok) {
        fail("singleshot hlt", 0, "not run: the singleshot timer did not fire, a hlt could sleep forever");
    } else {
        c0 = *cnt;
        at = now_ns() + 2 * MS;
        rc = set_singleshot(at, VCPU_SSHOTTMR_future);
        int got = rc == 0 && wait_hlt(cnt, c0 + 1, 1000 * MS);
        long late = (long)(now_ns() - at);
        report(rc == 0 && got && late > -(long)(500 * US), "singleshot hlt", rc,
               "event=%d late_ns=%ld (sti;hlt until VIRQ_TIMER)", got, late);
    }

    /* set_timer_op: the same singleshot timer, by hypercall 15 */
    c0 = *cnt;
    at = now_ns() + 2 * MS;
    rc = HYPERVISOR_set_timer_op(at);
    if (rc != 0) {
        fail("set_timer_op", rc, "set_timer_op(now+2ms)");
    } else {
        int got = wait_spin(cnt, c0 + 1, 1000 * MS);
        long late = (long)(now_ns() - at);
        report(got && late > -(long)(500 * US), "set_timer_op", rc, "event=%d late_ns=%ld", got, late);
    }

    /* periodic, 1 ms: five events, then stopped */
    c0 = *cnt;
    struct vcpu_set_periodic_timer per = { .period_ns = 1 * MS };
    uint64_t t0 = now_ns();
    rc = HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &per);
    if (rc != 0) {
        fail("periodic", rc, "VCPUOP_set_periodic_timer(1 ms)");
    } else {
        int got = wait_spin(cnt, c0 + 5, 1000 * MS);
        uint64_t el = now_ns() - t0;
        uint32_t n = *cnt - c0;
        long rc2 = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
        report(clock_pv && got && el >= 4 * MS && rc2 == 0, "periodic", rc2,
               "events=%u elapsed_ns=%lu period_ns=1000000 (want 5 events, >= 4 ms)", n,
               (unsigned long)el);
        if (rc2 == 0) {
            uint32_t c1 = *cnt;
            wait_spin(cnt, c1 + 2, 5 * MS);
            uint32_t extra = *cnt - c1;
            report(extra <= 1, "periodic stop", rc2, "events_in_5ms_after_stop=%u (want <= 1)", extra);
        }
    }

    /* a singleshot in the past, VCPU_SSHOTTMR_future: Xen 4.17.3 and later ignore
     * the flag (XSA-less fix "Ignore VCPUOP_set_singleshot_timer's
     * VCPU_SSHOTTMR_future flag"), so it is 0 and the timer fires at once; the
     * -ETIME of 4.17.0-4.17.2 is accepted too */
    uint64_t now = now_ns();
    uint64_t past = now > 1 * MS ? now - 1 * MS : 1;
    uint32_t c_past = *cnt;
    rc = set_singleshot(past, VCPU_SSHOTTMR_future);
    int fired = rc == 0 && wait_spin(cnt, c_past + 1, 10 * MS);
    report(rc == -XEN_ETIME || fired, "singleshot past", rc,
           "timeout=now-1ms flags=future fired=%d (want 0 and a timer event, or -%d)", fired, XEN_ETIME);
    stop_singleshot();
}

/* ---- 4: SCHEDOP_block --------------------------------------------------- */

static void step_block(void)
{
    printk("evtchn: step 4: SCHEDOP_block\n");
    if (!have_timer || !singleshot_ok) {
        fail("block", 0, "not run: no singleshot timer seen to fire, SCHEDOP_block could sleep forever");
        return;
    }
    volatile uint32_t *cnt = &port_count[timer_port];
    drain();
    uint32_t c0 = *cnt;
    uint64_t t0 = now_ns();
    long rc = set_singleshot(t0 + 3 * MS, VCPU_SSHOTTMR_future);
    if (rc != 0) {
        fail("block", rc, "VCPUOP_set_singleshot_timer(now+3ms)");
        return;
    }
    /* interrupts are off: Xen blocks until an event is sent to this vCPU */
    rc = HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    uint64_t el = now_ns() - t0;
    int pending = is_pending(timer_port);
    int upcall_pending = vcpu0->evtchn_upcall_pending;
    int got = wait_spin(cnt, c0 + 1, 100 * MS);
    report(clock_pv && rc == 0 && el >= 2500 * US && got, "block", rc,
           "blocked_ns=%lu (timer at +3 ms) timer_pending=%d upcall_pending=%d delivered=%d",
           (unsigned long)el, pending, upcall_pending, got);
    stop_singleshot();
}

/* ---- 5: SCHEDOP_poll ---------------------------------------------------- */

static void step_poll(void)
{
    printk("evtchn: step 5: SCHEDOP_poll\n");
    long rc = ev_alloc_unbound(DOMID_SELF, &port_a);
    int ok = report(rc == 0 && port_a < NR_PORTS, "alloc_unbound loopback", rc,
                    "dom=DOMID_SELF remote_dom=DOMID_SELF port=%u", port_a);
    if (ok) {
        rc = ev_bind_interdomain(DOMID_SELF, port_a, &port_b);
        ok = report(rc == 0 && port_b < NR_PORTS && port_b != port_a, "bind_interdomain loopback", rc,
                    "remote_dom=DOMID_SELF remote_port=%u local_port=%u", port_a, port_b);
    }
    if (!ok) {
        fail("poll", 0, "not run: no loopback pair");
        return;
    }
    have_pair = 1;
    mask_port(port_b);
    /* Xen sets the binding side's local port pending at bind time */
    int bpend = clear_pending(port_b);
    report(bpend, "bind_interdomain sets local pending", 0, "port=%u pending=%d", port_b, bpend);
    rc = ev_unmask(port_a);
    report(rc == 0, "unmask loopback A", rc, "port=%u", port_a);

    /* (a) nothing sent: the poll ends at its timeout */
    drain();
    evtchn_port_t pb[1] = { port_b };
    uint64_t el;
    int bs;
    rc = timed_poll(pb, 1, 5 * MS, &el, &bs);
    poll_a_refused = rc < 0;
    poll_timeout_ok = report(clock_pv && rc == 0 && el >= 4 * MS && (!bs || el < 90 * MS),
                             "poll timeout", rc, "port=%u timeout=now+5ms elapsed_ns=%lu backstop=%s",
                             port_b, (unsigned long)el, bs ? "singleshot at +105ms" : "none");

    if (!poll_timeout_ok && !singleshot_ok && !poll_a_refused) {
        fail("poll wake", 0, "not run: the poll timeout did not hold and no backstop timer works");
    } else {
        /* (b) IPI: sent first, the poll returns at once */
        struct evtchn_bind_ipi bi = { .vcpu = 0, .port = 0 };
        rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &bi);
        if (report(rc == 0 && bi.port < NR_PORTS, "bind_ipi", rc, "vcpu=0 port=%u", bi.port)) {
            evtchn_port_t pc[1] = { bi.port };
            mask_port(bi.port);
            clear_pending(bi.port);
            rc = ev_send(bi.port);
            int pend = is_pending(bi.port);
            long prc = timed_poll(pc, 1, 1000 * MS, &el, NULL);
            report(rc == 0 && pend && prc == 0 && el < 100 * MS && is_pending(bi.port),
                   "poll wake ipi", rc ? rc : prc,
                   "port=%u pending_before_poll=%d elapsed_ns=%lu (timeout 1 s)", bi.port, pend,
                   (unsigned long)el);
            clear_pending(bi.port);
        }
        /* (b) interdomain loopback: send on A, poll on B */
        rc = ev_send(port_a);
        int pend = is_pending(port_b);
        long prc = timed_poll(pb, 1, 1000 * MS, &el, NULL);
        report(rc == 0 && pend && prc == 0 && el < 100 * MS, "poll wake interdomain",
               rc ? rc : prc, "send A=%u, poll B=%u pending_before_poll=%d elapsed_ns=%lu (timeout 1 s)",
               port_a, port_b, pend, (unsigned long)el);
        clear_pending(port_b);
        /* (b) timer: the event arrives during the poll (the port masked) */
        if (!have_timer || !singleshot_ok || !poll_timeout_ok) {
            fail("poll wake timer", 0, "not run: needs a working singleshot timer and poll timeout");
        } else {
            evtchn_port_t pt[1] = { timer_port };
            mask_port(timer_port);
            clear_pending(timer_port);
            uint64_t t0 = now_ns();
            rc = set_singleshot(t0 + 2 * MS, VCPU_SSHOTTMR_future);
            prc = sched_poll(pt, 1, t0 + 1000 * MS);
            el = now_ns() - t0;
            pend = is_pending(timer_port);
            report(rc == 0 && prc == 0 && pend && el >= 1500 * US && el < 500 * MS,
                   "poll wake timer", rc ? rc : prc,
                   "port=%u (masked) timer at +2ms, elapsed_ns=%lu pending=%d (timeout 1 s)",
                   timer_port, (unsigned long)el, pend);
            stop_singleshot();
            clear_pending(timer_port);
            rc = ev_unmask(timer_port);
            if (rc != 0)
                fail("unmask timer port", rc, "port=%u", timer_port);
        }
    }

    /* (c) bad polls */
    static evtchn_port_t many[129];
    for (unsigned i = 0; i < 129; i++)
        many[i] = port_b;
    rc = timed_poll(many, 129, 2 * MS, &el, NULL);
    report(rc == -XEN_EINVAL, "poll nr_ports=129", rc, "want=-%d (-EINVAL) elapsed_ns=%lu", XEN_EINVAL,
           (unsigned long)el);
    evtchn_port_t bad[1] = { NR_PORTS };
    rc = timed_poll(bad, 1, 2 * MS, &el, NULL);
    report(rc == -XEN_EINVAL, "poll port=4096", rc, "want=-%d (-EINVAL) elapsed_ns=%lu", XEN_EINVAL,
           (unsigned long)el);
}

/* ---- 6: masked port stays pending; unmask redelivers -------------------- */

static void step_unmask(void)
{
    printk("evtchn: step 6: masked port, EVTCHNOP_unmask\n");
    if (!have_pair) {
        fail("unmask redelivers", 0, "not run: no loopback pair");
        return;
    }
    volatile uint32_t *cnt = &port_count[port_b];
    mask_port(port_b);
    clear_pending(port_b);
    uint32_t c0 = *cnt;
    long rc = ev_send(port_a);
    int pend = is_pending(port_b);
    int early = wait_spin(cnt, c0 + 1, 2 * MS);
    report(rc == 0 && pend && !early, "masked port stays pending", rc,
           "send A=%u: B=%u pending=%d delivered_while_masked=%d", port_a, port_b, pend, early);

    uint32_t c1 = *cnt;
    uint64_t t0 = now_ns();
    rc = ev_unmask(port_b);
    int masked = is_masked(port_b);
    int got = wait_spin(cnt, c1 + 1, 100 * MS);
    uint64_t el = now_ns() - t0;
    report(rc == 0 && !masked && got && !is_pending(port_b), "unmask redelivers", rc,
           "port=%u mask_cleared=%d delivered=%d latency_ns=%lu last_port=%u upcalls=%u", port_b,
           !masked, got, (unsigned long)el, last_port, upcalls);

    /* now unmasked: a send is delivered by upcall straight away */
    c1 = *cnt;
    t0 = now_ns();
    rc = ev_send(port_a);
    got = wait_spin(cnt, c1 + 1, 100 * MS);
    el = now_ns() - t0;
    report(rc == 0 && got, "send delivers upcall", rc, "send A=%u: B=%u delivered=%d latency_ns=%lu",
           port_a, port_b, got, (unsigned long)el);
}

/* ---- 7: dom0 echo backend ----------------------------------------------- */

struct rtt {
    unsigned done;
    uint64_t total, min, max;
};

static void rtt_add(struct rtt *r, uint64_t ns)
{
    r->done++;
    r->total += ns;
    if (!r->min || ns < r->min)
        r->min = ns;
    if (ns > r->max)
        r->max = ns;
}

/* Round trips waiting for each reply by upcall; returns 0 or the failing rc. */
static long pingpong_upcall(evtchn_port_t p, unsigned n, struct rtt *r, const char **why)
{
    volatile uint32_t *cnt = &port_count[p];
    long rc = ev_unmask(p);
    if (rc != 0) {
        *why = "EVTCHNOP_unmask(P) failed";
        return rc;
    }
    for (unsigned i = 0; i < n; i++) {
        uint32_t c0 = *cnt;
        uint64_t t0 = now_ns();
        rc = ev_send(p);
        if (rc != 0) {
            *why = "EVTCHNOP_send(P) failed";
            return rc;
        }
        if (!wait_spin(cnt, c0 + 1, 100 * MS)) {
            *why = "no reply within 100 ms";
            return 0;
        }
        rtt_add(r, now_ns() - t0);
    }
    return 0;
}

/* Round trips with P masked, waiting for each reply with SCHEDOP_poll([P]). */
static long pingpong_poll(evtchn_port_t p, unsigned n, struct rtt *r, const char **why)
{
    evtchn_port_t ports[1] = { p };
    mask_port(p);
    clear_pending(p);
    for (unsigned i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        uint64_t deadline = t0 + 100 * MS;
        long rc = ev_send(p);
        if (rc != 0) {
            *why = "EVTCHNOP_send(P) failed";
            return rc;
        }
        for (int k = 0; !is_pending(p) && k < 1000000 && now_ns() < deadline; k++) {
            rc = sched_poll(ports, 1, deadline);
            if (rc != 0) {
                *why = "SCHEDOP_poll([P]) failed";
                return rc;
            }
        }
        if (!clear_pending(p)) {
            *why = "no reply within 100 ms";
            return 0;
        }
        rtt_add(r, now_ns() - t0);
    }
    return 0;
}

static void pingpong_report(const char *what, long rc, const char *why, const struct rtt *r,
                            unsigned n, uint32_t extra)
{
    int ok = rc == 0 && r->done == n && extra == 0;
    report(ok, what, rc, "count=%u mean_rtt_ns=%lu min_rtt_ns=%lu max_rtt_ns=%lu extra_events=%u%s%s",
           r->done, (unsigned long)(r->done ? r->total / r->done : 0), (unsigned long)r->min,
           (unsigned long)r->max, extra, ok ? "" : " stopped: ", ok ? "" : (why ? why : "extra events"));
}

/* Allocates a port P for dom0, publishes it in xenstore (data/echo/port) and
 * waits (1 s) for dom0's echo backend to bind it and say it is connected
 * (data/echo/state), as a frontend waits for its backend; 1 if it did. */
static int dom0_port(evtchn_port_t *out)
{
    evtchn_port_t p;
    long rc = ev_alloc_unbound(0, &p);
    if (!report(rc == 0 && p < NR_PORTS, "alloc_unbound for dom0", rc, "remote_dom=0 port=%u", p))
        return 0;
    char text[16];
    snprintf(text, sizeof(text), "%u", p);
    uint64_t t0 = now_ns();
    rc = xs_write("data/echo/port", text);
    if (!report(rc == 0, "publish P in xenstore", rc, "data/echo/port=%u (%s)", p, xs_error_name(rc)))
        return 0;
    /* the backend binds P, then writes data/echo/state = connected: wait
     * (1 s) for both, so that no ping can race the bind */
    struct evtchn_status st;
    long src = 0;
    char state[32] = "";
    uint64_t deadline = t0 + 1000 * MS;
    for (;;) {
        src = ev_status(p, &st);
        if (xs_read("data/echo/state", state, sizeof(state)) != 0)
            state[0] = 0;
        int connected = !strncmp(state, "connected", sizeof(state));
        if (src != 0 || (st.status == EVTCHNSTAT_interdomain && connected) || now_ns() >= deadline)
            break;
        for (int i = 0; i < 1000; i++)
            cpu_relax();
    }
    uint64_t el = now_ns() - t0;
    if (!report(src == 0 && st.status == EVTCHNSTAT_interdomain && st.u.interdomain.dom == 0
                && !strncmp(state, "connected", sizeof(state)),
                "dom0 binds P", src, "P=%u status=%s dom=%u port=%u state=%s after_ns=%lu", p,
                status_name(st.status), st.u.interdomain.dom, st.u.interdomain.port, state,
                (unsigned long)el))
        return 0;

    *out = p;
    return 1;
}

/* The xenstore ring (HVM_PARAM_STORE_*) the echo backend is found through; 0 if there is none. */
static int have_xenstore(void)
{
    pv_init(sh);
    return xs_init() == 0;
}

static void step_dom0(void)
{
    printk("evtchn: step 7: dom0 echo backend\n");
    if (!have_xenstore()) {
        skip("dom0 ping-pong", "no xenstore");
        return;
    }
    evtchn_port_t p;
    if (!dom0_port(&p))
        return;

    unsigned n = 1000;
    const char *v = cmdline_find("pingpong");
    if (v && parse_ulong(v, NULL))
        n = (unsigned)parse_ulong(v, NULL);

    const char *why = NULL;
    struct rtt r = { 0, 0, 0, 0 };
    long rc = pingpong_upcall(p, n, &r, &why);
    uint32_t c1 = port_count[p];
    wait_spin(&port_count[p], c1 + 1, 5 * MS);   /* a reply too many? */
    pingpong_report("dom0 ping-pong upcall", rc, why, &r, n, port_count[p] - c1);

    why = NULL;
    struct rtt q = { 0, 0, 0, 0 };
    rc = pingpong_poll(p, n, &q, &why);
    int extra = 0;
    if (rc == 0 && q.done == n) {
        uint64_t end = now_ns() + 5 * MS;
        while (!is_pending(p) && now_ns() < end)
            cpu_relax();
        extra = clear_pending(p);
    }
    pingpong_report("dom0 ping-pong poll", rc, why, &q, n, (uint32_t)extra);
}

/* ---- 8: two guests ------------------------------------------------------ */

static void step_peer(void)
{
    printk("evtchn: step 8: peer guest\n");
    const char *v = cmdline_find("peer");
    if (!v) {
        skip("peer exchange", "no peer=<domid>:<port>:<role> on the command line");
        return;
    }
    const char *e;
    unsigned long domid = parse_ulong(v, &e);
    unsigned long port = 0;
    int role = 0;   /* 1 wait, 2 bind */
    if (e != v && *e == ':') {
        const char *q = e + 1;
        port = parse_ulong(q, &e);
        if (e != q && *e == ':') {
            e++;
            if (!strncmp(e, "wait", 4) && (e[4] == 0 || e[4] == ' '))
                role = 1;
            else if (!strncmp(e, "bind", 4) && (e[4] == 0 || e[4] == ' '))
                role = 2;
        }
    }
    if (!role || domid >= DOMID_FIRST_RESERVED || port >= NR_PORTS) {
        fail("peer exchange", -XEN_EINVAL, "bad peer= argument (want peer=<domid>:<port>:wait|bind)");
        return;
    }
    printk("evtchn: peer domid=%lu port=%lu role=%s\n", domid, port, role == 1 ? "wait" : "bind");

    struct evtchn_status st;
    long rc;
    if (role == 1) {
        evtchn_port_t p = (evtchn_port_t)port;
        rc = ev_status(p, &st);
        printk("evtchn: peer port %u: status rc=%ld %s dom=%u\n", p, rc, status_name(st.status),
               st.u.unbound.dom);
        /* unbound for <domid>, or already bound by it (both keep the domid in u.*.dom) */
        if (rc != 0 || (st.status != EVTCHNSTAT_unbound && st.status != EVTCHNSTAT_interdomain) ||
            st.u.unbound.dom != domid) {
            fail("peer exchange", rc, "role=wait port %u is %s (dom %u), not reserved for domain %lu",
                 p, status_name(st.status), st.u.unbound.dom, domid);
            return;
        }
        uint64_t t0 = now_ns();
        rc = ev_unmask(p);      /* delivers an event that came while it was masked */
        if (rc != 0) {
            fail("peer exchange", rc, "role=wait EVTCHNOP_unmask(%u)", p);
            return;
        }
        int got = wait_spin(&port_count[p], 1, 5000 * MS);
        uint64_t el = now_ns() - t0;
        if (!got) {
            fail("peer exchange", 0, "role=wait no event on port %u within 5 s", p);
            return;
        }
        rc = ev_send(p);
        report(rc == 0, "peer exchange", rc, "role=wait domid=%lu port=%u waited_ns=%lu replied",
               domid, p, (unsigned long)el);
        return;
    }

    evtchn_port_t l = 0;
    uint64_t t0 = now_ns();
    int tries = 0;
    for (;;) {
        tries++;
        rc = ev_bind_interdomain((domid_t)domid, (evtchn_port_t)port, &l);
        if (rc == 0 || now_ns() - t0 >= 5000 * MS || tries >= 100000)
            break;
        uint64_t next = now_ns() + 1 * MS;
        while (now_ns() < next)
            cpu_relax();
    }
    if (rc != 0 || l >= NR_PORTS) {
        fail("peer exchange", rc, "role=bind EVTCHNOP_bind_interdomain(%lu, %lu) tries=%d local=%u",
             domid, port, tries, l);
        return;
    }
    mask_port(l);
    clear_pending(l);       /* the event the bind itself leaves pending */
    rc = ev_unmask(l);
    if (rc != 0) {
        fail("peer exchange", rc, "role=bind EVTCHNOP_unmask(%u)", l);
        return;
    }
    uint32_t c0 = port_count[l];
    uint64_t t1 = now_ns();
    rc = ev_send(l);
    int got = rc == 0 && wait_spin(&port_count[l], c0 + 1, 5000 * MS);
    uint64_t el = now_ns() - t1;
    report(got, "peer exchange", rc,
           "role=bind domid=%lu port=%lu local=%u bind_tries=%d reply=%d rtt_ns=%lu",
           domid, port, l, tries, got, (unsigned long)el);
}

/* ---- bench=N and idle=MS: measurements, not checks ----------------------- */

/* Interrupts on, spinning on the counter alone (no clock read, which costs
 * an exit's worth under some virtualisers), bounded by an iteration cap. */
static int spin_until(volatile uint32_t *ctr, uint32_t target)
{
    asm volatile("sti" ::: "memory");
    for (uint64_t i = 0; !reached(ctr, target) && i < 100000000ull; i++)
        cpu_relax();
    return reached(ctr, target);
}

/* bench=N: N dom0 round trips (send on P, the echo, the upcall) with the guest
 * clock at the send and at the upcall, then N bare hypercalls timed one by one,
 * all with interrupts on.
 * The arrays stay in guest memory for the VMM's harness (xenshim bench-events),
 * which pairs them with the backend's own times; the line below says where. */
static void bench_mode(unsigned long n)
{
    if (n > BENCH_MAX)
        n = BENCH_MAX;
    evtchn_port_t p;
    if (!report(have_xenstore(), "bench xenstore", 0, "HVM_PARAM_STORE_*") || !dom0_port(&p))
        finish();
    long rc = ev_unmask(p);
    if (!report(rc == 0, "bench unmask P", rc, "P=%u", p))
        finish();
    unsigned long done = 0;
    bench_seen = 0;
    bench_port = p;
    for (; done < n; done++) {
        uint32_t c0 = port_count[p];
        /* sent with interrupts on, as a kernel sends: an answer can come in at
         * the send's own exit */
        asm volatile("sti" ::: "memory");
        bench_send[done] = now_ns();
        rc = ev_send(p);
        if (rc != 0 || !wait_spin(&port_count[p], c0 + 1, 100 * MS))
            break;
    }
    bench_port = 0;
    asm volatile("sti" ::: "memory");
    for (unsigned long i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        HYPERVISOR_xen_version(XENVER_version, NULL);
        bench_bare[i] = now_ns() - t0;
    }
    /* the same two loops with the clock read only at their ends: means
     * without the cost of reading the clock around every event and call */
    uint64_t t0 = now_ns();
    for (unsigned long i = 0; i < n; i++)
        HYPERVISOR_xen_version(XENVER_version, NULL);
    uint64_t bare_total = now_ns() - t0;
    unsigned long looped = 0;
    t0 = now_ns();
    for (; looped < n; looped++) {
        uint32_t c0 = port_count[p];
        asm volatile("sti" ::: "memory");
        if (ev_send(p) != 0 || !spin_until(&port_count[p], c0 + 1))
            break;
    }
    uint64_t rtt_total = now_ns() - t0;
    /* an event to itself (an IPI port): the upcall's cost without any backend */
    evtchn_port_t ipi = 0;
    unsigned long self = 0;
    struct evtchn_bind_ipi bi = { .vcpu = 0 };
    uint64_t self_total = 0;
    if (HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &bi) == 0 && bi.port < NR_PORTS) {
        ipi = bi.port;
        ev_unmask(ipi);
        t0 = now_ns();
        for (; self < n; self++) {
            uint32_t c0 = port_count[ipi];
            asm volatile("sti" ::: "memory");
            if (ev_send(ipi) != 0 || !spin_until(&port_count[ipi], c0 + 1))
                break;
        }
        self_total = now_ns() - t0;
        asm volatile("cli" ::: "memory");
    }
    asm volatile("cli" ::: "memory");
    printk("evtchn: bench means bare_ns=%lu rtt_ns=%lu self_ns=%lu over %lu\n", (unsigned long)(bare_total / n),
           (unsigned long)(looped ? rtt_total / looped : 0), (unsigned long)(self ? self_total / self : 0),
           looped < self || !self ? looped : self);
    printk("evtchn: bench events=%lu upcalls=%u send=0x%lx upcall=0x%lx bare=0x%lx\n", done, bench_seen,
           (unsigned long)bench_send, (unsigned long)bench_up, (unsigned long)bench_bare);
    report(done == n && bench_seen == n, "bench", rc, "events=%lu of %lu", done, n);
    finish();
}

/* idle=MS: blocks in SCHEDOP_block until a singleshot timer MS ahead, so the
 * VMM can measure what an idle guest costs. */
static void idle_mode(unsigned long ms)
{
    struct evtchn_bind_virq bv = { .virq = VIRQ_TIMER, .vcpu = 0, .port = 0 };
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv);
    if (!report(rc == 0 && bv.port < NR_PORTS, "idle bind VIRQ_TIMER", rc, "port=%u", bv.port)
        || !report(ev_unmask(bv.port) == 0, "idle unmask timer port", 0, "port=%u", bv.port))
        finish();
    uint64_t t0 = now_ns();
    rc = set_singleshot(t0 + ms * MS, 0);
    if (!report(rc == 0, "idle timer", rc, "now+%lu ms", ms))
        finish();
    printk("evtchn: idle blocking for %lu ms\n", ms);
    asm volatile("cli" ::: "memory");
    rc = HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    uint64_t el = now_ns() - t0;
    drain();
    printk("evtchn: idle woke after %lu ns\n", (unsigned long)el);
    report(rc == 0 && el >= ms * MS * 9 / 10, "idle block", rc, "blocked_ns=%lu", (unsigned long)el);
    finish();
}

/* ---- swapload=N: a guest under load while the VMM swaps shims ------------ */

#define SWAPLOAD_REF 9          /* a grant entry past the reserved ones */

static char swapload_frame[4096] __attribute__((section(".bss.pagealigned"), aligned(4096)));
static char swapload_page[4096] __attribute__((section(".bss.pagealigned"), aligned(4096)));
static unsigned long swapload_calls, swapload_failures;

/* One failure: counted, and the first few said, with how long the iteration had taken. */
static void swapload_fail(unsigned long i, const char *what, long rc, uint64_t since)
{
    if (swapload_failures++ < 5)
        printk("evtchn: swapload iteration %lu: %s failed rc=%ld after_ns=%lu\n", i, what, rc,
               (unsigned long)(now_ns() - since));
}

/* One iteration's hypercalls, each checked: xen_version, an event round trip
 * through dom0's echo backend, the grant table's size; every 16th, a xenstore
 * write and read back through the store ring (itself a page dom0 maps by grant). */
static void swapload_iteration(unsigned long i, evtchn_port_t p, long version)
{
    uint64_t t0 = now_ns();
    long rc = HYPERVISOR_xen_version(XENVER_version, NULL);
    swapload_calls++;
    if (rc != version)
        swapload_fail(i, "xen_version", rc, t0);
    uint32_t c0 = port_count[p];
    asm volatile("sti" ::: "memory");
    rc = ev_send(p);
    swapload_calls++;
    if (rc != 0 || !wait_spin(&port_count[p], c0 + 1, 2000 * MS))
        swapload_fail(i, "event round trip", rc, t0);
    struct gnttab_query_size qs = { .dom = DOMID_SELF };
    rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &qs, 1);
    swapload_calls++;
    if (rc != 0 || qs.status != GNTST_okay || qs.nr_frames < 1)
        swapload_fail(i, "GNTTABOP_query_size", rc ? rc : qs.status, t0);
    if (i % 16 == 0) {
        char text[24], back[24];
        snprintf(text, sizeof(text), "%lu", i);
        rc = xs_write("data/swapload/iteration", text);
        if (rc == 0)
            rc = xs_read("data/swapload/iteration", back, sizeof(back));
        if (rc != 0 || strncmp(text, back, sizeof(text)))
            swapload_fail(i, "xenstore write and read", rc, t0);
    }
}

/* swapload=N: N iterations of checked hypercalls (above) while page
 * swapload_page is granted to dom0 (ref SWAPLOAD_REF, data/swapload/gref), which
 * maps and writes it meanwhile. Then data/swapload/state = looped, and a wait
 * (60 s) for data/swapload/go = final: the VMM has stopped swapping; one more
 * iteration, the page must hold what dom0 last wrote (data/swapload/stamp) and
 * the grant must end, dom0 having unmapped it. */
static void swapload_mode(unsigned long n)
{
    evtchn_port_t p;
    if (!report(have_xenstore(), "swapload xenstore", 0, "HVM_PARAM_STORE_*") || !dom0_port(&p))
        finish();
    long rc = ev_unmask(p);
    if (!report(rc == 0, "swapload unmask P", rc, "P=%u", p))
        finish();
    rc = gnttab_init(swapload_frame);
    if (!report(rc == 0, "swapload grant table frame 0 mapped", rc, "gfn=0x%lx",
                (unsigned long)(uintptr_t)swapload_frame >> 12))
        finish();
    gnttab_grant(SWAPLOAD_REF, 0, (unsigned long)(uintptr_t)swapload_page >> 12, 0);
    char text[24];
    snprintf(text, sizeof(text), "%u", SWAPLOAD_REF);
    rc = xs_write("data/swapload/gref", text);
    if (!report(rc == 0, "swapload publish gref", rc, "ref=%u", SWAPLOAD_REF))
        finish();
    long version = HYPERVISOR_xen_version(XENVER_version, NULL);
    uint64_t t0 = now_ns();
    unsigned long i = 0;
    for (; i < n; i++)
        swapload_iteration(i, p, version);
    uint64_t el = now_ns() - t0;
    report(swapload_failures == 0, "swapload loop", 0, "iterations=%lu hypercalls=%lu failures=%lu ns=%lu", i,
           swapload_calls, swapload_failures, (unsigned long)el);
    rc = xs_write("data/swapload/state", "looped");
    char go[16] = "";
    uint64_t deadline = now_ns() + 60000 * MS;
    while (rc == 0 && now_ns() < deadline) {
        if (xs_read("data/swapload/go", go, sizeof(go)) == 0 && !strncmp(go, "final", sizeof(go)))
            break;
        for (int k = 0; k < 100000; k++)
            cpu_relax();
    }
    if (!report(!strncmp(go, "final", sizeof(go)), "swapload told to finish", rc, "go=%s", go))
        finish();
    unsigned long before = swapload_failures;
    swapload_iteration(n, p, version);
    report(swapload_failures == before, "swapload after the swaps", 0, "ports, grant table and xenstore");
    char stamp[32] = "";
    rc = xs_read("data/swapload/stamp", stamp, sizeof(stamp));
    report(rc == 0 && !strncmp(swapload_page, stamp, sizeof(stamp)), "swapload page holds dom0's last write", rc,
           "page=\"%.31s\" stamp=\"%s\"", swapload_page, stamp);
    uint16_t seen = 0;
    report(gnttab_end(SWAPLOAD_REF, &seen) == 0, "swapload grant ended", 0, "flags=0x%x", seen);
    finish();
}

/* ------------------------------------------------------------------------- */

void kmain(struct hvm_start_info *si)
{
    (void)si;
    if (xen_init() != 0) {
        early_puts("evtchn: no Xen\n");
        for (;;)
            asm volatile("cli; hlt");
    }
    uint32_t a, b, c, d;
    cpuid(xen_cpuid_base + 4, 0, &a, &b, &c, &d);
    printk("evtchn: event channels, blocking and time; domid=%s%u cmdline=\"%s\"\n",
           (a & XEN_HVM_CPUID_DOMID_PRESENT) ? "" : "?", (a & XEN_HVM_CPUID_DOMID_PRESENT) ? c : 0,
           start_info_cmdline());
    if (!step_upcall())
        finish();
    step_time();
    const char *mode = cmdline_find("bench");
    if (mode)
        bench_mode(parse_ulong(mode, NULL));
    mode = cmdline_find("idle");
    if (mode)
        idle_mode(parse_ulong(mode, NULL));
    mode = cmdline_find("swapload");
    if (mode)
        swapload_mode(parse_ulong(mode, NULL));
    step_timers();
    step_block();
    step_poll();
    step_unmask();
    step_dom0();
    step_peer();
    report(stray == 0, "no stray vectors", 0, "stray=%u spurious=%u upcalls=%u", stray, spurious,
           upcalls);
    finish();
}
