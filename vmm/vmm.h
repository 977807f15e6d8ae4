/* SPDX-License-Identifier: MIT */
/*
 * The hand-off from the boot path to guest support.  tidal_main() calls
 * vmm_start() once the machine is set up (console, memory, descriptors,
 * page tables) and VMX has been found, then powers off with the value it
 * returns: 0 for success, anything else for failure.  The boot code
 * carries a weak default that just reports that guest support is missing.
 */
#ifndef TIDAL_VMM_VMM_H
#define TIDAL_VMM_VMM_H

struct boot_info;

int vmm_start(const struct boot_info *bi);

#endif
