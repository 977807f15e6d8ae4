/* SPDX-License-Identifier: MIT */
/*
 * Formatted output.
 *
 * The formatter (lib/printf.c, portable) understands the usual C
 * conversions: %d %i %u %x %X %o %c %s %p %% with flags "-0+ #", a width
 * and a precision (numbers or "*"), and the length modifiers hh h l ll z t
 * j.  It has no floating point.  %p prints 0x followed by 16 hex digits.
 *
 * printk() and the pr_*() helpers (lib/console.c, hypervisor only) write
 * to every console (COM1, port 0xE9).  Messages above the log level are
 * dropped; the level comes from "loglevel=" on the command line: a number
 * 0-3 or err/warn/info/debug (default: info).
 */
#ifndef TIDAL_LIB_PRINTF_H
#define TIDAL_LIB_PRINTF_H

#include <stdarg.h>
#include "lib/platform.h"

/*
 * Like vsnprintf(): writes at most @size bytes including the final NUL
 * (nothing when @size is 0) and returns the length the full output has.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Formats through a callback, one character at a time; returns the count. */
int kvformat(void (*put)(char c, void *arg), void *arg, const char *fmt,
	     va_list ap);

/* Hypervisor console output. */
/* A panic is under way: bound waits for the console lock (console.c). */
void console_panic(void);
int printk(const char *fmt, ...) __printf(1, 2);
/*
 * A piece of a guest's output line (vmm/devices.c): "guest: " first when
 * the line starts, @text (already made printable), then the line ends if
 * @end.  An unended line stays open for @owner's next piece; any other
 * output ends it first, so it is never mixed into another line.
 */
void console_guest(const void *owner, const char *text, bool end);
int vprintk(const char *fmt, va_list ap);
int log_printk(enum log_level level, const char *fmt, ...) __printf(2, 3);

#define pr_err(...)   log_printk(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_printk(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_printk(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_printk(LOG_DEBUG, __VA_ARGS__)

/* Current console log level; set from the command line at boot. */
extern enum log_level console_loglevel;

/*
 * Parse a log level name or digit ("err", "warn", "info", "debug", "0".."3").
 * Returns false (and leaves *out alone) when @s is not one.
 */
bool log_level_parse(const char *s, enum log_level *out);

#endif
