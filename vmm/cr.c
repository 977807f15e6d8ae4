// SPDX-License-Identifier: MIT
/*
 * CR0, CR4 and EFER as the guest sees them.  tidal owns every bit of CR0
 * and CR4 (the guest/host masks are all ones), so each MOV to CR0/CR4,
 * CLTS and LMSW exits here; the checks are tables of the SDM's #GP
 * conditions (cr0_rules, cr4_rules, efer_rules), pure and host-tested.
 * An accepted value goes to the read shadow as written and to the VMCS
 * guest field with VMX's fixed bits applied; EFER.LMA and the "IA-32e mode
 * guest" entry control follow CR0.PG and EFER.LME, and PAE paging loads
 * the PDPTEs, so every guest state the next VM entry checks is valid.
 * CR8 (64-bit mode) is the local APIC's TPR: it exits here when the local
 * APIC is emulated, and goes to the TPR shadow under APIC virtualization;
 * it never reaches the physical CPU's TPR.
 */
#include "vmm/exits.h"
#include "vmm/vmcs_io.h"
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmx_caps.h"

#define CR0_CD	      BIT(30)
#define CR0_NW	      BIT(29)
#define CR4_PCIDE     BIT(17)
#define CR4_LA57      BIT(12)
#define CR4_SMXE      BIT(14)
#define EFER_ALLOWED  (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define PDPTE_RSVD_LO 0x1e6ull /* bits 2:1 and 8:5 */

/* MAXPHYADDR: bits above it are reserved in CR3 and PDPTEs. */
static unsigned int phys_bits(void)
{
	unsigned int n = cpuid_count(0x80000008u, 0).eax & 0xff;

	return n >= 36 && n <= 52 ? n : 36;
}

struct cr_rule {
	bool (*faults)(const struct cr_state *s, uint64_t val);
	const char *why;
};

static bool cr0_high(const struct cr_state *s, uint64_t v)
{
	return v >> 32;
}

static bool cr0_pg_no_pe(const struct cr_state *s, uint64_t v)
{
	return (v & X86_CR0_PG) && !(v & X86_CR0_PE);
}

static bool cr0_nw_no_cd(const struct cr_state *s, uint64_t v)
{
	return (v & CR0_NW) && !(v & CR0_CD);
}

/* Paging on with LME needs PAE: IA-32e mode has no other format. */
static bool cr0_lme_no_pae(const struct cr_state *s, uint64_t v)
{
	return (v & X86_CR0_PG) && !(s->cr0 & X86_CR0_PG) &&
	       (s->efer & EFER_LME) && !(s->cr4 & X86_CR4_PAE);
}

/* Paging off from 64-bit code. */
static bool cr0_nopg_64(const struct cr_state *s, uint64_t v)
{
	return !(v & X86_CR0_PG) && (s->efer & EFER_LMA) && s->cs_l;
}

/* Paging off with PCIDs on. */
static bool cr0_nopg_pcide(const struct cr_state *s, uint64_t v)
{
	return !(v & X86_CR0_PG) && (s->cr4 & CR4_PCIDE);
}

static const struct cr_rule cr0_rules[] = {
	{cr0_high, "bits 63:32 set"},
	{cr0_pg_no_pe, "PG without PE"},
	{cr0_nw_no_cd, "NW without CD"},
	{cr0_lme_no_pae, "PG with LME but no PAE"},
	{cr0_nopg_64, "PG cleared in 64-bit mode"},
	{cr0_nopg_pcide, "PG cleared with CR4.PCIDE"},
};

static bool cr4_no_pae_lma(const struct cr_state *s, uint64_t v)
{
	return !(v & X86_CR4_PAE) && (s->efer & EFER_LMA);
}

static bool cr4_pcide_no_lma(const struct cr_state *s, uint64_t v)
{
	return (v & CR4_PCIDE) && !(s->efer & EFER_LMA);
}

static bool cr4_pcide_cr3(const struct cr_state *s, uint64_t v)
{
	return (v & CR4_PCIDE) && !(s->cr4 & CR4_PCIDE) && (s->cr3 & 0xfff);
}

static bool cr4_la57_lma(const struct cr_state *s, uint64_t v)
{
	return ((v ^ s->cr4) & CR4_LA57) && (s->efer & EFER_LMA);
}

static const struct cr_rule cr4_rules[] = {
	{cr4_no_pae_lma, "PAE cleared in IA-32e mode"},
	{cr4_pcide_no_lma, "PCIDE outside IA-32e mode"},
	{cr4_pcide_cr3, "PCIDE set with CR3[11:0] not 0"},
	{cr4_la57_lma, "LA57 changed in IA-32e mode"},
};

static bool efer_reserved(const struct cr_state *s, uint64_t v)
{
	return v & ~EFER_ALLOWED;
}

/* LME may change only while paging is off. */
static bool efer_lme_paging(const struct cr_state *s, uint64_t v)
{
	return ((v ^ s->efer) & EFER_LME) && (s->cr0 & X86_CR0_PG);
}

static const struct cr_rule efer_rules[] = {
	{efer_reserved, "reserved bit set"},
	{efer_lme_paging, "LME changed with paging on"},
};

static enum cr_verdict run_rules(const struct cr_rule *r, size_t n,
				 const struct cr_state *s, uint64_t val)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].faults(s, val))
			return CR_GP;
	return CR_OK;
}

enum cr_verdict cr0_check(const struct cr_state *s, uint64_t val)
{
	return run_rules(cr0_rules, ARRAY_SIZE(cr0_rules), s, val);
}

enum cr_verdict cr4_check(const struct cr_state *s, uint64_t val,
			  uint64_t cr4_allowed)
{
	if (val & ~cr4_allowed)
		return CR_GP;
	return run_rules(cr4_rules, ARRAY_SIZE(cr4_rules), s, val);
}

enum cr_verdict efer_check(const struct cr_state *s, uint64_t val)
{
	return run_rules(efer_rules, ARRAY_SIZE(efer_rules), s, val);
}

uint64_t cr4_guest_allowed(void)
{
	/* What VMX lets be 1, minus what the guest may never have. */
	return vmx_caps.cr4_fixed1 & 0xffffffffull &
	       ~(uint64_t)(X86_CR4_VMXE | CR4_SMXE);
}

static void read_state(struct cr_state *s)
{
	s->cr0 = vmcs_read(VMCS_CR0_SHADOW);
	s->cr3 = vmcs_read(VMCS_GUEST_CR3);
	s->cr4 = vmcs_read(VMCS_CR4_SHADOW);
	s->efer = vmcs_read(VMCS_GUEST_EFER);
	s->cs_l = vmcs_read(VMCS_GUEST_CS_AR) & BIT(13);
}

/*
 * PAE paging outside IA-32e mode: with EPT the CPU takes the four PDPTEs
 * from the VMCS at entry, so load them from the guest's CR3 as MOV to CR
 * would, #GP when one has reserved bits set.
 */
static bool load_pdptes(struct vcpu *v, const struct cr_state *s)
{
	uint64_t pdpte[4];
	uint64_t addr_rsvd = ~0ull << phys_bits();

	if (!(s->cr0 & X86_CR0_PG) || !(s->cr4 & X86_CR4_PAE) ||
	    (s->efer & EFER_LMA))
		return true;
	if (!guest_read_phys(v, s->cr3 & 0xffffffe0ull, pdpte, sizeof(pdpte)))
		return false;
	for (unsigned int i = 0; i < 4; i++)
		if ((pdpte[i] & 1) && (pdpte[i] & (PDPTE_RSVD_LO | addr_rsvd)))
			return false;
	for (unsigned int i = 0; i < 4; i++)
		vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
	return true;
}

/*
 * Make the VMCS follow the (already checked) state: fixed bits, LMA and
 * the IA-32e entry control.  False when the PDPTEs are bad (#GP; nothing
 * was changed).
 */
static bool commit(struct vcpu *v, struct cr_state *s)
{
	const struct vmx_caps *c = &vmx_caps;
	uint64_t entry = vmcs_read(VMCS_ENTRY_CONTROLS);

	if ((s->cr0 & X86_CR0_PG) && (s->efer & EFER_LME))
		s->efer |= EFER_LMA;
	else
		s->efer &= ~EFER_LMA;
	if (!load_pdptes(v, s))
		return false;
	if (s->efer & EFER_LMA)
		entry |= ENTRY_IA32E;
	else
		entry &= ~(uint64_t)ENTRY_IA32E;
	vmcs_write(VMCS_ENTRY_CONTROLS, entry);
	vmcs_write(VMCS_GUEST_EFER, s->efer);
	vmcs_write(VMCS_CR0_SHADOW, s->cr0);
	vmcs_write(VMCS_GUEST_CR0,
		   vmx_fix_cr(s->cr0, vmx_guest_cr0_fixed0(c), c->cr0_fixed1));
	vmcs_write(VMCS_CR4_SHADOW, s->cr4);
	vmcs_write(VMCS_GUEST_CR4,
		   vmx_fix_cr(s->cr4, c->cr4_fixed0, c->cr4_fixed1));
	return true;
}

static enum exit_action guest_cr0_write(struct vcpu *v, uint64_t val)
{
	struct cr_state s;

	read_state(&s);
	/* ET is fixed to 1 on every CPU tidal runs on. */
	val |= BIT(4);
	if (cr0_check(&s, val) != CR_OK)
		goto gp;
	if (!vmx_caps.unrestricted &&
	    (!(val & X86_CR0_PG) || !(val & X86_CR0_PE))) {
		vm_stop(v->vm, "guest turned off protection or paging, which "
			       "needs unrestricted guest support");
		return EXIT_STOP;
	}
	s.cr0 = val;
	if (commit(v, &s))
		return EXIT_SKIP;
gp:
	vcpu_inject_gp(v);
	return EXIT_RESUME;
}

static enum exit_action guest_cr4_write(struct vcpu *v, uint64_t val)
{
	struct cr_state s;

	read_state(&s);
	if (cr4_check(&s, val, cr4_guest_allowed()) != CR_OK)
		goto gp;
	s.cr4 = val;
	if (commit(v, &s))
		return EXIT_SKIP;
gp:
	vcpu_inject_gp(v);
	return EXIT_RESUME;
}

bool guest_write_efer(struct vcpu *v, uint64_t val)
{
	struct cr_state s;

	read_state(&s);
	if (efer_check(&s, val) != CR_OK)
		return false;
	/* LMA is the CPU's to set: keep the current one, commit() fixes. */
	s.efer = (val & ~EFER_LMA) | (s.efer & EFER_LMA);
	return commit(v, &s);
}

static uint64_t *gpr(struct vcpu *v, unsigned int n)
{
	uint64_t *regs[16] = {
		&v->regs.rax, &v->regs.rcx, &v->regs.rdx, &v->regs.rbx,
		NULL,	      &v->regs.rbp, &v->regs.rsi, &v->regs.rdi,
		&v->regs.r8,  &v->regs.r9,  &v->regs.r10, &v->regs.r11,
		&v->regs.r12, &v->regs.r13, &v->regs.r14, &v->regs.r15,
	};

	return regs[n & 15];
}

/* MOV CR uses all 64 bits only in 64-bit code. */
static uint64_t read_gpr(struct vcpu *v, unsigned int n)
{
	uint64_t val = n == 4 ? vmcs_read(VMCS_GUEST_RSP) : *gpr(v, n);

	return vcpu_in_64bit_mode() ? val : (uint32_t)val;
}

static void write_gpr(struct vcpu *v, unsigned int n, uint64_t val)
{
	if (!vcpu_in_64bit_mode())
		val = (uint32_t)val;
	if (n == 4)
		vmcs_write(VMCS_GUEST_RSP, val);
	else
		*gpr(v, n) = val;
}

enum exit_action handle_cr(struct vcpu *v)
{
	uint64_t qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
	unsigned int cr = qual & 15, type = (qual >> 4) & 3;
	unsigned int reg = (qual >> 8) & 15;
	uint64_t cr0 = vmcs_read(VMCS_CR0_SHADOW);

	switch (type) {
	case 0: /* MOV to CR */
		if (cr == 0)
			return guest_cr0_write(v, read_gpr(v, reg));
		if (cr == 4)
			return guest_cr4_write(v, read_gpr(v, reg));
		if (cr == 8) {
			/* CR8 is the local APIC's TPR (bits 7:4). */
			uint64_t val = read_gpr(v, reg);

			if (val & ~0xfull)
				break;
			vlapic_set_reg(&v->lapic, LAPIC_TPR, (uint32_t)val << 4);
			return EXIT_SKIP;
		}
		if (cr == 3) {
			/* Only when CR3-load exiting is forced on. */
			uint64_t val = read_gpr(v, reg);

			if (val & ~(~0ull >> (64 - phys_bits())) & ~BIT(63))
				break;
			vmcs_write(VMCS_GUEST_CR3, val & ~BIT(63));
			return EXIT_SKIP;
		}
		break;
	case 1: /* MOV from CR3 (if forced on) or CR8 */
		if (cr == 8) {
			write_gpr(v, reg,
				  (vlapic_reg(&v->lapic, LAPIC_TPR) >> 4) & 0xf);
			return EXIT_SKIP;
		}
		if (cr == 3) {
			write_gpr(v, reg, vmcs_read(VMCS_GUEST_CR3));
			return EXIT_SKIP;
		}
		break;
	case 2: /* CLTS */
		return guest_cr0_write(v, cr0 & ~X86_CR0_TS);
	case 3: { /* LMSW: bits 3:0, and it cannot clear PE */
		uint64_t src = (qual >> 16) & 0xf;

		return guest_cr0_write(v, (cr0 & ~0xeull) | (src & 0xe) |
						  ((cr0 | src) & 1));
	}
	}
	vcpu_inject_gp(v);
	return EXIT_RESUME;
}
