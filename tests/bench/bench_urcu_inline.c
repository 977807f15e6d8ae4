// SPDX-License-Identifier: MIT
/* bench-sync contender: urcu-memb with its read side inlined. */
#define _LGPL_SOURCE
#define URCU_CONTENDER bench_urcu_inline
#define URCU_NAME      "urcu_inline"
#define URCU_LABEL     "liburcu memb (inlined)"
#include "tests/bench/bench_urcu.c"
