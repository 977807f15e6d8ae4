// SPDX-License-Identifier: MIT
/* The guest library: entry glue, console, printf, VMCALLs, start info. */
#include "guest.h"

#define COM1 TIDAL_PORT_COM1

static const struct tidal_start_info *g_si;

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

void com1_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void com1_putc(char c)
{
	/* Wait for the transmit holding register to empty (LSR bit 5). */
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

void puts_com1(const char *s)
{
	while (*s)
		com1_putc(*s++);
}

void debugcon_puts(const char *s)
{
	while (*s)
		outb(TIDAL_PORT_DEBUG, (uint8_t)*s++);
}

long hc_console_write(const char *s, unsigned long len)
{
	return vmcall3(TIDAL_HC_CONSOLE_WRITE, (unsigned long)(uintptr_t)s, len,
		       0);
}

long hc_get_counter(unsigned int id)
{
	return vmcall3(TIDAL_HC_GET_COUNTER, id, 0, 0);
}

void guest_exit(uint32_t status)
{
	vmcall3(TIDAL_HC_EXIT, status, 0, 0);
	outl(TIDAL_PORT_EXIT, status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* --- printf: %c %s %d %u %x %p with l/ll, width and '0' padding --- */

struct out {
	char *buf;
	size_t size, pos;
};

static void out_c(struct out *o, char c)
{
	if (o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

/*
 * Divide *v by a small base in place and return the remainder, using only
 * 32-bit divisions so that 32-bit guests need no libgcc helpers.
 */
static unsigned int div_small(unsigned long long *v, unsigned int base)
{
	uint32_t hi = (uint32_t)(*v >> 32), lo = (uint32_t)*v;
	uint32_t qhi = hi / base, rem = hi % base, qlo = 0;

	/* Long division of (rem:lo) one bit at a time; rem < base < 2^31. */
	for (int bit = 31; bit >= 0; bit--) {
		rem = (rem << 1) | ((lo >> bit) & 1);
		if (rem >= base) {
			rem -= base;
			qlo |= 1u << bit;
		}
	}
	*v = ((unsigned long long)qhi << 32) | qlo;
	return rem;
}

static void out_num(struct out *o, unsigned long long v, unsigned int base,
		    bool neg, int width, char pad)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[div_small(&v, base)];
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width-- > n)
		out_c(o, pad);
	while (n)
		out_c(o, tmp[--n]);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out_c(&o, *fmt);
			continue;
		}
		char pad = ' ';
		int width = 0, lng = 0;

		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		unsigned long long u;
		long long s;

		switch (*fmt) {
		case 'c':
			out_c(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (!str)
				str = "(null)";
			for (int n = (int)strlen(str); width > n; width--)
				out_c(&o, ' ');
			while (*str)
				out_c(&o, *str++);
			break;
		}
		case 'd':
			s = lng > 1 ? va_arg(ap, long long)
			    : lng   ? va_arg(ap, long)
				    : va_arg(ap, int);
			out_num(&o,
				s < 0 ? -(unsigned long long)s
				      : (unsigned long long)s,
				10, s < 0, width, pad);
			break;
		case 'u':
		case 'x':
			u = lng > 1 ? va_arg(ap, unsigned long long)
			    : lng   ? va_arg(ap, unsigned long)
				    : va_arg(ap, unsigned int);
			out_num(&o, u, *fmt == 'u' ? 10 : 16, false, width,
				pad);
			break;
		case 'p':
			out_c(&o, '0');
			out_c(&o, 'x');
			out_num(&o, (uintptr_t)va_arg(ap, void *), 16, false,
				width, pad);
			break;
		case '%':
			out_c(&o, '%');
			break;
		default:
			out_c(&o, '%');
			if (!*fmt)
				goto done;
			out_c(&o, *fmt);
		}
	}
done:
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return (int)o.pos;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	puts_com1(buf);
	return n;
}

/* --- start info --- */

/*
 * Check the block before trusting it: a guest library should not walk off
 * into memory because of a bad pointer.
 */
static const struct tidal_start_info *check_start_info(uint32_t magic,
						       uintptr_t pa)
{
	const struct tidal_start_info *si = (const void *)pa;

	if (magic != TIDAL_BOOT_MAGIC) {
		printf("guestlib: bad boot magic %x\n", magic);
		return NULL;
	}
	if (!pa || si->magic != TIDAL_START_MAGIC ||
	    si->version != TIDAL_ABI_VERSION || si->size > 4096 ||
	    si->mmap_offset + (uint64_t)si->mmap_count *
				      sizeof(struct tidal_mem_region) >
		    si->size ||
	    (uint64_t)si->cmdline_offset + si->cmdline_len + 1 > si->size ||
	    ((const char *)si)[si->cmdline_offset + si->cmdline_len]) {
		printf("guestlib: start info at %p is invalid\n", (void *)pa);
		return NULL;
	}
	return si;
}

const struct tidal_start_info *start_info(void)
{
	return g_si;
}

const struct tidal_mem_region *
start_info_mmap(const struct tidal_start_info *si)
{
	return (const void *)((const char *)si + si->mmap_offset);
}

const char *start_info_cmdline(const struct tidal_start_info *si)
{
	return (const char *)si + si->cmdline_offset;
}

uint64_t cmdline_num(const char *key, uint64_t dflt)
{
	const char *p = g_si ? start_info_cmdline(g_si) : "";
	size_t kl = strlen(key);

	while (*p) {
		while (*p == ' ')
			p++;
		const char *w = p;

		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - w) > kl && w[kl] == '=' &&
		    !memcmp(w, key, kl)) {
			uint64_t v = 0;

			for (w += kl + 1; *w >= '0' && *w <= '9'; w++)
				v = v * 10 + (uint64_t)(*w - '0');
			if (*w == 'K' || *w == 'k')
				v <<= 10;
			else if (*w == 'M' || *w == 'm')
				v <<= 20;
			return v;
		}
	}
	return dflt;
}

static const char *mem_type_name(uint32_t t)
{
	switch (t) {
	case TIDAL_MEM_USABLE:
		return "usable";
	case TIDAL_MEM_IMAGE:
		return "image";
	case TIDAL_MEM_TIDAL:
		return "tidal";
	}
	return "?";
}

void print_start_info(const struct tidal_start_info *si)
{
	const struct tidal_mem_region *m = start_info_mmap(si);

	printf("start info: %llu KiB RAM, flags %x, cmdline \"%s\"\n",
	       (unsigned long long)(si->mem_bytes >> 10), si->flags,
	       start_info_cmdline(si));
	for (uint32_t i = 0; i < si->mmap_count; i++)
		printf("  mem %08llx-%08llx %s\n",
		       (unsigned long long)m[i].base,
		       (unsigned long long)(m[i].base + m[i].size - 1),
		       mem_type_name(m[i].type));
}

/* --- vCPUs --- */

static volatile int g_ready; /* vCPU 0 checked the start info */

unsigned int guest_vcpu_index(void)
{
	uint32_t r[4];

	cpuid(1, 0, r);
	return r[1] >> 24;
}

unsigned int guest_nr_vcpus(void)
{
	return g_si && g_si->nr_vcpus ? g_si->nr_vcpus : 1;
}

/* The default for the other vCPUs: do nothing until the VM ends. */
__attribute__((weak)) void guest_vcpu_main(unsigned int index,
					   const struct tidal_start_info *si)
{
	(void)index;
	(void)si;
}

void guest_entry(uint32_t magic, uintptr_t info, uint32_t index);

void guest_entry(uint32_t magic, uintptr_t info, uint32_t index)
{
	int status;

	if (index != 0) {
		while (!__atomic_load_n(&g_ready, __ATOMIC_ACQUIRE))
			__builtin_ia32_pause();
		guest_vcpu_main(index, g_si);
		for (;;)
			__builtin_ia32_pause();
	}
	com1_init();
	g_si = check_start_info(magic, info);
	if (!g_si)
		guest_exit(100);
	__atomic_store_n(&g_ready, 1, __ATOMIC_RELEASE);
	status = guest_main(g_si);
	guest_exit((uint32_t)status);
}
