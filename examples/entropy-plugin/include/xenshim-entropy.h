/*
 * xenshim example plugin: a paravirtual entropy source on __HYPERVISOR_arch_7.
 *
 * The guest's side of the ABI that xenshim.example.entropy.EntropyHandler
 * serves (see its javadoc):
 *
 *   long arch_7(unsigned int cmd, void *buffer, unsigned long length);
 *
 *   cmd XENSHIM_ENTROPY_get: writes `length` random bytes (1 to
 *       XENSHIM_ENTROPY_MAX) at `buffer`; returns `length`.
 *   -ENOSYS  unknown cmd, or no handler in the slot (xenshim fills an empty
 *            slot with -ENOSYS, as Xen does for a hypercall it lacks).
 *   -EINVAL  length 0 or above XENSHIM_ENTROPY_MAX; nothing written.
 *   -EFAULT  buffer not writable, in part or whole; nothing written.
 *
 * __HYPERVISOR_arch_7 (55) is one of the numbers Xen leaves to each
 * architecture; x86 Xen 4.17 uses arch_0 (mca) and arch_1
 * (paging_domctl_cont) only, so arch_7 is free on x86.
 */
#ifndef XENSHIM_ENTROPY_H
#define XENSHIM_ENTROPY_H

#define __HYPERVISOR_xenshim_entropy __HYPERVISOR_arch_7

#define XENSHIM_ENTROPY_get 0
#define XENSHIM_ENTROPY_MAX 4096

#endif
