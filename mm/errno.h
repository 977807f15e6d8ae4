/* SPDX-License-Identifier: MIT */
/*
 * Error numbers returned (negated) by mm/ functions.  The values are the
 * Linux ones, so a host test that also includes <errno.h> sees the same
 * numbers and the compiler accepts the identical redefinitions.
 */
#ifndef TIDAL_MM_ERRNO_H
#define TIDAL_MM_ERRNO_H

#ifndef ENOENT
#define ENOENT 2
#endif
#ifndef EIO
#define EIO 5
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif
#ifndef ENOMEM
#define ENOMEM 12
#endif
#ifndef EFAULT
#define EFAULT 14
#endif
#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef EINVAL
#define EINVAL 22
#endif
#ifndef ENOSPC
#define ENOSPC 28
#endif
#ifndef ERANGE
#define ERANGE 34
#endif
#ifndef EOPNOTSUPP
#define EOPNOTSUPP 95
#endif

#endif
