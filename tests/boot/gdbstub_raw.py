#!/usr/bin/env python3
"""A raw gdb remote client for tests/boot/gdbstub-raw.t: sends what gdb
never would (bad checksums, a packet too long, malformed arguments,
addresses nobody mapped) to tidal's stub and checks that every one gets
a NAK or an error reply and that the stub still answers afterwards; then
Ctrl-C while the guest runs, and k.  Prints TAP lines (no plan)."""
import re
import socket
import sys
import time

port = int(sys.argv[1])
n = 0
failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    if not cond:
        failed += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, what), flush=True)


for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", port))
        break
    except OSError:
        time.sleep(0.1)
buf = b""


def fill(pred, secs=60):
    global buf
    end = time.time() + secs
    while not pred(buf):
        left = end - time.time()
        if left <= 0:
            return False
        s.settimeout(left)
        try:
            d = s.recv(4096)
        except socket.timeout:
            return False
        if not d:
            return False
        buf += d
    return True


def frame(p):
    return b"$" + p + b"#" + b"%02x" % (sum(p) & 0xFF)


PKT = re.compile(rb"\$([^#$]*)#([0-9a-fA-F]{2})")


def reply(secs=60):
    """The next packet's payload (acks before it are dropped), or None."""
    global buf
    if not fill(lambda b: PKT.search(b), secs):
        return None
    m = PKT.search(buf)
    buf = buf[m.end():]
    return m.group(1)


def ack(secs=30):
    """The next '+' or '-' outside a packet."""
    global buf
    if not fill(lambda b: b"+" in b or b"-" in b, secs):
        return None
    i = min(x for x in (buf.find(b"+"), buf.find(b"-")) if x >= 0)
    c = buf[i:i + 1]
    buf = buf[i + 1:]
    return c


def ask(p, secs=60):
    s.sendall(frame(p))
    return reply(secs)


s.sendall(b"+")
r = ask(b"qSupported:swbreak+")
ok(r is not None and b"PacketSize=1000" in r, "qSupported answered: %r" % r)
bad = frame(b"m0,8")[:-2] + b"00"
s.sendall(bad)
ok(ack() == b"-", "bad checksum: NAK")
s.sendall(b"$" + b"m" * 6000 + b"#00")
ok(ack() == b"-", "6000-byte packet: NAK, nothing overflowed")
r = ask(b"mzz,4")
ok(r is not None and r.startswith(b"E"), "malformed m: %r" % r)
r = ask(b"m7fff00000000,10")
ok(r == b"E0e", "read in the unmapped low half: %r" % r)
r = ask(b"m8000000000000000,10")
ok(r == b"E0e", "read at a non-canonical address: %r" % r)
r = ask(b"mffffffffffffffff,ffffffffffffffff")
ok(r is not None and r.startswith(b"E"), "huge length at the top: %r" % r)
# At "break" the boot page tables still map the low 4 GiB: go above.
r = ask(b"M7fff00000000,4:00000000")
ok(r == b"E0e", "write to an unmapped address: %r" % r)
r = ask(b"Z2,7fff00000000,8")
ok(r is not None and r.startswith(b"E"), "watchpoint on an unmapped address: %r" % r)
r = ask(b"p1000")
ok(r is not None and r.startswith(b"E"), "no such register: %r" % r)
r = ask(b"Hg5")
ok(r is not None and r.startswith(b"E"), "no such CPU: %r" % r)
r = ask(b"qRcmd,6")
ok(r is not None and r.startswith(b"E"), "monitor with odd hex: %r" % r)
r = ask(b"p10")
ok(r is not None and re.fullmatch(rb"[0-9a-f]{16}", r) is not None,
   "stub still answers: rip %r" % r)
s.sendall(frame(b"c"))
time.sleep(3)  # let the guest start spinning
s.sendall(b"\x03")
r = reply(120)
ok(r is not None and r.startswith(b"T02"), "Ctrl-C while the guest runs: %r" % r)
r = ask(b"m0,8")
ok(r == b"E0e", "read at address 0 with tidal's own page tables: %r" % r)
r = ask(b"qXfer:threads:read::0,fff")
ok(r is not None and b'name="cpu0"' in r, "threads listed: %r" % r)
s.sendall(frame(b"k"))
time.sleep(1)
s.close()
sys.exit(1 if failed else 0)
