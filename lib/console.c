// SPDX-License-Identifier: MIT
/*
 * Console output for the hypervisor: printk() and the log levels.
 *
 * One lock serialises whole messages so that lines from different CPUs do
 * not interleave.  Interrupts are masked while it is held.  A CPU that
 * finds the lock already held by itself (an exception or panic raised
 * while it was printing) prints anyway instead of deadlocking: a garbled
 * line is better than a silent hang when things have gone wrong.  For
 * the same reason, once a panic has started (console_panic()) a CPU
 * waits only so long for the lock before printing without it.
 */
#include "lib/printf.h"
#include "lib/atomic.h"
#include "arch/x86/serial.h"

enum log_level console_loglevel = LOG_INFO;

/* Owner CPU + 1, or 0 when free. */
static unsigned int console_owner;
/* Set by console_panic(): waits for the lock are bounded from then on. */
static bool console_panicking;
/*
 * The guest line left open by console_guest() (its owner's address), or
 * NULL: anything else printed first ends it, so every line the guest
 * causes still starts with "guest: ".
 */
static const void *open_line;

void console_panic(void)
{
	__atomic_store_n(&console_panicking, true, __ATOMIC_RELEASE);
}

static bool console_lock(unsigned long *flags)
{
	unsigned int me = platform_cpu_id() + 1, free;

	*flags = platform_irq_save();
	if (READ_ONCE(console_owner) == me)
		return false; /* re-entered from a fault inside printk */
	for (unsigned long spins = 0;; spins++) {
		free = 0;
		if (__atomic_compare_exchange_n(&console_owner, &free, me,
						false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
		/*
		 * A panic must print even if the owner is stuck (halted in
		 * the middle of a line, or spinning with interrupts masked):
		 * after a long wait, print without the lock.
		 */
		if (spins > 50000000ul &&
		    __atomic_load_n(&console_panicking, __ATOMIC_ACQUIRE))
			return false;
		platform_relax();
	}
}

static void console_unlock(bool taken, unsigned long flags)
{
	if (taken)
		__atomic_store_n(&console_owner, 0, __ATOMIC_RELEASE);
	platform_irq_restore(flags);
}

static void console_put(char c, void *arg)
{
	(void)arg;
	if (c == '\n')
		serial_putc('\r');
	serial_putc(c);
}

/* Console lock held: end an open guest line unless @owner owns it. */
static void end_open_line(const void *owner)
{
	if (open_line && open_line != owner) {
		console_put('\n', NULL);
		open_line = NULL;
	}
}

static void console_puts(const char *s)
{
	while (*s)
		console_put(*s++, NULL);
}

void console_guest(const void *owner, const char *text, bool end)
{
	unsigned long flags;
	bool taken = console_lock(&flags);

	end_open_line(owner);
	if (open_line || *text) {
		if (!open_line)
			console_puts("guest: ");
		console_puts(text);
		if (end)
			console_put('\n', NULL);
		open_line = end ? NULL : owner;
	}
	console_unlock(taken, flags);
}

int vprintk(const char *fmt, va_list ap)
{
	unsigned long flags;
	bool taken = console_lock(&flags);
	int n;

	end_open_line(NULL);
	n = kvformat(console_put, NULL, fmt, ap);

	console_unlock(taken, flags);
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

int log_printk(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (level > READ_ONCE(console_loglevel))
		return 0;
	va_start(ap, fmt);
	n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}
