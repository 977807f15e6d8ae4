/* SPDX-License-Identifier: MIT */
/*
 * What the CPU offers for virtualization, for the boot log
 * ("tidal: cpu: ..." and a readable VMX/EPT summary).  The VMX code does
 * its own detailed checks; this is the report.
 */
#ifndef TIDAL_ARCH_X86_CPU_CAPS_H
#define TIDAL_ARCH_X86_CPU_CAPS_H

#include "lib/compiler.h"

struct cpu_caps {
	char vendor[13];
	bool vmx, ept, vpid, ug;
	bool nx, pdpe1gb;
	/* Only meaningful when vmx is true. */
	uint64_t vmx_basic, feature_control, ept_vpid_cap;
	uint64_t pinbased, procbased, procbased2, exit_ctls, entry_ctls;
};

void cpu_caps_probe(struct cpu_caps *c);
void cpu_caps_print(const struct cpu_caps *c);

#endif
