# SPDX-License-Identifier: MIT
"""gdb commands that read tidal's VM structures.

Load with  (gdb) source tools/gdb/tidal_vmm.py  and then:

  tidal-vms [VM]            the VM and its vCPU (default VM: the_vm)
  tidal-memslots [VM|MMU]   the memslots of a VM (or of a struct tdp_mmu *)
  tidal-ept-walk GPA [VM|ROOT]
                            walk GPA through the EPT of the VM's vCPU root
                            (or of a struct tdp_root *), one line per level

They work on the hypervisor (build/tidal.elf, e.g. under QEMU's gdb stub
once a VM exists) and on host test programs that run the TDP MMU, where
"physical" addresses are plain pointers.  They only read memory, so they
also work on a target that cannot run code (a gdb stub, a core file).
"""

import gdb

DIRECT_MAP_BASE = 0xFFFF800000000000
PFN_MASK = ((1 << 52) - 1) & ~0xFFF
SPTE_FROZEN = (1 << 62) | (1 << 52)
SW_PRESENT = 1 << 11
LEVEL_NAMES = {4: "PML4", 3: "PDPT", 2: "PD", 1: "PT"}
PAGE_SIZES = {3: "1G", 2: "2M", 1: "4K"}


def _u64(v):
    return int(v) & 0xFFFFFFFFFFFFFFFF


def _eval_arg(arg, default):
    arg = arg.strip() or default
    try:
        return gdb.parse_and_eval(arg)
    except gdb.error as e:
        raise gdb.GdbError("cannot evaluate '%s': %s" % (arg, e))


def _struct_name(val):
    t = val.type.strip_typedefs()
    if t.code == gdb.TYPE_CODE_PTR:
        t = t.target().strip_typedefs()
    return t.tag or t.name or ""


def _deref(val):
    if val.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
        if _u64(val) == 0:
            raise gdb.GdbError("NULL pointer")
        return val.dereference()
    return val


def _phys_to_ptr(pa, like):
    """Turn a physical address from an entry into a readable address.

    The hypervisor reaches physical memory through its direct map; host
    programs use virtual addresses as physical ones.  Tell them apart by
    where the root table itself lives (`like`)."""
    if like >= DIRECT_MAP_BASE:
        return pa + DIRECT_MAP_BASE
    return pa


def _read_u64(addr):
    inf = gdb.selected_inferior()
    data = inf.read_memory(addr, 8)
    return int.from_bytes(bytes(data), "little")


def _decode_spte(s, level):
    if s == SPTE_FROZEN:
        return "FROZEN (being changed)"
    if not (s & SW_PRESENT) and not (s & 7):
        return "not present"
    perms = "".join(c if s & b else "-" for c, b in (("r", 1), ("w", 2), ("x", 4)))
    leaf = level == 1 or (s & (1 << 7))
    out = "%s %s phys %#x" % (perms, ("leaf " + PAGE_SIZES.get(level, "?")) if leaf else "table", s & PFN_MASK)
    if leaf:
        out += " mt %d%s%s%s" % ((s >> 3) & 7, " ipat" if s & (1 << 6) else "",
                                 " A" if s & (1 << 8) else "", " D" if s & (1 << 9) else "")
    return out


def _vm_mmu(val):
    name = _struct_name(val)
    v = _deref(val)
    if name == "vm":
        return v["mmu"]
    if name == "tdp_mmu":
        return val if val.type.strip_typedefs().code == gdb.TYPE_CODE_PTR else v.address
    raise gdb.GdbError("want a struct vm or struct tdp_mmu, got '%s'" % name)


class TidalVms(gdb.Command):
    """List tidal's VM and its vCPU: tidal-vms [VM expression, default the_vm]."""

    def __init__(self):
        super().__init__("tidal-vms", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        vmv = _eval_arg(arg, "the_vm")
        vm = _deref(vmv)
        states = {0: "running", 1: "exited", 2: "stopped"}
        state = int(vm["state"])
        img = vm["img"]
        print("VM %s: %s (status %d), %d MiB RAM at host %#x, ELF%d entry %#x"
              % (vm.address, states.get(state, str(state)), int(vm["status"]),
                 _u64(vm["mem_bytes"]) >> 20, _u64(vm["ram_pa"]),
                 int(img["bits"]), _u64(img["entry"])))
        n = int(vm["nr_vcpus"])
        vcpus = [vm["vcpus"][i] for i in range(n)]
        exits = sum(_u64(v["stats"]["exits"]) for v in vcpus)
        faults = sum(_u64(v["stats"]["ept_faults"]) for v in vcpus)
        print("  mmu %s, %d vCPU(s), exits %d, EPT faults %d" % (vm["mmu"], n, exits, faults))
        modes = {0: "outside guest", 1: "in guest", 2: "exiting"}
        for i, v in enumerate(vcpus):
            root = v["root"]
            line = "  vCPU %d: vpid %d, %s, root %s" % (
                i, int(v["vpid"]), "launched" if bool(v["launched"]) else "not launched", root)
            if _u64(root):
                r = root.dereference()
                line += " (%s, refcount %d, eptp %#x)" % (
                    "invalid" if bool(r["invalid"]) else "valid", int(r["refcount"]), _u64(v["eptp"]))
            print(line)
            print("    mode %s, requests %#x" % (modes.get(int(v["mode"]), "?"), _u64(v["requests"])))
            regs = v["regs"]
            print("    saved regs: rax %#x rbx %#x rcx %#x rdx %#x"
                  % tuple(_u64(regs[k]) for k in ("rax", "rbx", "rcx", "rdx")))


class TidalMemslots(gdb.Command):
    """Show memslots: tidal-memslots [VM or struct tdp_mmu * expression]."""

    def __init__(self):
        super().__init__("tidal-memslots", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        mmu = _vm_mmu(_eval_arg(arg, "the_vm"))
        if _u64(mmu) == 0:
            raise gdb.GdbError("the VM has no MMU yet")
        slots = mmu.dereference()["slots"]
        if _u64(slots) == 0:
            print("no memslot set")
            return
        s = slots.dereference()
        n = int(s["count"])
        print("memslots of mmu %s: generation %d, %d slot(s)" % (mmu, _u64(s["generation"]), n))
        flag_names = ((1, "readonly"), (2, "dirty-log"), (4, "no-huge"))
        for i in range(n):
            sl = s["slots"][i]
            base = _u64(sl["base_gfn"]) << 12
            size = _u64(sl["npages"]) << 12
            host = _u64(sl["host_base"])
            fl = int(sl["flags"])
            names = ",".join(nm for b, nm in flag_names if fl & b) or "-"
            print("  slot %d: GPA %#x-%#x (%d KiB) -> host %#x-%#x flags %s"
                  % (int(sl["id"]), base, base + size - 1, size >> 10, host, host + size - 1, names))


class TidalEptWalk(gdb.Command):
    """Walk a GPA through the EPT: tidal-ept-walk GPA [VM or struct tdp_root *]."""

    def __init__(self):
        super().__init__("tidal-ept-walk", gdb.COMMAND_DATA)

    def invoke(self, arg, from_tty):
        argv = gdb.string_to_argv(arg)
        if not argv:
            raise gdb.GdbError("usage: tidal-ept-walk GPA [VM or struct tdp_root *]")
        gpa = _u64(_eval_arg(argv[0], ""))
        where = _eval_arg(" ".join(argv[1:]), "the_vm")
        name = _struct_name(where)
        if name == "vm":
            root = _deref(where)["vcpus"][0]["root"]
        elif name == "tdp_root":
            root = where if where.type.strip_typedefs().code == gdb.TYPE_CODE_PTR else where.address
        else:
            raise gdb.GdbError("want a struct vm or struct tdp_root, got '%s'" % name)
        if _u64(root) == 0:
            raise gdb.GdbError("no root loaded")
        table = _u64(root.dereference()["spt"])
        like = table
        gfn = gpa >> 12
        print("EPT walk of GPA %#x from root %s (table %#x)" % (gpa, root, table))
        for level in (4, 3, 2, 1):
            idx = (gfn >> (9 * (level - 1))) & 511
            s = _read_u64(table + 8 * idx)
            desc = _decode_spte(s, level)
            print("  L%d %-4s [%3d] %#018x  %s" % (level, LEVEL_NAMES[level], idx, s, desc))
            if s == SPTE_FROZEN or desc == "not present":
                print("  -> not mapped")
                return
            if level == 1 or (s & (1 << 7)):
                off = gpa & ((1 << (12 + 9 * (level - 1))) - 1)
                print("  -> host physical %#x (%s page)" % ((s & PFN_MASK) + off, PAGE_SIZES[level]))
                return
            table = _phys_to_ptr(s & PFN_MASK, like)


TidalVms()
TidalMemslots()
TidalEptWalk()
