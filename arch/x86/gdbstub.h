/* SPDX-License-Identifier: MIT */
/*
 * tidal's own gdb stub (arch/x86/gdbstub.c for tidal itself, the
 * protocol in lib/gdb_proto.c, the guest view in vmm/gdb_guest.c).
 *
 * "gdb=com2" (default), "gdb=com1" (shared with the console) or
 * "gdb=off" on tidal's command line; "break" waits for gdb at boot.
 * gdb gets control on its breakpoints and watchpoints, after a step, on
 * Ctrl-C (polled at every VM exit) and at power-off it is told the exit
 * status.  "monitor guest" / "monitor host" switch what registers and
 * memory mean: the guest's (through the VMCS and its page tables; one
 * thread per vCPU) or tidal's (one thread per CPU).
 */
#ifndef TIDAL_ARCH_X86_GDBSTUB_H
#define TIDAL_ARCH_X86_GDBSTUB_H

#include "lib/compiler.h"

struct vcpu;

/* Parse the options, set up the port and the trap handlers; "break" waits. */
void gdbstub_init(const char *cmdline);
/* Tell an attached gdb that tidal ends with @status ("W" packet). */
void gdbstub_exit(int status);
/* Is the stub reading COM1 (so that nobody else may)? */
bool gdbstub_owns_com1(void);
/*
 * Is the stub on at all (gdb= given and its UART found)?  Without it
 * gdbstub_vm_exit() has nothing to do: vm exits skip the call.
 */
bool gdbstub_enabled(void);

/*
 * vcpu_loop: the vCPU whose VMCS is current on this CPU (NULL when it
 * leaves).  Each such vCPU is a thread of gdb's guest view.
 */
void gdbstub_vcpu_attach(struct vcpu *v);
/*
 * At every VM exit, before dispatch: polls for Ctrl-C and takes the
 * exits the stub caused (monitor trap flag, its guest breakpoints).
 * True when the exit was the stub's: do not dispatch it.
 */
bool gdbstub_vm_exit(struct vcpu *v, uint32_t reason);
/* After the exit was handled: ends a step that left the vCPU waiting. */
void gdbstub_vm_exit_done(struct vcpu *v);

/* Between the two halves (not for other callers). */
enum gdb_stop_why { GDB_STOP_TRAP, GDB_STOP_INT, GDB_STOP_SWBREAK };
void gdbstub_stop_here(enum gdb_stop_why why);
void gdbstub_poll(void);
void gdbstub_reload_debug_regs(void);
bool gdbstub_park_if_stopping(void);
bool gdbstub_guest_bp_at(uint64_t addr);
bool gdbstub_cpu_held(unsigned int cpu);
/* The guest view: vCPUs by index (gdb's thread id - 1). */
unsigned int gdb_guest_count(void);
int gdb_guest_index_on(unsigned int cpu);
unsigned int gdb_guest_thread_name(unsigned int idx, char *out, size_t cap);
void gdb_guest_serve(void);
void gdb_guest_resync(void);
void gdb_guest_stopped(void);
int gdb_guest_read_reg(unsigned int idx, unsigned int reg, void *val);
int gdb_guest_write_reg(unsigned int idx, unsigned int reg, const void *val);
int gdb_guest_read_mem(unsigned int idx, uint64_t addr, void *buf, size_t n,
		       bool phys);
int gdb_guest_write_mem(unsigned int idx, uint64_t addr, const void *buf,
			size_t n, bool phys);
int gdb_guest_arm_step(unsigned int idx);
void gdb_guest_bp_exiting(bool on);

#endif
