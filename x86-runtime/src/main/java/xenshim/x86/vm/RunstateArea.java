package xenshim.x86.vm;

import xenshim.api.Abi;
import xenshim.api.GuestFault;
import xenshim.api.Vcpus;
import xenshim.api.XenClock;
import xenshim.api.abi.AbiLayouts;
import xenshim.x86.cpu.VirtualCpu;
import xenshim.x86.memory.VcpuMemory;

/**
 * A vCPU's runstate as the loop changes it (running, blocked), and the guest's copy of it: Xen's
 * {@code vcpu_runstate_change} and {@code update_runstate_area}. The area is a guest-virtual address
 * ({@code VCPUOP_register_runstate_memory_area}), written through the vCPU's current page tables in the
 * layout of its current mode; a fault is ignored, as Xen ignores it.
 */
final class RunstateArea {

    private final VirtualCpu cpu;
    private final Vcpus vcpus;
    private final VcpuMemory memory;
    private final XenClock clock;

    RunstateArea(VirtualCpu cpu, Vcpus vcpus, VcpuMemory memory, XenClock clock) {
        this.cpu = cpu;
        this.vcpus = vcpus;
        this.memory = memory;
        this.clock = clock;
    }

    /** The vCPU enters {@code state} now. */
    void enter(int state) {
        int id = cpu.id();
        vcpus.runstateChange(id, state, clock.now());
        long area = vcpus.runstateArea(id);
        if (area == 0) {
            return;
        }
        long efer = cpu.efer();
        Abi abi = HypercallRegisters.abi(efer, cpu.csLong());
        memory.refresh(cpu.cr0(), cpu.cr3(), cpu.cr4(), efer);
        Vcpus.RunstateInfo info = vcpus.runstate(id);
        var layout = (abi == Abi.X86_64 ? AbiLayouts.X86_64 : AbiLayouts.X86_32).vcpu_runstate_info;
        try {
            memory.write32(area + AbiLayouts.offset(layout, "state"), info.state());
            memory.write64(area + AbiLayouts.offset(layout, "state_entry_time"), info.stateEntryTime());
            long[] time = info.time();
            long times = area + AbiLayouts.offset(layout, "time");
            for (int i = 0; i < time.length; i++) {
                memory.write64(times + 8L * i, time[i]);
            }
        } catch (GuestFault ignored) {
            // Xen's update_runstate_area does not fail the guest for a bad area
        }
    }
}
