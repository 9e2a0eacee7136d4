package xenshim.handlers.evtchn;

import xenshim.api.abi.Member;

/** The {@code event_channel_op} argument structs' members ({@code xen/event_channel.h}), in both ABIs. */
final class EvtchnStructs {

    static final Member ALLOC_UNBOUND_DOM = Member.of(l -> l.evtchn_alloc_unbound, "dom");
    static final Member ALLOC_UNBOUND_REMOTE_DOM = Member.of(l -> l.evtchn_alloc_unbound, "remote_dom");
    static final Member ALLOC_UNBOUND_PORT = Member.of(l -> l.evtchn_alloc_unbound, "port");

    static final Member BIND_INTERDOMAIN_REMOTE_DOM = Member.of(l -> l.evtchn_bind_interdomain, "remote_dom");
    static final Member BIND_INTERDOMAIN_REMOTE_PORT = Member.of(l -> l.evtchn_bind_interdomain, "remote_port");
    static final Member BIND_INTERDOMAIN_LOCAL_PORT = Member.of(l -> l.evtchn_bind_interdomain, "local_port");

    static final Member BIND_VIRQ_VIRQ = Member.of(l -> l.evtchn_bind_virq, "virq");
    static final Member BIND_VIRQ_VCPU = Member.of(l -> l.evtchn_bind_virq, "vcpu");
    static final Member BIND_VIRQ_PORT = Member.of(l -> l.evtchn_bind_virq, "port");

    static final Member BIND_PIRQ_PORT = Member.of(l -> l.evtchn_bind_pirq, "port");

    static final Member BIND_IPI_VCPU = Member.of(l -> l.evtchn_bind_ipi, "vcpu");
    static final Member BIND_IPI_PORT = Member.of(l -> l.evtchn_bind_ipi, "port");

    static final Member CLOSE_PORT = Member.of(l -> l.evtchn_close, "port");
    static final Member SEND_PORT = Member.of(l -> l.evtchn_send, "port");

    static final Member STATUS_DOM = Member.of(l -> l.evtchn_status, "dom");
    static final Member STATUS_PORT = Member.of(l -> l.evtchn_status, "port");
    static final Member STATUS_STATUS = Member.of(l -> l.evtchn_status, "status");
    static final Member STATUS_VCPU = Member.of(l -> l.evtchn_status, "vcpu");
    /** The union {@code u}'s start: {@code u.unbound.dom}, {@code u.interdomain.dom}, {@code u.pirq}, {@code u.virq}. */
    static final Member STATUS_U = Member.of(l -> l.evtchn_status, "u.interdomain.dom");
    static final Member STATUS_U_INTERDOMAIN_PORT = Member.of(l -> l.evtchn_status, "u.interdomain.port");

    static final Member BIND_VCPU_PORT = Member.of(l -> l.evtchn_bind_vcpu, "port");
    static final Member BIND_VCPU_VCPU = Member.of(l -> l.evtchn_bind_vcpu, "vcpu");

    static final Member UNMASK_PORT = Member.of(l -> l.evtchn_unmask, "port");
    static final Member RESET_DOM = Member.of(l -> l.evtchn_reset, "dom");

    static final Member SET_PRIORITY_PORT = Member.of(l -> l.evtchn_set_priority, "port");

    private EvtchnStructs() {
    }
}
