// SPDX-License-Identifier: MIT
/*
 * /tsc LABEL for tools/bench-linux's initramfs: prints "TSC LABEL N",
 * N the raw time-stamp counter (under Bochs with clock: sync=none, the
 * emulated instructions so far).  Static, no libc: two system calls.
 */
#include <stdint.h>

static long sys3(long nr, long a, long b, long c)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return r;
}

void tsc_main(long argc, char **argv);

void tsc_main(long argc, char **argv)
{
	char buf[128], num[24];
	uint32_t lo, hi;
	uint64_t t;
	int n = 0, k = 0;
	const char *label = argc > 1 ? argv[1] : "";

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	t = (uint64_t)hi << 32 | lo;
	for (const char *s = "TSC "; *s; s++)
		buf[n++] = *s;
	for (; *label && n < 96; label++)
		buf[n++] = *label;
	buf[n++] = ' ';
	do {
		num[k++] = (char)('0' + t % 10);
		t /= 10;
	} while (t);
	while (k)
		buf[n++] = num[--k];
	buf[n++] = '\n';
	sys3(1, 1, (long)buf, n); /* write(1, ...) */
	sys3(60, 0, 0, 0);	  /* exit(0) */
}

/* The kernel starts us with argc at (%rsp), argv after it. */
__asm__(".globl _start\n"
	"_start:\n"
	"movq (%rsp), %rdi\n"
	"leaq 8(%rsp), %rsi\n"
	"andq $-16, %rsp\n"
	"call tsc_main\n"
	"hlt\n");
