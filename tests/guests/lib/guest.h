/* SPDX-License-Identifier: MIT */
/*
 * The tiny library every test guest links: port I/O, COM1 output, a small
 * printf, VMCALLs and start-info parsing.  Freestanding; builds for i386
 * and x86-64 alike.
 */
#ifndef TIDAL_GUEST_H
#define TIDAL_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_abi.h"

#define __noreturn __attribute__((noreturn))

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline long vmcall3(unsigned long nr, unsigned long a, unsigned long b,
			   unsigned long c)
{
	long ret;

	__asm__ volatile("vmcall"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c)
			 : "memory");
	return ret;
}

/* Console: COM1 (polled), used by printf. */
void com1_init(void);
void com1_putc(char c);
void puts_com1(const char *s);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Other output paths, for tests that want to cover them. */
void debugcon_puts(const char *s); /* port 0xE9 */
long hc_console_write(const char *s, unsigned long len);

/* Exit through VMCALL; falls back to the exit port, then halts. */
void guest_exit(uint32_t status) __noreturn;
long hc_get_counter(unsigned int id);

/* Start info: validated copy of what tidal passed (NULL when invalid). */
const struct tidal_start_info *start_info(void);
const struct tidal_mem_region *
start_info_mmap(const struct tidal_start_info *si);
const char *start_info_cmdline(const struct tidal_start_info *si);
/* Value of "key=" in the command line as a number, or dflt. */
uint64_t cmdline_num(const char *key, uint64_t dflt);
void print_start_info(const struct tidal_start_info *si);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
size_t strlen(const char *s);
int memcmp(const void *a, const void *b, size_t n);

/* Each guest defines this; its return value is the exit status. */
int guest_main(const struct tidal_start_info *si);

/*
 * More vCPUs (vcpus= on tidal's command line): every vCPU starts at the
 * entry point with a stack of its own (at most GUEST_MAX_VCPUS).  vCPU 0
 * runs guest_main(); the others wait until vCPU 0 has checked the start
 * info and then run guest_vcpu_main(), whose default returns at once;
 * after it returns a vCPU spins until the VM ends.
 */
#define GUEST_MAX_VCPUS 8
void guest_vcpu_main(unsigned int index, const struct tidal_start_info *si);
/* This vCPU's index: its APIC ID, CPUID.1:EBX[31:24]. */
unsigned int guest_vcpu_index(void);
/* vCPUs of the VM (start info; 1 before guest_main runs). */
unsigned int guest_nr_vcpus(void);

static inline void cpu_pause(void)
{
	__builtin_ia32_pause();
}

/* Linker-script symbols: the extent of the loaded image. */
extern char __image_start[], __image_end[];

#endif
