/* SPDX-License-Identifier: MIT */
/*
 * Readable names for VMX numbers: exit reasons, VM-instruction errors and
 * VM-entry failures.  Pure tables, no machine access.
 */
#ifndef TIDAL_ARCH_X86_VMX_NAMES_H
#define TIDAL_ARCH_X86_VMX_NAMES_H

#include "lib/compiler.h"

/* "EPT violation", ...; "unknown" for numbers without a name. */
const char *vmx_exit_reason_name(uint32_t basic_reason);

/* Meaning of VMCS_INSN_ERROR after a VMfailValid. */
const char *vmx_insn_error_str(uint32_t error);

/*
 * Meaning of a failed VM entry, reported as an exit with bit 31 set:
 * @reason is the basic exit reason (33, 34 or 41), @qual the exit
 * qualification.  Writes a sentence to @buf and returns @buf.
 */
const char *vmx_entry_failure_str(uint32_t reason, uint64_t qual, char *buf,
				  size_t size);

#endif
