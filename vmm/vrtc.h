/* SPDX-License-Identifier: MIT */
/*
 * The MC146818 real-time clock and CMOS RAM (index port 0x70, data 0x71).
 * The time is read-only: the clock is @epoch (Unix seconds at @base_ns)
 * plus the ns elapsed since, shown in BCD or binary and 24- or 12-hour
 * form as register B says.  Status A (update in progress in the last
 * 244 us of each second; rate select for the periodic interrupt), B
 * (format bits, interrupt enables), C (flags: periodic and update-ended
 * set as time passes, IRQF when an enabled one is set; reading C clears
 * them) and D (time valid).  The alarm flag is never set.  The rest of
 * CMOS reads as a small PC's: base and extended memory sizes, century
 * (0x32); other bytes are scratch RAM the guest may write.
 *
 * Portable: no hardware access; the host test links it.
 */
#ifndef TIDAL_VMM_VRTC_H
#define TIDAL_VMM_VRTC_H

#include "lib/compiler.h"

#define CMOS_SIZE 128

#define RTC_SEC	    0x00
#define RTC_MIN	    0x02
#define RTC_HOUR    0x04
#define RTC_WDAY    0x06
#define RTC_MDAY    0x07
#define RTC_MONTH   0x08
#define RTC_YEAR    0x09
#define RTC_REG_A   0x0a
#define RTC_REG_B   0x0b
#define RTC_REG_C   0x0c
#define RTC_REG_D   0x0d
#define RTC_CENTURY 0x32
#define RTC_A_UIP   0x80
#define RTC_B_24H   0x02
#define RTC_B_BIN   0x04
#define RTC_B_UIE   0x10
#define RTC_B_AIE   0x20
#define RTC_B_PIE   0x40
#define RTC_C_UF    0x10
#define RTC_C_AF    0x20
#define RTC_C_PF    0x40
#define RTC_C_IRQF  0x80

struct mc146818 {
	uint8_t index; /* bit 7: NMI disabled (kept, no effect) */
	uint8_t ram[CMOS_SIZE];
	uint64_t epoch; /* Unix seconds at base_ns */
	uint64_t base_ns;
	uint8_t flags;		   /* register C */
	uint64_t pf_seen, uf_seen; /* periods, seconds already flagged */
};

/* @mem_bytes of guest RAM sets the CMOS memory sizes. */
void mc146818_init(struct mc146818 *r, uint64_t epoch, uint64_t base_ns,
		   uint64_t mem_bytes);
uint8_t mc146818_read(struct mc146818 *r, uint16_t port, uint64_t now_ns);
void mc146818_write(struct mc146818 *r, uint16_t port, uint8_t val,
		    uint64_t now_ns);
/* Bring register C up to @now_ns; returns the IRQ 8 output (IRQF). */
bool mc146818_tick(struct mc146818 *r, uint64_t now_ns);
/* When a flag with its interrupt enabled is next set, or UINT64_MAX. */
uint64_t mc146818_next_deadline(const struct mc146818 *r, uint64_t now_ns);

/* Calendar date of Unix day @days (proleptic Gregorian). */
void rtc_civil(uint64_t days, unsigned int *year, unsigned int *month,
	       unsigned int *mday);

#endif
