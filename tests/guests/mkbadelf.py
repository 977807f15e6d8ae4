#!/usr/bin/env python3
"""Make a deliberately malformed guest ELF from a good one.

usage: mkbadelf.py GOOD.elf KIND OUT.elf

Each KIND breaks one thing the loader must check; the boot test for
malformed modules uses one of them, the host tests of the loader build
their own cases in C.
"""
import struct
import sys

KINDS = {}


def kind(f):
    KINDS[f.__name__.replace("_", "-")] = f
    return f


@kind
def bad_magic(b):
    b[0:4] = b"\x7fELG"


@kind
def phdrs_outside_file(b):
    # e_phoff points far past the end of the file.
    off = 0x20 if b[4] == 2 else 0x1C
    fmt = "<Q" if b[4] == 2 else "<I"
    struct.pack_into(fmt, b, off, len(b) + 0x1000)


@kind
def wrong_machine(b):
    struct.pack_into("<H", b, 0x12, 0xB7)  # AArch64


@kind
def truncated(b):
    del b[40:]


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in KINDS:
        sys.exit("usage: mkbadelf.py GOOD.elf {%s} OUT.elf" % ",".join(KINDS))
    with open(sys.argv[1], "rb") as f:
        b = bytearray(f.read())
    if b[:4] != b"\x7fELF":
        sys.exit("mkbadelf: %s is not an ELF file" % sys.argv[1])
    KINDS[sys.argv[2]](b)
    with open(sys.argv[3], "wb") as f:
        f.write(b)


if __name__ == "__main__":
    main()
