/* SPDX-License-Identifier: MIT */
/*
 * Epoch-based reclamation: the RCU of tidal.  API contract; see lib/ebr.c
 * for the implementation and the memory-ordering argument.
 *
 * One global domain.  State is per CPU (platform_cpu_id()); in host
 * programs every thread that uses EBR is a registered "CPU".
 *
 *  - ebr_read_lock()/ebr_read_unlock(): a read-side section; nestable and
 *    cheap.  An object unlinked by a writer is not freed while any section
 *    that might have seen it is still open.
 *  - ebr_call(head, fn): run fn(head) once every section that was open at
 *    the time of the call has closed.  Safe to call inside a read-side
 *    section and with spinlocks/rwlocks held; never waits for a grace
 *    period in that case.
 *  - ebr_synchronize(): wait for a full grace period.  Must not be called
 *    inside a read-side section.
 *  - ebr_barrier(): wait until every callback queued before the call has
 *    run.  Must not be called inside a read-side section.
 */
#ifndef TIDAL_LIB_EBR_H
#define TIDAL_LIB_EBR_H

#include "lib/compiler.h"

struct ebr_head {
	struct ebr_head *next;
	void (*fn)(struct ebr_head *head);
};

void ebr_init(void);

void ebr_read_lock(void);
void ebr_read_unlock(void);
bool ebr_in_read_section(void);

void ebr_call(struct ebr_head *head, void (*fn)(struct ebr_head *head));
void ebr_synchronize(void);
void ebr_barrier(void);

#endif
