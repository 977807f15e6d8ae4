#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn a multiboot (v1) kernel into one that asks for the a.out kludge
(header flag 16), with a correct checksum, for tidal's refusal tests.

usage: mkmb1aout.py IN OUT
"""
import struct
import sys

MAGIC = 0x1BADB002


def main():
    src, dst = sys.argv[1:3]
    data = bytearray(open(src, "rb").read())
    for off in range(0, min(len(data), 8192) - 11, 4):
        magic, flags, _ = struct.unpack_from("<III", data, off)
        if magic == MAGIC:
            flags |= 1 << 16
            csum = (-(magic + flags)) & 0xFFFFFFFF
            struct.pack_into("<III", data, off, magic, flags, csum)
            open(dst, "wb").write(data)
            return 0
    sys.exit(f"{src}: no multiboot header in the first 8 KiB")


if __name__ == "__main__":
    sys.exit(main())
