// SPDX-License-Identifier: MIT
/*
 * /bochs-off for tools/bench-linux's initramfs: ends a native Bochs run
 * by writing "Shutdown" to Bochs's port 0x8900 (iopl(3) first).  Under
 * tidal the port is nobody's and the writes vanish.  Static, no libc.
 */
static long sys1(long nr, long a)
{
	long r;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a)
			 : "rcx", "r11", "memory");
	return r;
}

void off_main(void);

void off_main(void)
{
	if (sys1(172, 3) == 0) /* iopl(3) */
		for (const char *s = "Shutdown"; *s; s++)
			__asm__ volatile("outb %0, %1" ::"a"(*s),
					 "Nd"((unsigned short)0x8900));
	sys1(60, 0); /* exit(0) */
}

__asm__(".globl _start\n"
	"_start:\n"
	"andq $-16, %rsp\n"
	"call off_main\n"
	"hlt\n");
