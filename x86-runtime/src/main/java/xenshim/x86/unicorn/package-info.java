/**
 * A software CPU on the Unicorn engine (QEMU's TCG x86 emulator as a C library, Debian's
 * {@code libunicorn2} 2.0.1), bound with the FFM API: {@link xenshim.x86.unicorn.UnicornCpu} is one
 * engine used as one vCPU, {@link xenshim.x86.unicorn.UnicornExit} why its {@code run()} returned.
 * Groundwork for a CPU backend next to KVM; nothing above the vCPU loop should see this package.
 *
 * <p>What Unicorn 2.0.1 does here, measured by this package's tests and by C probes:
 * <ul>
 * <li><b>Paging is identity only.</b> The guest's page tables are walked (a not-present page
 *     raises #PF with CR2, a non-canonical address #GP), but the physical address found is thrown
 *     away: every access goes to the physical address equal to the virtual one (Unicorn issue
 *     #1953; fixed in 2.1.0, where {@code UC_CTL_TLB_TYPE} selects the real MMU). Before the walk,
 *     an access whose <em>virtual</em> address has no Unicorn mapping stops the engine with
 *     {@code UC_ERR_*_UNMAPPED}. Guests whose page tables map virtual = physical (the bundled guests
 *     map 0..4 GiB 1:1) run; a higher-half kernel (Linux) does not.</li>
 * <li><b>A stop is exact only at a block start.</b> {@code uc_emu_stop} from another thread or
 *     from an instruction hook is taken at the block's next load or store, with RIP reset to the
 *     block's start and the instructions before it already done: resuming runs them twice (a kick
 *     corrupts the guest, an {@code out} exit repeats). Stops are therefore requested through a flag
 *     that a native block hook checks ({@code BlockStartStop}). RIP inside an {@code out}/{@code in}
 *     hook is the block's start. An exception, {@code hlt} and a stop in a block hook end on an
 *     instruction boundary.</li>
 * <li><b>No WRMSR hook</b> ({@code UC_ERR_HOOK}); a {@code wrmsr} to an MSR QEMU does not know is
 *     dropped, and {@code wrmsr} does not end a block. A write to an MSR QEMU keeps
 *     ({@code MSR_VM_HSAVE_PA}) is seen by reading it at every block start while a watch is armed.</li>
 * <li><b>Exceptions are not delivered</b> through the guest's IDT: they reach the interrupt hook
 *     (#UD the invalid-instruction hook, which also catches {@code vmcall}/{@code vmmcall}).</li>
 * <li><b>Translated code is cached</b>: neither a host write nor {@code uc_mem_write} invalidates
 *     it; {@code UC_CTL_TB_FLUSH} or {@code uc_ctl_remove_cache} must.</li>
 * <li>A {@code UC_MODE_64} engine starts in 64-bit mode with paging off, a state hardware cannot
 *     be in; {@code UnicornCpu.enterPvh} leaves it for Xen's PVH entry state with a small stub.</li>
 * </ul>
 */
package xenshim.x86.unicorn;
