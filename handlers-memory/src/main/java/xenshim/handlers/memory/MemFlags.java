package xenshim.handlers.memory;

import xenshim.api.Domain;
import xenshim.api.xen.XenMemory;

/**
 * The {@code mem_flags} of a {@code struct xen_memory_reservation}, as Xen
 * 4.17's {@code construct_memop_from_reservation} and {@code propagate_node}
 * refuse them. xenshim places no memory by address width or NUMA node, so
 * the flags are only checked, never used.
 */
final class MemFlags {

    /** {@code PAGE_SHIFT}: an address width this small cannot hold a page. */
    private static final int PAGE_SHIFT = 12;
    /** {@code NUMA_NO_NODE}, what {@code XENMEMF_get_node} gives when no node is named. */
    private static final int NUMA_NO_NODE = 0xFF;
    /** {@code MAX_NUMNODES} on x86 ({@code 1 << NODES_SHIFT}, 6). */
    private static final int MAX_NUMNODES = 64;
    static final int XENMEMF_exact_node_request = 1 << 17;
    static final int XENMEMF_vnode = 1 << 18;

    private MemFlags() {
    }

    /** {@code XENMEMF_get_address_bits}. */
    static int addressBits(int memFlags) {
        return memFlags & 0xFF;
    }

    /** {@code XENMEMF_get_node}. */
    static int node(int memFlags) {
        return ((memFlags >>> 8) - 1) & 0xFF;
    }

    static boolean populateOnDemand(int memFlags) {
        return (memFlags & XenMemory.XENMEMF_populate_on_demand) != 0;
    }

    /**
     * Whether {@code construct_memop_from_reservation} accepts the flags from
     * {@code caller}: an address width of 1..12 bits is refused (the host is
     * taken to be wider); a vnode request is accepted (xenshim domains have
     * no vNUMA, so Xen ignores it); a physical node is checked by
     * {@code propagate_node}.
     */
    static boolean acceptable(Domain caller, int memFlags) {
        int bits = addressBits(memFlags);
        if (bits != 0 && bits <= PAGE_SHIFT) {
            return false;
        }
        if ((memFlags & XENMEMF_vnode) != 0) {
            return true;
        }
        int node = node(memFlags);
        if (node == NUMA_NO_NODE) {
            return true;
        }
        if (caller.isPrivileged()) {
            return node < MAX_NUMNODES;
        }
        return (memFlags & XENMEMF_exact_node_request) == 0;
    }
}
