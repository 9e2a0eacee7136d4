package xenshim.api.xen;

/** {@code event_channel_op} commands, port states and VIRQs, from {@code xen/event_channel.h} and {@code xen/xen.h}. */
public final class XenEvtchn {

    public static final int EVTCHNOP_bind_interdomain = 0;
    public static final int EVTCHNOP_bind_virq = 1;
    public static final int EVTCHNOP_bind_pirq = 2;
    public static final int EVTCHNOP_close = 3;
    public static final int EVTCHNOP_send = 4;
    public static final int EVTCHNOP_status = 5;
    public static final int EVTCHNOP_alloc_unbound = 6;
    public static final int EVTCHNOP_bind_ipi = 7;
    public static final int EVTCHNOP_bind_vcpu = 8;
    public static final int EVTCHNOP_unmask = 9;
    public static final int EVTCHNOP_reset = 10;
    public static final int EVTCHNOP_init_control = 11;
    public static final int EVTCHNOP_expand_array = 12;
    public static final int EVTCHNOP_set_priority = 13;

    /** Channel is not in use. */
    public static final int EVTCHNSTAT_closed = 0;
    /** Channel is waiting for an interdomain connection. */
    public static final int EVTCHNSTAT_unbound = 1;
    public static final int EVTCHNSTAT_interdomain = 2;
    public static final int EVTCHNSTAT_pirq = 3;
    public static final int EVTCHNSTAT_virq = 4;
    public static final int EVTCHNSTAT_ipi = 5;

    public static final int BIND_PIRQ__WILL_SHARE = 1;

    public static final int VIRQ_TIMER = 0;
    public static final int VIRQ_DEBUG = 1;
    public static final int VIRQ_CONSOLE = 2;
    public static final int VIRQ_DOM_EXC = 3;
    public static final int VIRQ_TBUF = 4;
    public static final int VIRQ_DEBUGGER = 6;
    public static final int VIRQ_XENOPROF = 7;
    public static final int VIRQ_CON_RING = 8;
    public static final int VIRQ_PCPU_STATE = 9;
    public static final int VIRQ_MEM_EVENT = 10;
    public static final int VIRQ_ARGO = 11;
    public static final int VIRQ_ENOMEM = 12;
    public static final int VIRQ_XENPMU = 13;
    public static final int VIRQ_ARCH_0 = 16;
    public static final int VIRQ_ARCH_7 = 23;
    public static final int NR_VIRQS = 24;

    public static final int EVTCHN_FIFO_PRIORITY_MAX = 0;
    public static final int EVTCHN_FIFO_PRIORITY_DEFAULT = 7;
    public static final int EVTCHN_FIFO_PRIORITY_MIN = 15;
    public static final int EVTCHN_FIFO_LINK_BITS = 17;

    /**
     * {@code EVTCHN_2L_NR_CHANNELS} for a 64-bit guest: {@code sizeof(xen_ulong_t)² × 64} with an 8-byte
     * {@code xen_ulong_t}. The header's macro has one name and two values (it depends on the ABI the header
     * is compiled for), so the probe cannot record it under one name; {@code XenEvtchnTest} checks both
     * values against the macro's formula and {@link xenshim.api.Abi#longSize()}.
     */
    @NotInHeaders
    public static final int EVTCHN_2L_NR_CHANNELS_X86_64 = 4096;
    /** {@code EVTCHN_2L_NR_CHANNELS} for a 32-bit (compat) guest: 4-byte {@code xen_ulong_t}. */
    @NotInHeaders
    public static final int EVTCHN_2L_NR_CHANNELS_X86_32 = 1024;

    private XenEvtchn() {
    }

    /**
     * Xen's {@code virq_is_global}: every VIRQ but the per-vCPU ones (timer, debug, xenoprof, xenpmu) is
     * bound on vCPU 0 and may be moved; on x86 the arch VIRQs are global ({@code arch_virq_is_global}).
     */
    public static boolean virqIsGlobal(int virq) {
        return switch (virq) {
            case VIRQ_TIMER, VIRQ_DEBUG, VIRQ_XENOPROF, VIRQ_XENPMU -> false;
            default -> true;
        };
    }
}
