/* SPDX-License-Identifier: MIT */
/*
 * EPT plumbing around the TDP MMU: the EPTP a vCPU runs with, and the
 * INVEPT/INVVPID flushes, picking the narrowest type the CPU offers.
 * The EPT entry format itself lives with the MMU (mm/tdp/spte.h).
 */
#ifndef TIDAL_ARCH_X86_EPT_H
#define TIDAL_ARCH_X86_EPT_H

#include "lib/compiler.h"

struct tdp_root;

/* EPTP for @root, with A/D tracking only where the CPU has it. */
uint64_t ept_root_eptp(struct tdp_root *root);

/* Drop guest-physical and combined translations tagged with @eptp
 * (single-context INVEPT; all-context when that is all there is). */
void ept_flush(uint64_t eptp);

/* Drop linear translations of @vpid (single-context, else all). */
void vpid_flush(uint16_t vpid);

#endif
