// SPDX-License-Identifier: MIT
/*
 * SMP bring-up and the CPU interface of smp.h; the design is described in
 * docs/boot.md ("SMP bring-up").
 *
 * The boot CPU starts the APs one at a time: it fills the trampoline's
 * variables (boot/trampoline.S), sends INIT-SIPI-SIPI and waits for the
 * AP to say it is alive, then for it to finish setting itself up (ready)
 * or to refuse itself (different VMX capabilities, VMXON failed).  Only
 * ready CPUs get a CPU number, so numbers stay dense.
 */
#include "arch/x86/smp.h"
#include "arch/x86/acpi.h"
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/madt.h"
#include "arch/x86/percpu.h"
#include "arch/x86/power.h"
#include "arch/x86/tsc.h"
#include "arch/x86/vmx/vmx.h"
#include "boot/bootinfo.h"
#include "lib/cmdline.h"
#include "lib/printf.h"
#include "lib/string.h"
#include "mm/paging.h"

#define AP_STACK_SIZE	      (16 * 1024)
#define AP_ALIVE_TIMEOUT      (200 * 1000)	 /* us after the second SIPI */
#define AP_READY_TIMEOUT      (10 * 1000 * 1000) /* us to set itself up */
#define MEMBARRIER_TIMEOUT_NS (5ull * 1000 * 1000 * 1000)

enum ap_state { AP_WAITING, AP_ALIVE, AP_READY, AP_REFUSED };

struct smp_cpu {
	uint32_t apic_id;
	struct cpu_tables *tables;
	void (*fn)(void *); /* work from smp_start_on(), NULL when none */
	void *arg;
	unsigned int busy;
	uint64_t mb_ack; /* last membarrier round this CPU acknowledged */
	uint64_t kicks;	 /* VEC_IPI_KICK taken (only this CPU writes it) */
} __aligned(64);

static struct smp_cpu cpus[TIDAL_MAX_CPUS];
static unsigned int nr_online = 1;
static bool apic_ok, vmx_usable, vmx_all_on;
static uint64_t bsp_cr0, bsp_cr4, bsp_pat;

/* Membarrier rounds started so far (see platform_membarrier()). */
static uint64_t mb_seq;

static bool (*nmi_handlers[SMP_MAX_NMI_HANDLERS])(struct trap_frame *tf);

/* Handshake with the AP being started. */
static unsigned int ap_boot_cpu;
static volatile int ap_state;

extern char ap_trampoline_start[], ap_trampoline_end[];
extern uint64_t ap_boot_stack;
extern uint32_t ap_boot_cr3, ap_boot_efer;

void ap_main(void);

unsigned int smp_cpus_online(void)
{
	return __atomic_load_n(&nr_online, __ATOMIC_ACQUIRE);
}

uint32_t smp_apic_id(unsigned int cpu)
{
	return cpu < smp_cpus_online() ? cpus[cpu].apic_id : 0;
}

bool smp_vmx_on(void)
{
	return vmx_all_on;
}

int smp_start_on(unsigned int cpu, void (*fn)(void *), void *arg)
{
	struct smp_cpu *c = &cpus[cpu];
	unsigned int idle = 0;

	if (cpu == 0 || cpu >= smp_cpus_online() || !fn ||
	    cpu == platform_cpu_id())
		return -1;
	if (!__atomic_compare_exchange_n(&c->busy, &idle, 1, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -1;
	c->arg = arg;
	__atomic_store_n(&c->fn, fn, __ATOMIC_RELEASE);
	smp_send_ipi(cpu, VEC_IPI_CALL);
	return 0;
}

bool smp_cpu_busy(unsigned int cpu)
{
	return cpu < TIDAL_MAX_CPUS &&
	       __atomic_load_n(&cpus[cpu].busy, __ATOMIC_ACQUIRE);
}

static void send(unsigned int cpu, uint32_t mode, uint8_t vector)
{
	unsigned long flags;

	if (cpu >= smp_cpus_online() || !apic_ok)
		return;
	/* The ICR is two registers in xAPIC mode: no interrupt between. */
	flags = platform_irq_save();
	if (!apic_send(cpus[cpu].apic_id, mode, vector))
		pr_warn("tidal: smp: IPI to CPU %u not accepted\n", cpu);
	platform_irq_restore(flags);
}

void smp_send_ipi(unsigned int cpu, uint8_t vector)
{
	send(cpu, APIC_DM_FIXED, vector);
}

void smp_send_nmi(unsigned int cpu)
{
	send(cpu, APIC_DM_NMI, 0);
}

int smp_add_nmi_handler(bool (*fn)(struct trap_frame *tf))
{
	for (unsigned int i = 0; i < SMP_MAX_NMI_HANDLERS; i++) {
		bool (*none)(struct trap_frame *) = NULL;

		if (__atomic_compare_exchange_n(&nmi_handlers[i], &none, fn,
						false, __ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return 0;
	}
	return -1;
}

void smp_nmi_poll(void)
{
	struct smp_cpu *me = &cpus[platform_cpu_id()];
	uint64_t seq;

	/* The full barrier the membarrier caller waits for, then the ack. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	seq = __atomic_load_n(&mb_seq, __ATOMIC_SEQ_CST);
	if (seq != me->mb_ack)
		__atomic_store_n(&me->mb_ack, seq, __ATOMIC_RELEASE);
}

void smp_nmi_service(struct trap_frame *tf)
{
	smp_nmi_poll();
	for (unsigned int i = 0; i < SMP_MAX_NMI_HANDLERS; i++) {
		bool (*fn)(struct trap_frame *) =
			__atomic_load_n(&nmi_handlers[i], __ATOMIC_ACQUIRE);

		if (fn)
			fn(tf);
	}
}

/* IRET to the next instruction: the one way to end NMI blocking. */
static void nmi_unblock(void)
{
	__asm__ __volatile__("movq %%rsp, %%rax\n\t"
			     "pushq %[ss]\n\t"
			     "pushq %%rax\n\t"
			     "pushfq\n\t"
			     "pushq %[cs]\n\t"
			     "leaq 1f(%%rip), %%rax\n\t"
			     "pushq %%rax\n\t"
			     "iretq\n"
			     "1:"
			     :
			     : [ss] "i"(GDT_DATA), [cs] "i"(GDT_CODE)
			     : "rax", "memory", "cc");
}

void smp_nmi_vmexit(void)
{
	smp_nmi_service(NULL);
	nmi_unblock();
}

void smp_service_vector(uint8_t vector)
{
	if (vector == VEC_IPI_KICK)
		cpus[platform_cpu_id()].kicks++;
	if (vector != VEC_SPURIOUS && apic_ok)
		apic_eoi();
}

uint64_t smp_kicks_taken(void)
{
	return cpus[platform_cpu_id()].kicks;
}

static bool nmi_trap(struct trap_frame *tf)
{
	smp_nmi_service(tf);
	return true;
}

static bool ipi_trap(struct trap_frame *tf)
{
	smp_service_vector((uint8_t)tf->vector);
	return true;
}

/*
 * The hypervisor's sys_membarrier: every other online CPU executes a full
 * barrier before this returns.  By NMI, so it cannot deadlock on a CPU
 * that spins with interrupts masked (e.g. on a lock the caller holds):
 * NMIs are taken regardless of IF, and the handler takes no lock.  A CPU
 * in guest mode takes the NMI as a VM exit (NMI exiting is a required
 * control) and the vCPU loop calls smp_nmi_vmexit().  NMIs that arrive
 * while one is pending merge, which is harmless: the handler acknowledges
 * the latest round it sees, which covers every round started before it.
 */
bool platform_membarrier_init(void)
{
	return apic_ok || smp_cpus_online() == 1;
}

void platform_membarrier(void)
{
	unsigned int n = smp_cpus_online(), self = platform_cpu_id();
	uint64_t seq = __atomic_add_fetch(&mb_seq, 1, __ATOMIC_SEQ_CST);
	uint64_t start = tsc_ns();

	for (unsigned int cpu = 0; cpu < n; cpu++) {
		if (cpu != self)
			smp_send_nmi(cpu);
	}
	for (unsigned int cpu = 0; cpu < n; cpu++) {
		if (cpu == self)
			continue;
		while (__atomic_load_n(&cpus[cpu].mb_ack, __ATOMIC_ACQUIRE) <
		       seq) {
			/* Answer rounds of others while we wait. */
			smp_nmi_poll();
			cpu_relax();
			if (tsc_ns() - start > MEMBARRIER_TIMEOUT_NS)
				panic("membarrier: CPU %u (APIC ID %u) does "
				      "not answer NMIs",
				      cpu, cpus[cpu].apic_id);
		}
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* ---- APs ---- */

static void __noreturn ap_idle(struct smp_cpu *c)
{
	for (;;) {
		void (*fn)(void *);

		__asm__ __volatile__("cli" ::: "memory");
		fn = __atomic_load_n(&c->fn, __ATOMIC_ACQUIRE);
		if (fn) {
			fn(c->arg);
			__asm__ __volatile__("cli" ::: "memory");
			__atomic_store_n(&c->fn, NULL, __ATOMIC_RELAXED);
			__atomic_store_n(&c->busy, 0, __ATOMIC_RELEASE);
			continue;
		}
		/* STI's shadow: an IPI sent after the check wakes the HLT. */
		__asm__ __volatile__("sti; hlt" ::: "memory");
	}
}

static void __noreturn ap_refuse(void)
{
	__atomic_store_n(&ap_state, AP_REFUSED, __ATOMIC_RELEASE);
	cpu_halt_forever();
}

/* VMX on this AP, the same as on the boot CPU; false after saying why. */
static bool ap_vmx_on(unsigned int cpu, uint32_t id)
{
	const char *what;

	if (!vmx_usable)
		return true;
	what = vmx_cpu_check();
	if (what) {
		pr_err("tidal: cpus: CPU with APIC ID %u refused: its VMX "
		       "capabilities differ from the boot CPU's (%s); left "
		       "offline\n",
		       id, what);
		return false;
	}
	if (vmx_cpu_on()) {
		pr_err("tidal: cpus: CPU with APIC ID %u refused: VMXON "
		       "failed; left offline\n",
		       id);
		return false;
	}
	(void)cpu;
	return true;
}

void ap_main(void)
{
	unsigned int cpu = ap_boot_cpu;
	struct percpu *p = &percpu_area[cpu];
	struct smp_cpu *c = &cpus[cpu];

	wrmsr(MSR_GS_BASE, (uintptr_t)p);
	__atomic_store_n(&ap_state, AP_ALIVE, __ATOMIC_RELEASE);
	write_cr0(bsp_cr0);
	write_cr4(bsp_cr4);
	wrmsr(MSR_IA32_PAT, bsp_pat);
	desc_init_cpu(c->tables);
	apic_init_ap();
	if (apic_id() != c->apic_id) {
		pr_err("tidal: cpus: CPU started for APIC ID %u reports APIC "
		       "ID %u; left offline\n",
		       c->apic_id, apic_id());
		ap_refuse();
	}
	if (!ap_vmx_on(cpu, c->apic_id))
		ap_refuse();
	__atomic_store_n(&ap_state, AP_READY, __ATOMIC_RELEASE);
	ap_idle(c);
}

/* Wait up to @us for the AP to get past @state; true if it did. */
static bool wait_state(int state, uint64_t us)
{
	uint64_t end = tsc_ns() + us * 1000;

	while (__atomic_load_n(&ap_state, __ATOMIC_ACQUIRE) == state) {
		if (tsc_ns() >= end)
			return false;
		cpu_relax();
	}
	return true;
}

/* INIT-SIPI-SIPI with the SDM's delays; true once the AP is alive. */
static bool wake_ap(uint32_t id, uint8_t sipi_page)
{
	if (!apic_send(id, APIC_DM_INIT, 0))
		return false;
	tsc_delay_us(10000);
	apic_send_init_deassert(id);
	for (int i = 0; i < 2; i++) {
		if (!apic_send(id, APIC_DM_SIPI, sipi_page))
			return false;
		if (wait_state(AP_WAITING, i ? AP_ALIVE_TIMEOUT : 200))
			return true;
	}
	return false;
}

/* Start the AP with APIC ID @id as CPU nr_online; true if it came up. */
static bool start_ap(uint32_t id, uint8_t sipi_page)
{
	unsigned int cpu = nr_online;
	struct smp_cpu *c = &cpus[cpu];
	void *stack;

	if (!c->tables)
		c->tables = desc_alloc_cpu();
	stack = paging_alloc_stack(AP_STACK_SIZE);
	if (!c->tables || !stack) {
		pr_err("tidal: cpus: out of memory for CPU with APIC ID %u\n",
		       id);
		return false;
	}
	c->apic_id = id;
	percpu_area[cpu].self = &percpu_area[cpu];
	percpu_area[cpu].cpu_id = cpu;
	ap_boot_cpu = cpu;
	ap_boot_stack = (uintptr_t)stack;
	__atomic_store_n(&ap_state, AP_WAITING, __ATOMIC_SEQ_CST);

	if (!wake_ap(id, sipi_page)) {
		pr_err("tidal: cpus: CPU with APIC ID %u did not answer "
		       "INIT-SIPI-SIPI; left offline\n",
		       id);
		apic_send(id, APIC_DM_INIT, 0); /* back to wait-for-SIPI */
		return false;
	}
	if (!wait_state(AP_ALIVE, AP_READY_TIMEOUT)) {
		pr_err("tidal: cpus: CPU with APIC ID %u started but did not "
		       "finish setting up; left offline\n",
		       id);
		apic_send(id, APIC_DM_INIT, 0);
		return false;
	}
	if (ap_state != AP_READY) {
		apic_send(id, APIC_DM_INIT, 0);
		return false;
	}
	percpu_online = cpu + 1;
	__atomic_store_n(&nr_online, cpu + 1, __ATOMIC_RELEASE);
	return true;
}

/*
 * A free page below 1 MiB for the trampoline: usable RAM (which the frame
 * allocator never hands out below 1 MiB), not the information block,
 * not page 0.  Returns its page number (the SIPI vector), 0 if none.
 */
static uint8_t trampoline_page(const struct boot_info *bi)
{
	uint64_t best = 0;

	for (unsigned int i = 0; i < bi->mmap_count; i++) {
		const struct boot_mem_range *m = &bi->mmap[i];
		uint64_t lo =
			ALIGN_UP(MAX(m->base, (uint64_t)PAGE_SIZE), PAGE_SIZE);
		uint64_t hi = MIN(m->base + m->len, 0x9f000ull);

		if (m->type != BOOT_MEM_USABLE)
			continue;
		for (uint64_t pg = lo; pg + PAGE_SIZE <= hi; pg += PAGE_SIZE) {
			if (pg < bi->mbi_phys + bi->mbi_size &&
			    bi->mbi_phys < pg + PAGE_SIZE)
				continue;
			best = MAX(best, pg);
		}
	}
	return (uint8_t)(best >> 12);
}

/* "cpus=N": at most N CPUs (N >= 1).  0 when absent. */
static unsigned int cpus_option(const char *cmdline)
{
	char val[16];
	unsigned long n = 0;
	const char *p = val;

	if (!cmdline_get(cmdline, "cpus", val, sizeof(val)))
		return 0;
	while (*p >= '0' && *p <= '9' && n <= TIDAL_MAX_CPUS)
		n = n * 10 + (unsigned long)(*p++ - '0');
	if (p == val || *p || n < 1 || n > TIDAL_MAX_CPUS) {
		pr_err("tidal: cpus=%s: want a number of CPUs from 1 to %u\n",
		       val, TIDAL_MAX_CPUS);
		power_off(1);
	}
	return (unsigned int)n;
}

static void print_online(void)
{
	char ids[TIDAL_MAX_CPUS * 11 + 1];
	size_t len = 0;

	ids[0] = '\0';
	for (unsigned int i = 0; i < nr_online; i++)
		len += (size_t)ksnprintf(ids + len, sizeof(ids) - len, "%s%u",
					 i ? " " : "", cpus[i].apic_id);
	pr_info("tidal: cpus: %u online (APIC IDs %s)\n", nr_online, ids);
}

static void bsp_vmx_on(void)
{
	if (!cpu_has_vmx() || vmx_init())
		return;
	vmx_usable = vmx_cpu_on() == 0;
}

/* The MADT's CPUs, or NULL after one line saying why not. */
static const struct madt_info *read_madt(void)
{
	static struct madt_info mi;
	const struct acpi_header *t = acpi_find("APIC");
	char err[96];

	if (!t) {
		pr_info("tidal: cpus: no ACPI MADT: using the boot CPU "
			"only\n");
		return NULL;
	}
	if (madt_parse(t, t->length, &mi, err, sizeof(err))) {
		pr_warn("tidal: cpus: ACPI MADT unusable (%s): using the "
			"boot CPU only\n",
			err);
		return NULL;
	}
	return &mi;
}

/*
 * "test=smp-refuse" (boot tests): the second AP's VMX check sees its
 * capabilities without 1 GiB EPT pages, so it must be refused by name.
 */
static bool test_refuse(const char *cmdline)
{
	char what[16];

	return cmdline_get(cmdline, "test", what, sizeof(what)) &&
	       !strcmp(what, "smp-refuse");
}

static void start_aps(const struct boot_info *bi, const struct madt_info *mi,
		      unsigned int limit)
{
	bool refuse = test_refuse(bi->cmdline);
	unsigned int tried = 0;
	uint8_t page = trampoline_page(bi);
	size_t len = (size_t)(ap_trampoline_end - ap_trampoline_start);

	if (!page) {
		pr_warn("tidal: cpus: no free page below 1 MiB for the AP "
			"trampoline: using the boot CPU only\n");
		return;
	}
	memcpy(phys_to_virt((phys_addr_t)page << 12), ap_trampoline_start, len);
	ap_boot_cr3 = (uint32_t)paging_root();
	ap_boot_efer = (uint32_t)(rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE));
	bsp_cr0 = read_cr0();
	bsp_cr4 = read_cr4() & ~(uint64_t)X86_CR4_VMXE;
	bsp_pat = rdmsr(MSR_IA32_PAT);
	for (unsigned int i = 0; i < mi->ncpus && nr_online < limit; i++) {
		if (mi->apic_id[i] == cpus[0].apic_id)
			continue;
		vmx_test_hide_ept_1g(refuse && ++tried == 2);
		start_ap(mi->apic_id[i], page);
	}
	vmx_test_hide_ept_1g(false);
}

void smp_init(const struct boot_info *bi)
{
	unsigned int limit = cpus_option(bi->cmdline);
	const struct madt_info *mi = read_madt();

	if (!limit || limit > TIDAL_MAX_CPUS)
		limit = TIDAL_MAX_CPUS;
	trap_set_handler(2, nmi_trap);
	trap_set_handler(VEC_IPI_KICK, ipi_trap);
	trap_set_handler(VEC_IPI_CALL, ipi_trap);
	trap_set_handler(VEC_WAKE_TIMER, ipi_trap);
	trap_set_handler(VEC_SPURIOUS, ipi_trap);
	bsp_vmx_on();
	cpus[0].apic_id = cpuid(1).ebx >> 24; /* until the APIC says */
	if (mi && !apic_init_boot(mi->lapic_base)) {
		apic_ok = true;
		cpus[0].apic_id = apic_id();
		if (mi->ncpus > TIDAL_MAX_CPUS)
			pr_warn("tidal: cpus: the MADT lists %u CPUs; tidal "
				"uses at most %u\n",
				mi->ncpus, TIDAL_MAX_CPUS);
		if (limit > 1)
			start_aps(bi, mi, limit);
	}
	vmx_all_on = vmx_usable;
	print_online();
}
