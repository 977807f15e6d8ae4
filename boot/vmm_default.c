// SPDX-License-Identifier: MIT
/*
 * The stand-in for guest support: a weak vmm_start() that the VMX code's
 * strong definition replaces when it is linked in.
 */
#include "vmm/vmm.h"
#include "lib/printf.h"

__attribute__((weak)) int vmm_start(const struct boot_info *bi)
{
	(void)bi;
	pr_info("tidal: no guest support in this build\n");
	return 0;
}
