// SPDX-License-Identifier: MIT
/*
 * The gdb stub for tidal itself: the serial port, the #BP/#DB/NMI entry,
 * tidal's registers (from the trap frame) and memory (checked against
 * tidal's page tables before any access), software breakpoints (int3
 * written through the direct map, so read-only text can be patched) and
 * hardware ones in DR0-DR3.  The protocol is lib/gdb_proto.c; the guest
 * view is vmm/gdb_guest.c.
 *
 * One CPU talks to gdb; the others are sent an NMI and wait in the NMI
 * handler (or in the VM-exit path when the NMI found them in guest mode)
 * until gdb lets them go.  In the host view each CPU is a thread (id =
 * CPU + 1) showing its frame; in the guest view each vCPU is one (id =
 * vCPU index + 1), and the waiting CPUs answer VMCS requests for the
 * vCPU they run (vmm/gdb_guest.c).  A guest step runs only the CPU of
 * the stepped vCPU; the others stay where they are.
 */
#include "arch/x86/gdbstub.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/power.h"
#include "arch/x86/smp.h"
#include "lib/cmdline.h"
#include "lib/gdb_proto.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/paging.h"

#define COM1	 0x3f8
#define COM2	 0x2f8
#define UART_LSR 5
#define LSR_DR	 BIT(0)
#define LSR_THRE BIT(5)

#define MAX_SW_BPS 32
#define DR6_BS	   BIT(14)
#define RFLAGS_TF  BIT(8)
#define RFLAGS_RF  BIT(16)
#define MSR_EFER   0xc0000080

struct sw_bp {
	uint64_t addr;
	uint8_t saved;
	bool used, guest;
};

struct hw_bp {
	uint64_t addr;
	enum gdb_bp_type type;
	bool used;
};

static struct {
	uint16_t port;
	bool enabled, attached, guest_view, gpa_view, no_ack;
	struct trap_frame *frames[TIDAL_MAX_CPUS]; /* stopped CPUs */
	unsigned int self;			   /* the CPU talking to gdb */
	unsigned int thread; /* Hg: CPU (host view) or vCPU (guest view) */
	int cont;	     /* Hc: the vCPU a guest step runs, -1 any */
	volatile bool stopping;
	int run_only; /* while stopping: the one CPU let go (a step), or -1 */
	int owner;    /* the CPU in enter(), -1 when none */
	/* Why gdbstub_stop_here() trapped, per CPU. */
	enum gdb_stop_why pending[TIDAL_MAX_CPUS];
	bool pending_valid[TIDAL_MAX_CPUS];
	char stop[96]; /* the last stop reply */
	bool resume_rf;
	struct sw_bp sw[MAX_SW_BPS];
	struct hw_bp hw[4];
	struct gdb_rx rx;
	char reply[GDB_PKT_MAX + 1];
	char out[2 * GDB_PKT_MAX + 8];
	size_t out_len;
} gs;

/* ---- the serial port ---- */

static void uart_init(uint16_t port)
{
	outb(port + 1, 0x00); /* no interrupts: the stub polls */
	outb(port + 3, 0x80);
	outb(port + 0, 1); /* 115200 */
	outb(port + 1, 0);
	outb(port + 3, 0x03);
	outb(port + 2, 0xc7);
	outb(port + 4, 0x03);
}

static bool uart_present(uint16_t port)
{
	outb(port + 7, 0xa5);
	return inb(port + 7) == 0xa5;
}

static int uart_getc_nowait(void)
{
	if (!(inb(gs.port + UART_LSR) & LSR_DR))
		return -1;
	return inb(gs.port);
}

static uint8_t uart_getc(void)
{
	int c;

	while ((c = uart_getc_nowait()) < 0) {
		smp_nmi_poll(); /* membarrier rounds while gdb thinks */
		cpu_relax();
	}
	return (uint8_t)c;
}

static void uart_putc(char c)
{
	while (!(inb(gs.port + UART_LSR) & LSR_THRE))
		cpu_relax();
	outb(gs.port, (uint8_t)c);
}

static void send_raw(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		uart_putc(s[i]);
}

static void send_packet(const char *payload)
{
	gs.out_len =
		gdb_frame(gs.out, sizeof(gs.out), payload, strlen(payload));
	if (!gs.out_len) /* cannot happen: out is twice the largest reply */
		gs.out_len = gdb_frame(gs.out, sizeof(gs.out), "E01", 3);
	send_raw(gs.out, gs.out_len);
}

/* ---- tidal's memory, checked against its page tables ---- */

static bool canonical(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/* The physical address behind @va in the current address space, or -1. */
static uint64_t host_translate(uint64_t va)
{
	uint64_t table = read_cr3() & ~0xfffull, e = 0;
	const uint64_t pfn = 0x000ffffffffff000ull;

	if (!canonical(va))
		return ~0ull;
	for (int level = 4; level >= 1; level--) {
		unsigned int idx = (va >> (12 + 9 * (level - 1))) & 511;

		if (table >= paging_direct_map_end())
			return ~0ull;
		e = ((const uint64_t *)phys_to_virt(table))[idx];
		if (!(e & 1))
			return ~0ull;
		if (level > 1 && level < 4 && (e & BIT(7))) {
			uint64_t size = 1ull << (12 + 9 * (level - 1));

			return ((e & pfn) & ~(size - 1)) | (va & (size - 1));
		}
		table = e & pfn;
	}
	return table | (va & 0xfff);
}

static int host_access(uint64_t va, void *buf, size_t n, bool write)
{
	while (n) {
		size_t chunk = 4096 - (va & 0xfff);
		uint64_t pa = host_translate(va);

		if (chunk > n)
			chunk = n;
		if (pa == ~0ull || pa + chunk > paging_direct_map_end())
			return -1;
		if (write)
			memcpy(phys_to_virt(pa), buf, chunk);
		else
			memcpy(buf, phys_to_virt(pa), chunk);
		va += chunk;
		buf = (uint8_t *)buf + chunk;
		n -= chunk;
	}
	return 0;
}

/* ---- registers of the selected CPU ---- */

static inline uint64_t read_dr6(void)
{
	uint64_t v;

	__asm__ __volatile__("mov %%dr6, %0" : "=r"(v));
	return v;
}

static inline void write_dr(int n, uint64_t v)
{
	switch (n) {
	case 0:
		__asm__ __volatile__("mov %0, %%dr0" ::"r"(v));
		break;
	case 1:
		__asm__ __volatile__("mov %0, %%dr1" ::"r"(v));
		break;
	case 2:
		__asm__ __volatile__("mov %0, %%dr2" ::"r"(v));
		break;
	case 3:
		__asm__ __volatile__("mov %0, %%dr3" ::"r"(v));
		break;
	case 6:
		__asm__ __volatile__("mov %0, %%dr6" ::"r"(v));
		break;
	default:
		__asm__ __volatile__("mov %0, %%dr7" ::"r"(v));
	}
}

/* DS, ES, FS, GS (gdb's order after CS and SS). */
static uint16_t read_data_seg(unsigned int which)
{
	uint16_t sel[4];

	__asm__ __volatile__("mov %%ds, %0\n\tmov %%es, %1\n\t"
			     "mov %%fs, %2\n\tmov %%gs, %3"
			     : "=r"(sel[0]), "=r"(sel[1]), "=r"(sel[2]),
			       "=r"(sel[3]));
	return sel[which & 3];
}

/* The general registers of a frame in gdb's order (rax..r15). */
static uint64_t *frame_gpr(struct trap_frame *tf, unsigned int reg)
{
	uint64_t *const map[16] = {
		&tf->rax, &tf->rbx, &tf->rcx, &tf->rdx, &tf->rsi, &tf->rdi,
		&tf->rbp, &tf->rsp, &tf->r8,  &tf->r9,	&tf->r10, &tf->r11,
		&tf->r12, &tf->r13, &tf->r14, &tf->r15,
	};
	return map[reg];
}

static int host_read_reg(struct trap_frame *tf, unsigned int reg, void *val)
{
	uint64_t v;

	memset(val, 0, gdb_reg_size(reg));
	if (reg < 16)
		v = *frame_gpr(tf, reg);
	else if (reg == GDB_REG_RIP)
		v = tf->rip;
	else if (reg == GDB_REG_EFLAGS)
		v = tf->rflags;
	else if (reg == GDB_REG_CS)
		v = tf->cs;
	else if (reg == GDB_REG_CS + 1)
		v = tf->ss;
	else if (reg >= GDB_REG_CS + 2 && reg < GDB_REG_ST0)
		v = read_data_seg(reg - GDB_REG_CS - 2);
	else if (reg == GDB_REG_FS_BASE)
		v = rdmsr(0xc0000100);
	else if (reg == GDB_REG_GS_BASE)
		v = rdmsr(0xc0000101);
	else if (reg == GDB_REG_CR0)
		v = read_cr0();
	else if (reg == GDB_REG_CR2)
		v = read_cr2();
	else if (reg == GDB_REG_CR3)
		v = read_cr3();
	else if (reg == GDB_REG_CR4)
		v = read_cr4();
	else if (reg == GDB_REG_EFER)
		v = rdmsr(MSR_EFER);
	else
		return -1; /* x87/SSE state and CR8: not saved by tidal */
	memcpy(val, &v, gdb_reg_size(reg) < 8 ? gdb_reg_size(reg) : 8);
	return 0;
}

static int host_write_reg(struct trap_frame *tf, unsigned int reg,
			  const void *val)
{
	uint64_t v = 0;

	memcpy(&v, val, gdb_reg_size(reg) < 8 ? gdb_reg_size(reg) : 8);
	if (reg < 16)
		*frame_gpr(tf, reg) = v;
	else if (reg == GDB_REG_RIP)
		tf->rip = v;
	else if (reg == GDB_REG_EFLAGS)
		tf->rflags = (v & 0x3f7fd7) | 2; /* no IOPL/VM games */
	else
		return -1;
	return 0;
}

/* ---- target operations for lib/gdb_proto.c ---- */

static struct trap_frame *sel_frame(void)
{
	return gs.frames[gs.thread] ? gs.frames[gs.thread] : gs.frames[gs.self];
}

static int op_read_reg(void *ctx, unsigned int reg, void *val)
{
	if (gs.guest_view)
		return gdb_guest_read_reg(gs.thread, reg, val);
	return host_read_reg(sel_frame(), reg, val);
}

static int op_write_reg(void *ctx, unsigned int reg, const void *val)
{
	if (gs.guest_view)
		return gdb_guest_write_reg(gs.thread, reg, val);
	return host_write_reg(sel_frame(), reg, val);
}

static int op_read_mem(void *ctx, uint64_t addr, void *buf, size_t n)
{
	if (gs.guest_view)
		return gdb_guest_read_mem(gs.thread, addr, buf, n, gs.gpa_view);
	return host_access(addr, buf, n, false);
}

static int op_write_mem(void *ctx, uint64_t addr, const void *buf, size_t n)
{
	if (gs.guest_view)
		return gdb_guest_write_mem(gs.thread, addr, buf, n,
					   gs.gpa_view);
	return host_access(addr, (void *)buf, n, true);
}

static struct sw_bp *sw_find(uint64_t addr, bool guest)
{
	for (int i = 0; i < MAX_SW_BPS; i++)
		if (gs.sw[i].used && gs.sw[i].addr == addr &&
		    gs.sw[i].guest == guest)
			return &gs.sw[i];
	return NULL;
}

static void sw_update_guest_exiting(void)
{
	bool any = false;

	for (int i = 0; i < MAX_SW_BPS; i++)
		any |= gs.sw[i].used && gs.sw[i].guest;
	gdb_guest_bp_exiting(any); /* every vCPU, before its next entry */
}

static int sw_insert(uint64_t addr, bool insert)
{
	bool guest = gs.guest_view;
	struct sw_bp *bp = sw_find(addr, guest);
	const uint8_t int3 = 0xcc;
	int rc;

	if (!insert) {
		if (!bp)
			return 0;
		rc = op_write_mem(NULL, addr, &bp->saved, 1);
		bp->used = false;
		sw_update_guest_exiting();
		return rc;
	}
	if (bp)
		return 0;
	for (int i = 0; i < MAX_SW_BPS && !bp; i++)
		if (!gs.sw[i].used)
			bp = &gs.sw[i];
	if (!bp || op_read_mem(NULL, addr, &bp->saved, 1) ||
	    op_write_mem(NULL, addr, &int3, 1))
		return -1;
	bp->addr = addr;
	bp->guest = guest;
	bp->used = true;
	sw_update_guest_exiting();
	return 0;
}

/* DR7: enable bit 2n+1 (global), R/W at 16+4n, LEN at 18+4n. */
static void hw_load(void)
{
	uint64_t dr7 = 0;

	for (int i = 0; i < 4; i++) {
		static const uint8_t rw[] = {0, 0, 1, 3, 3};
		uint64_t len;

		if (!gs.hw[i].used)
			continue;
		write_dr(i, gs.hw[i].addr);
		/* LEN: 0 for execution; 2 (binary 10) is 8 bytes. */
		len = gs.hw[i].type == GDB_BP_HW ? 0 : 2;
		dr7 |= BIT(2 * i + 1) |
		       (uint64_t)rw[gs.hw[i].type] << (16 + 4 * i) |
		       len << (18 + 4 * i);
	}
	write_dr(7, dr7);
}

static int hw_set(enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		  bool insert)
{
	if (gs.guest_view)
		return -1; /* the debug registers are tidal's, not the guest's
			    */
	if (!insert) {
		for (int i = 0; i < 4; i++)
			if (gs.hw[i].used && gs.hw[i].addr == addr &&
			    gs.hw[i].type == type)
				gs.hw[i].used = false;
		hw_load();
		return 0;
	}
	/* One register covers an aligned 8-byte (or one-instruction) range. */
	if (type != GDB_BP_HW && (kind > 8 || (addr & 7) + kind > 8))
		return -1;
	if (type != GDB_BP_HW)
		addr &= ~7ull;
	if (host_translate(addr) == ~0ull)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (gs.hw[i].used)
			continue;
		gs.hw[i] = (struct hw_bp){
			.addr = addr, .type = type, .used = true};
		hw_load();
		return 0;
	}
	return -1;
}

static int op_breakpoint(void *ctx, enum gdb_bp_type type, uint64_t addr,
			 uint64_t kind, bool insert)
{
	if (type == GDB_BP_SW)
		return sw_insert(addr, insert);
	return hw_set(type, addr, kind, insert);
}

static unsigned int op_thread_count(void *ctx)
{
	return gs.guest_view ? gdb_guest_count() : smp_cpus_online();
}

static int op_select_thread(void *ctx, unsigned int tid, bool cont)
{
	if (cont) {
		gs.cont = tid ? (int)tid - 1 : -1;
		return 0;
	}
	if (!tid)
		return 0; /* any: keep the selection */
	if (!gs.guest_view && !gs.frames[tid - 1])
		return -1; /* not stopped (yet) */
	gs.thread = tid - 1;
	return 0;
}

static unsigned int op_thread_name(void *ctx, unsigned int tid, char *out,
				   size_t cap)
{
	if (gs.guest_view)
		return gdb_guest_thread_name(tid - 1, out, cap);
	ksnprintf(out, cap, "cpu%u", tid - 1);
	return tid - 1;
}

/* After "monitor guest|host": a thread that exists in the new view. */
static void fix_thread(void)
{
	int idx = gdb_guest_index_on(gs.self);

	if (gs.guest_view && gs.thread >= gdb_guest_count())
		gs.thread = idx >= 0 ? (unsigned int)idx : 0;
	if (!gs.guest_view && !gs.frames[gs.thread])
		gs.thread = gs.self;
}

static unsigned int op_current_thread(void *ctx)
{
	return gs.thread + 1;
}

static int op_monitor(void *ctx, const char *cmd, char *out, size_t cap)
{
	if (!strcmp(cmd, "guest")) {
		if (!gdb_guest_count()) {
			ksnprintf(out, cap,
				  "no vCPU is running (stop inside vm_run)\n");
			return 0;
		}
		gs.guest_view = true;
		fix_thread();
		ksnprintf(out, cap,
			  "guest view: registers from the VMCS, "
			  "memory by guest-%s address; %u vCPU(s) as "
			  "threads 1-%u\n",
			  gs.gpa_view ? "physical" : "virtual",
			  gdb_guest_count(), gdb_guest_count());
	} else if (!strcmp(cmd, "host")) {
		gs.guest_view = false;
		fix_thread();
		ksnprintf(out, cap,
			  "host view: tidal's registers and memory\n");
	} else if (!strcmp(cmd, "gpa")) {
		gs.gpa_view = true;
		ksnprintf(out, cap, "guest memory by guest-physical address\n");
	} else if (!strcmp(cmd, "gva")) {
		gs.gpa_view = false;
		ksnprintf(out, cap, "guest memory by guest-virtual address\n");
	} else if (!strcmp(cmd, "help") || !*cmd) {
		ksnprintf(out, cap,
			  "monitor guest|host: whose registers and memory\n"
			  "monitor gva|gpa: guest memory by virtual or "
			  "physical address\n"
			  "after switching: maint flush register-cache\n");
	} else {
		return -1;
	}
	return 0;
}

static void op_stop_reply(void *ctx, char *out, size_t cap)
{
	ksnprintf(out, cap, "%s", gs.stop);
}

static const struct gdb_target_ops stub_ops = {
	.read_reg = op_read_reg,
	.write_reg = op_write_reg,
	.read_mem = op_read_mem,
	.write_mem = op_write_mem,
	.breakpoint = op_breakpoint,
	.thread_count = op_thread_count,
	.select_thread = op_select_thread,
	.current_thread = op_current_thread,
	.thread_name = op_thread_name,
	.monitor = op_monitor,
	.stop_reply = op_stop_reply,
};

/* ---- stopping and resuming ---- */

static void stop_others(void)
{
	gs.stopping = true;
	/* Those still held since a step stay where they are. */
	for (unsigned int c = 0; c < smp_cpus_online(); c++)
		if (c != gs.self && !gs.frames[c])
			smp_send_nmi(c);
	/* Give them a moment to park; a CPU that does not is not listed. */
	for (int spin = 0; spin < 1000000; spin++) {
		unsigned int parked = 1;

		for (unsigned int c = 0; c < smp_cpus_online(); c++)
			parked += c != gs.self && gs.frames[c];
		if (parked >= smp_cpus_online())
			break;
		cpu_relax();
	}
}

static void release_others(void)
{
	__atomic_store_n(&gs.run_only, -1, __ATOMIC_RELEASE);
	__atomic_store_n(&gs.stopping, false, __ATOMIC_RELEASE);
}

/* Should this CPU wait for gdb (stopping, and not the one let go)? */
static bool must_wait(unsigned int me)
{
	return __atomic_load_n(&gs.stopping, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&gs.run_only, __ATOMIC_ACQUIRE) != (int)me;
}

bool gdbstub_cpu_held(unsigned int cpu)
{
	return cpu < TIDAL_MAX_CPUS && gs.frames[cpu];
}

/*
 * Wait with @tf visible until gdb lets this CPU go.  Membarrier rounds
 * are still acknowledged and the stub's VMCS requests answered; on the
 * way out this CPU's vCPU takes the breakpoints gdb set meanwhile.
 */
static void hold(struct trap_frame *tf, unsigned int me)
{
	gs.frames[me] = tf;
	while (must_wait(me)) {
		smp_nmi_poll();
		gdb_guest_serve();
		cpu_relax();
	}
	gs.frames[me] = NULL;
	gdb_guest_resync();
}

/*
 * Another CPU, sent an NMI by stop_others(): wait here until released.
 * (One that was in guest mode parks in gdbstub_vm_exit() instead, @tf
 * NULL.)
 */
static bool gdb_nmi(struct trap_frame *tf)
{
	unsigned int me = percpu_self()->cpu_id;

	if (!tf || me == gs.self || !must_wait(me))
		return false;
	hold(tf, me);
	return true;
}

/*
 * The same for a CPU that was running a guest when the NMI came: it
 * arrives as a VM exit, so the frame gdb sees is the exit path's.
 */
bool gdbstub_park_if_stopping(void)
{
	struct trap_frame tf = {0};
	unsigned int me = percpu_self()->cpu_id;

	if (me == gs.self || !must_wait(me))
		return false;
	tf.rip = (uintptr_t)__builtin_return_address(0);
	tf.rbp = *(uint64_t *)__builtin_frame_address(0);
	tf.rsp = (uintptr_t)__builtin_frame_address(0) + 16;
	tf.rflags = read_rflags();
	tf.cs = GDT_CODE;
	tf.ss = GDT_DATA;
	hold(&tf, me);
	return true;
}

static void remove_all_breakpoints(void)
{
	bool view = gs.guest_view;

	for (int i = 0; i < MAX_SW_BPS; i++) {
		if (!gs.sw[i].used)
			continue;
		gs.guest_view = gs.sw[i].guest;
		sw_insert(gs.sw[i].addr, false);
	}
	gs.guest_view = view;
	memset(gs.hw, 0, sizeof(gs.hw));
	hw_load();
}

/* Talk to gdb until it resumes.  Returns the action that ended it. */
static enum gdb_action session(void)
{
	for (;;) {
		uint8_t c = uart_getc();
		enum gdb_rx_event ev;
		enum gdb_action act;

		if (gs.rx.state == 0 && c == '-' && gs.out_len && !gs.no_ack) {
			send_raw(gs.out, gs.out_len); /* gdb asks again */
			continue;
		}
		ev = gdb_rx_byte(&gs.rx, c);
		if (ev == GDB_RX_BAD && !gs.no_ack)
			uart_putc('-');
		if (ev != GDB_RX_PACKET)
			continue;
		if (!gs.no_ack)
			uart_putc('+');
		gs.attached = true;
		act = gdb_handle(&stub_ops, NULL, gs.rx.buf, gs.rx.len,
				 gs.reply);
		if (act == GDB_NO_ACK) {
			send_packet(gs.reply);
			gs.no_ack = true;
			continue;
		}
		if (act == GDB_REPLY || act == GDB_DETACH)
			send_packet(gs.reply);
		if (act != GDB_REPLY)
			return act;
	}
}

/* The stop names this CPU, or in the guest view the vCPU it runs. */
static void format_stop(enum gdb_stop_why why, const char *extra)
{
	int idx = gdb_guest_index_on(gs.self);

	gs.thread = gs.self;
	if (gs.guest_view && idx >= 0)
		gs.thread = (unsigned int)idx;
	else if (gs.guest_view && gs.thread >= gdb_guest_count())
		gs.thread = 0;
	gs.cont = -1;
	ksnprintf(gs.stop, sizeof(gs.stop), "T%02xthread:%x;%s",
		  why == GDB_STOP_INT ? 2 : 5, gs.thread + 1, extra);
}

/*
 * Talk to gdb until it resumes.  A guest step returns the CPU that must
 * run it in @run_cpu (-1 otherwise); a vCPU that cannot be stepped is
 * reported stopped again at once.
 */
static enum gdb_action talk(int *run_cpu)
{
	enum gdb_action act;
	unsigned int idx;

	for (;;) {
		*run_cpu = -1;
		act = session();
		if (act != GDB_STEP || !gs.guest_view)
			return act;
		idx = gs.cont >= 0 ? (unsigned int)gs.cont : gs.thread;
		*run_cpu = gdb_guest_arm_step(idx);
		if (*run_cpu >= 0)
			return act;
		printk("tidal: gdb: vCPU %u %s: not stepped\n", idx,
		       *run_cpu == -2 ? "is halted or waits for SIPI"
				      : "cannot be reached");
		send_packet(gs.stop);
	}
}

/*
 * One CPU at a time talks to gdb: another that stops meanwhile (its own
 * breakpoint) waits here, and is held like the rest when the NMI comes.
 * It reports its stop once gdb lets everyone go.
 */
static void take_gdb(unsigned int me)
{
	int none = -1;

	while (!__atomic_compare_exchange_n(&gs.owner, &none, (int)me, false,
					    __ATOMIC_ACQ_REL,
					    __ATOMIC_ACQUIRE)) {
		none = -1;
		smp_nmi_poll();
		cpu_relax();
	}
}

/* The CPU stopped with @tf; hand it to gdb. */
static void enter(struct trap_frame *tf, enum gdb_stop_why why,
		  const char *extra)
{
	unsigned int me = percpu_self()->cpu_id;
	enum gdb_action act;
	int run_cpu;

	take_gdb(me);
	gs.self = me;
	__atomic_store_n(&gs.run_only, -1, __ATOMIC_RELEASE);
	gs.frames[gs.self] = tf;
	stop_others();
	gdb_guest_stopped();
	format_stop(why, extra);
	if (gs.attached)
		send_packet(gs.stop);
	act = talk(&run_cpu);
	if (act == GDB_KILL) {
		printk("tidal: gdb: killed by gdb\n");
		gs.attached = false;
		power_off(1);
	}
	if (act == GDB_DETACH) {
		remove_all_breakpoints();
		gs.attached = false;
		gs.no_ack = false;
		gs.guest_view = false;
	}
	tf->rflags &= ~RFLAGS_TF;
	if (act == GDB_STEP && !gs.guest_view)
		tf->rflags |= RFLAGS_TF;
	if (gs.resume_rf)
		tf->rflags |= RFLAGS_RF;
	gs.resume_rf = false;
	gs.frames[me] = NULL;
	gdb_guest_resync();
	if (run_cpu < 0) {
		release_others();
		__atomic_store_n(&gs.owner, -1, __ATOMIC_RELEASE);
		return;
	}
	/* A guest step: only its CPU goes; this one waits like the rest. */
	__atomic_store_n(&gs.run_only, run_cpu, __ATOMIC_RELEASE);
	__atomic_store_n(&gs.owner, -1, __ATOMIC_RELEASE);
	if ((unsigned int)run_cpu != me)
		hold(tf, me);
}

static bool on_breakpoint(struct trap_frame *tf)
{
	uint64_t at = tf->rip - 1;
	unsigned int me = percpu_self()->cpu_id;

	if (!gs.enabled)
		return false;
	if (gs.pending_valid[me]) { /* gdbstub_stop_here() */
		gs.pending_valid[me] = false;
		enter(tf, gs.pending[me],
		      gs.pending[me] == GDB_STOP_SWBREAK ? "swbreak:;" : "");
		return true;
	}
	if (sw_find(at, false)) {
		tf->rip = at; /* report the breakpoint's own address */
		enter(tf, GDB_STOP_TRAP, "swbreak:;");
		return true;
	}
	if (!gs.attached)
		return false; /* a stray int3 without gdb: fatal as before */
	enter(tf, GDB_STOP_TRAP, "");
	return true;
}

static bool on_debug(struct trap_frame *tf)
{
	uint64_t dr6 = read_dr6();
	char extra[48] = "";

	if (!gs.enabled)
		return false;
	write_dr(6, 0xffff0ff0);
	for (int i = 0; i < 4; i++) {
		if (!(dr6 & BIT(i)) || !gs.hw[i].used)
			continue;
		if (gs.hw[i].type == GDB_BP_HW) {
			ksnprintf(extra, sizeof(extra), "hwbreak:;");
			gs.resume_rf = true; /* a fault: do not hit it again */
		} else {
			ksnprintf(extra, sizeof(extra), "%swatch:%llx;",
				  gs.hw[i].type == GDB_WP_WRITE ? "" : "a",
				  (unsigned long long)gs.hw[i].addr);
		}
		break;
	}
	if (!extra[0] && !(dr6 & DR6_BS) && !gs.attached)
		return false;
	enter(tf, GDB_STOP_TRAP, extra);
	return true;
}

/* A VM exit sets DR7 to 0x400: load tidal's breakpoints again. */
void gdbstub_reload_debug_regs(void)
{
	for (int i = 0; i < 4; i++) {
		if (gs.hw[i].used) {
			hw_load();
			return;
		}
	}
}

void gdbstub_stop_here(enum gdb_stop_why why)
{
	if (!gs.enabled || (!gs.attached && why != GDB_STOP_TRAP))
		return;
	unsigned int me = percpu_self()->cpu_id;

	gs.pending[me] = why;
	gs.pending_valid[me] = true;
	__asm__ __volatile__("int3" ::: "memory");
}

bool gdbstub_guest_bp_at(uint64_t addr)
{
	return sw_find(addr, true) != NULL;
}

/* Ctrl-C from gdb while tidal runs (a poll, the UART has no interrupt). */
void gdbstub_poll(void)
{
	int c;

	if (!gs.enabled || !gs.attached)
		return;
	while ((c = uart_getc_nowait()) >= 0)
		if (gdb_rx_byte(&gs.rx, (uint8_t)c) == GDB_RX_INTERRUPT)
			gdbstub_stop_here(GDB_STOP_INT);
}

bool gdbstub_enabled(void)
{
	return gs.enabled;
}

bool gdbstub_owns_com1(void)
{
	return gs.enabled && gs.port == COM1;
}

void gdbstub_exit(int status)
{
	char w[8];

	if (!gs.enabled || !gs.attached)
		return;
	ksnprintf(w, sizeof(w), "W%02x", status & 0xff);
	send_packet(w);
	while (!(inb(gs.port + UART_LSR) & BIT(6)))
		cpu_relax();
	gs.attached = false;
}

void gdbstub_init(const char *cmdline)
{
	char val[8] = "com2";

	cmdline_get(cmdline, "gdb", val, sizeof(val));
	if (!strcmp(val, "off")) {
		if (cmdline_has(cmdline, "break"))
			pr_warn("tidal: gdb: break ignored with gdb=off\n");
		return;
	}
	if (strcmp(val, "com1") && strcmp(val, "com2")) {
		pr_warn("tidal: gdb=%s: want com1, com2 or off; stub off\n",
			val);
		return;
	}
	gs.port = strcmp(val, "com1") ? COM2 : COM1;
	if (!uart_present(gs.port)) {
		pr_info("tidal: gdb: no UART on %s, stub off\n", val);
		return;
	}
	if (gs.port == COM2)
		uart_init(gs.port);
	gdb_rx_reset(&gs.rx);
	gs.run_only = -1;
	gs.owner = -1;
	gs.cont = -1;
	trap_set_handler(1, on_debug);
	trap_set_handler(3, on_breakpoint);
	if (smp_add_nmi_handler(gdb_nmi))
		pr_warn("tidal: gdb: no NMI callback slot: other CPUs will "
			"not stop with this one\n");
	gs.enabled = true;
	pr_info("tidal: gdb: stub on %s\n", val);
	if (cmdline_has(cmdline, "break")) {
		pr_info("tidal: gdb: waiting for gdb on %s\n", val);
		gdbstub_stop_here(GDB_STOP_TRAP);
	}
}
