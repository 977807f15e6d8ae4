#!/usr/bin/env python3
"""Debian's Linux with a busybox shell as /init (LINUX_INIT=shell), used
interactively through tools/run-bochs --interactive from a pseudo-terminal,
as a person at `make run-linux LINUX_INIT=shell` would: type a command and
read its answer, interrupt a running command with Ctrl-C, power off.
make test-linux-shell; not in make test (Linux under Bochs takes minutes).

The guest's answers are read from its own console lines (behind tidal's
"guest: " prefix); tidal's side is its summary: every byte typed reached
the guest's COM1, none dropped.  A download failure is a SKIP.
"""
import os
import pty
import re
import select
import subprocess
import sys
import time

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
LDIR = f"{BUILD}/linux"
TESTS = f"{BUILD}/boot-tests"
ISO = f"{TESTS}/linux-shell.iso"
LOG = f"{TESTS}/linux-shell.bochs.log"
# What `make run-linux LINUX_INIT=shell` boots (mk/linux.mk): ACPI on,
# 4 vCPUs, so a poweroff ends in ACPI S5 with status 0.
CMDLINE = os.environ.get(
    "LINUX_CMDLINE",
    "console=ttyS0 mitigations=off cryptomgr.notests pci=off nohpet")
CPUS = os.environ.get("LINUX_CPUS", "4")
# tidal's default apic= (virtualize under Bochs), as in mk/linux.mk.
TIDAL_ARGS = os.environ.get("LINUX_TIDAL_ARGS", f"mem=256M vcpus={CPUS}")
BOOT_S = int(os.environ.get("LINUX_BOCHS_SECONDS", "1500"))
os.makedirs(TESTS, exist_ok=True)

n_tests = 0
failed = 0


def tap(good, what):
    global n_tests, failed
    n_tests += 1
    print(f"{'ok' if good else 'not ok'} {n_tests} - {what}", flush=True)
    if not good:
        failed += 1


def finish():
    print(f"1..{n_tests}")
    sys.exit(1 if failed else 0)


def prepare():
    env = dict(os.environ, LINUX_INIT="shell")
    with open(f"{TESTS}/linux-shell-guest.log", "w") as out:
        r = subprocess.run(["tools/linux-guest", "-o", LDIR], env=env,
                           stdout=out, stderr=subprocess.STDOUT)
    if r.returncode:
        with open(f"{TESTS}/linux-shell-guest.log") as f:
            last = (f.read().strip().splitlines() or [""])[-1]
        print(f"1..0 # SKIP tools/linux-guest failed: {last}")
        sys.exit(0)
    r = subprocess.run(["tools/mkiso", "-o", ISO, "-a", TIDAL_ARGS,
                        "-g", f"{LDIR}/vmlinux", "-A", CMDLINE, "-m",
                        f"{LDIR}/initrd.cpio.gz"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    tap(r.returncode == 0, "linux-shell: ISO built")
    if r.returncode:
        finish()


class Console:
    """The child's terminal: what it printed so far, and typing into it."""

    def __init__(self, fd):
        self.fd = fd
        self.out = b""
        self.closed = False
        self.typed = 0

    def pump(self, seconds):
        end = time.monotonic() + seconds
        while not self.closed and time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], 0.5)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    self.closed = True
                self.out += chunk

    def wait_re(self, pattern, seconds, start=0):
        rx = re.compile(pattern, re.M)
        end = time.monotonic() + seconds
        while True:
            m = rx.search(self.out, start)
            if m or self.closed or time.monotonic() > end:
                return m
            self.pump(1)

    def type(self, text):
        for b in text.encode():
            os.write(self.fd, bytes([b]))
            time.sleep(0.05)
        self.typed += len(text)

    def ask(self, cmd, answer, seconds=300):
        """Type @cmd; the match of @answer in what follows, or None."""
        at = len(self.out)
        self.type(cmd)
        return self.wait_re(answer, seconds, at)


def main():
    prepare()
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("tools/run-bochs",
                  ["tools/run-bochs", "--mem", "512", "--cpus", CPUS, "--timeout",
                   str(BOOT_S), "--interactive", "--log", LOG, ISO])
    con = Console(fd)
    # "/ # " (busybox's cursor query after it, ESC [6n, is dropped by
    # tidal) on a line left open.
    prompt = con.wait_re(rb"LINUX-GUEST: init \(shell\)[\s\S]*?guest: [^\n]*# ",
                         BOOT_S)
    print(f"# shell prompt after {time.monotonic() - start:.0f}s",
          flush=True)
    tap(prompt is not None, "linux-shell: the shell's prompt is shown "
        "(a line without its end, flushed when idle)")
    if prompt:
        m = con.ask("echo hello-$((6*7))\r", rb"^guest: hello-42\r?$")
        tap(m is not None, "linux-shell: typed `echo hello-$((6*7))`, "
            "the shell answered hello-42")
        con.ask("sleep 100000\r", rb"sleep 100000", 120)
        con.pump(5)
        con.type("\x03")
        m = con.ask("echo after-$((2*3))x\r", rb"^guest: after-6x\r?$")
        tap(m is not None, "linux-shell: Ctrl-C stopped `sleep 100000`, "
            "the next command ran")
        con.type("poweroff -f\r")
    con.wait_re(rb"^tidal: power off: ", 300)
    if not con.closed:
        os.write(fd, b"\x1d")  # Ctrl-]: leave the session
        con.pump(30)
    _, status = os.waitpid(pid, 0)
    print(f"# run-bochs ended ({status >> 8}) after "
          f"{time.monotonic() - start:.0f}s; log {LOG}", flush=True)
    try:
        with open(LOG, "rb") as f:
            log = f.read().replace(b"\r", b"")
    except OSError:
        log = b""
    m = re.search(rb"^tidal: summary: devices: .* console input (\d+) "
                  rb"bytes \(dropped (\d+)\)$", log, re.M)
    typed = con.typed
    tap(m is not None and int(m.group(1)) == typed and m.group(2) == b"0",
        f"linux-shell: tidal passed all {typed} typed bytes to COM1, none "
        f"dropped ({m.group(1).decode() if m else 'no summary'})")
    tap(re.search(rb"^tidal: vm: guest powered off \(ACPI S5\)", log, re.M)
        is not None and
        re.search(rb"^tidal: power off: status 0 ", log, re.M) is not None,
        "linux-shell: poweroff -f ended the session through ACPI S5, "
        "status 0")
    finish()


main()
