/* SPDX-License-Identifier: MIT */
/* In-hypervisor self-tests (boot/selftest.c), run with "selftest". */
#ifndef TIDAL_BOOT_SELFTEST_H
#define TIDAL_BOOT_SELFTEST_H

/* Returns 0 when every check passed. */
int selftest_run(void);

#endif
