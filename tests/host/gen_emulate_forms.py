#!/usr/bin/env python3
# Generates tests/host/emulate_forms.h, the table of instruction forms that
# test_emulate feeds the decoder: each row is assembled by GNU as (so the
# bytes are the assembler's, not the emulator author's) and carries the
# expected decoding written by hand below.
#
#   tests/host/gen_emulate_forms.py > tests/host/emulate_forms.h
#
# Columns: mode | assembly | op | opsize | memsize | dir | reg | EA | imm | seg | addrsize
# dir: M (to memory), R (from memory), - (not checked); reg: a name or -;
# EA and imm in hex or -; seg: es cs ss ds fs gs or -.
import os, subprocess, sys, tempfile

SPEC = r"""
64|mov %al,(%rbx)|MOV|1|1|M|al|febff100|-|ds|8
64|mov %ah,(%rbx)|MOV|1|1|M|ah|febff100|-|ds|8
64|mov %ax,(%rbx)|MOV|2|2|M|ax|febff100|-|ds|8
64|mov %eax,(%rbx)|MOV|4|4|M|ax|febff100|-|ds|8
64|mov %rax,(%rbx)|MOV|8|8|M|ax|febff100|-|ds|8
64|mov %r9b,(%rbx)|MOV|1|1|M|r9|febff100|-|ds|8
64|mov %sil,(%rbx)|MOV|1|1|M|si|febff100|-|ds|8
64|mov (%rbx),%cl|MOV|1|1|R|cx|febff100|-|ds|8
64|mov (%rbx),%bh|MOV|1|1|R|bh|febff100|-|ds|8
64|mov (%rbx),%dx|MOV|2|2|R|dx|febff100|-|ds|8
64|mov (%rbx),%esi|MOV|4|4|R|si|febff100|-|ds|8
64|mov (%rbx),%r15|MOV|8|8|R|r15|febff100|-|ds|8
64|mov 0x10(%rbx),%eax|MOV|4|4|R|ax|febff110|-|ds|8
64|mov 0x100(%rbx),%eax|MOV|4|4|R|ax|febff200|-|ds|8
64|mov -0x10(%rbx),%eax|MOV|4|4|R|ax|febff0f0|-|ds|8
64|mov (%rbx,%rsi,1),%eax|MOV|4|4|R|ax|febff108|-|ds|8
64|mov (%rbx,%rsi,2),%eax|MOV|4|4|R|ax|febff110|-|ds|8
64|mov (%rbx,%rsi,4),%eax|MOV|4|4|R|ax|febff120|-|ds|8
64|mov 0x8(%rbx,%rsi,8),%eax|MOV|4|4|R|ax|febff148|-|ds|8
64|mov (%rbx,%r8,1),%eax|MOV|4|4|R|ax|febff120|-|ds|8
64|mov (%r12),%eax|MOV|4|4|R|ax|febff500|-|ds|8
64|mov (%r13),%eax|MOV|4|4|R|ax|febff600|-|ds|8
64|mov (%r12,%r8,2),%r11d|MOV|4|4|R|r11|febff540|-|ds|8
64|mov (%rbp),%eax|MOV|4|4|R|ax|febff300|-|ss|8
64|mov (%rsp),%eax|MOV|4|4|R|ax|febff400|-|ss|8
64|mov 0x8(%rsp),%eax|MOV|4|4|R|ax|febff408|-|ss|8
64|mov 0x200,%eax|MOV|4|4|R|ax|200|-|ds|8
64|mov 0x200(,%rsi,2),%eax|MOV|4|4|R|ax|210|-|ds|8
64|mov 0x10(%rip),%eax|MOV|4|4|R|ax|1016|-|ds|8
64|movabs 0xfebff800,%al|MOV|1|1|R|ax|febff800|-|ds|8
64|movabs 0xfebff800,%eax|MOV|4|4|R|ax|febff800|-|ds|8
64|movabs 0xfebff800,%rax|MOV|8|8|R|ax|febff800|-|ds|8
64|movabs %eax,0xfebff800|MOV|4|4|M|ax|febff800|-|ds|8
64|movabs %ax,0xfebff800|MOV|2|2|M|ax|febff800|-|ds|8
64|addr32 mov (%ebx),%eax|MOV|4|4|R|ax|febff100|-|ds|4
64|mov %gs:(%rbx),%eax|MOV|4|4|R|ax|febff100|-|gs|8
64|mov %fs:0x10(%rbx),%eax|MOV|4|4|R|ax|febff110|-|fs|8
64|mov %es:(%rbx),%eax|MOV|4|4|R|ax|febff100|-|ds|8
64|movb $0x5a,(%rbx)|MOV|1|1|M|-|febff100|5a|ds|8
64|movw $0x1234,(%rbx)|MOV|2|2|M|-|febff100|1234|ds|8
64|movl $0xdeadbeef,(%rbx)|MOV|4|4|M|-|febff100|ffffffffdeadbeef|ds|8
64|movq $-2,(%rbx)|MOV|8|8|M|-|febff100|fffffffffffffffe|ds|8
64|movq $0x7fffffff,0x8(%rbx)|MOV|8|8|M|-|febff108|7fffffff|ds|8
64|movzbl (%rbx),%eax|MOVZX|4|1|R|ax|febff100|-|ds|8
64|movzwl (%rbx),%eax|MOVZX|4|2|R|ax|febff100|-|ds|8
64|movzbw (%rbx),%ax|MOVZX|2|1|R|ax|febff100|-|ds|8
64|movzbq (%rbx),%r10|MOVZX|8|1|R|r10|febff100|-|ds|8
64|movzwq (%rbx),%rax|MOVZX|8|2|R|ax|febff100|-|ds|8
64|movsbl (%rbx),%eax|MOVSX|4|1|R|ax|febff100|-|ds|8
64|movswl (%rbx),%eax|MOVSX|4|2|R|ax|febff100|-|ds|8
64|movsbw (%rbx),%ax|MOVSX|2|1|R|ax|febff100|-|ds|8
64|movsbq (%rbx),%rax|MOVSX|8|1|R|ax|febff100|-|ds|8
64|movswq (%rbx),%rax|MOVSX|8|2|R|ax|febff100|-|ds|8
64|movslq (%rbx),%rax|MOVSX|8|4|R|ax|febff100|-|ds|8
64|and %eax,(%rbx)|AND|4|4|M|ax|febff100|-|ds|8
64|and (%rbx),%eax|AND|4|4|R|ax|febff100|-|ds|8
64|andb $0xf0,(%rbx)|AND|1|1|M|-|febff100|fffffffffffffff0|ds|8
64|andl $0xfffffff0,(%rbx)|AND|4|4|M|-|febff100|fffffffffffffff0|ds|8
64|andl $0x7fff0000,(%rbx)|AND|4|4|M|-|febff100|7fff0000|ds|8
64|or %al,(%rbx)|OR|1|1|M|ax|febff100|-|ds|8
64|or (%rbx),%cx|OR|2|2|R|cx|febff100|-|ds|8
64|orl $0x10,(%rbx)|OR|4|4|M|-|febff100|10|ds|8
64|orl $0x1000,(%rbx)|OR|4|4|M|-|febff100|1000|ds|8
64|orb $1,(%rbx)|OR|1|1|M|-|febff100|1|ds|8
64|orw $0x100,(%rbx)|OR|2|2|M|-|febff100|100|ds|8
64|xor %rax,(%rbx)|XOR|8|8|M|ax|febff100|-|ds|8
64|xorq $-1,(%rbx)|XOR|8|8|M|-|febff100|ffffffffffffffff|ds|8
64|xor (%rbx),%r14d|XOR|4|4|R|r14|febff100|-|ds|8
64|test %eax,(%rbx)|TEST|4|4|M|ax|febff100|-|ds|8
64|test %dh,(%rbx)|TEST|1|1|M|dh|febff100|-|ds|8
64|testb $1,(%rbx)|TEST|1|1|M|-|febff100|1|ds|8
64|testl $0x100,(%rbx)|TEST|4|4|M|-|febff100|100|ds|8
64|testq $-0x100,(%rbx)|TEST|8|8|M|-|febff100|ffffffffffffff00|ds|8
64|cmp %eax,(%rbx)|CMP|4|4|M|ax|febff100|-|ds|8
64|cmp (%rbx),%eax|CMP|4|4|R|ax|febff100|-|ds|8
64|cmpl $5,(%rbx)|CMP|4|4|M|-|febff100|5|ds|8
64|cmpb $0x80,(%rbx)|CMP|1|1|M|-|febff100|ffffffffffffff80|ds|8
64|add %eax,(%rbx)|ADD|4|4|M|ax|febff100|-|ds|8
64|addq $1,(%rbx)|ADD|8|8|M|-|febff100|1|ds|8
64|sub (%rbx),%ecx|SUB|4|4|R|cx|febff100|-|ds|8
64|subl $0x100,(%rbx)|SUB|4|4|M|-|febff100|100|ds|8
64|adc %eax,(%rbx)|ADC|4|4|M|ax|febff100|-|ds|8
64|sbb (%rbx),%eax|SBB|4|4|R|ax|febff100|-|ds|8
64|lock orl $1,(%rbx)|OR|4|4|M|-|febff100|1|ds|8
64|lock and %eax,(%rbx)|AND|4|4|M|ax|febff100|-|ds|8
64|xchg %eax,(%rbx)|XCHG|4|4|M|ax|febff100|-|ds|8
64|xchg %al,(%rbx)|XCHG|1|1|M|ax|febff100|-|ds|8
64|xchg %r8,(%rbx)|XCHG|8|8|M|r8|febff100|-|ds|8
64|stosb|STOS|1|1|M|ax|-|-|es|8
64|stosw|STOS|2|2|M|ax|-|-|es|8
64|stosl|STOS|4|4|M|ax|-|-|es|8
64|stosq|STOS|8|8|M|ax|-|-|es|8
64|rep stosl|STOS|4|4|M|ax|-|-|es|8
64|addr32 rep stosb|STOS|1|1|M|ax|-|-|es|4
64|lodsb|LODS|1|1|R|ax|-|-|ds|8
64|lodsq|LODS|8|8|R|ax|-|-|ds|8
64|lods %fs:(%rsi),%eax|LODS|4|4|R|ax|-|-|fs|8
64|movsb|MOVS|1|1|-|-|-|-|ds|8
64|movsw|MOVS|2|2|-|-|-|-|ds|8
64|rep movsl|MOVS|4|4|-|-|-|-|ds|8
64|rep movsq|MOVS|8|8|-|-|-|-|ds|8
64|insb|INS|1|1|M|-|-|-|es|8
64|rep insb|INS|1|1|M|-|-|-|es|8
64|insw|INS|2|2|M|-|-|-|es|8
64|insl|INS|4|4|M|-|-|-|es|8
64|outsb|OUTS|1|1|R|-|-|-|ds|8
64|rep outsb|OUTS|1|1|R|-|-|-|ds|8
64|outsw|OUTS|2|2|R|-|-|-|ds|8
64|rep outsl|OUTS|4|4|R|-|-|-|ds|8
64|outsb %gs:(%rsi),(%dx)|OUTS|1|1|R|-|-|-|gs|8
64|addr32 rep outsb|OUTS|1|1|R|-|-|-|ds|4
32|mov %eax,(%ebx)|MOV|4|4|M|ax|febff100|-|ds|4
32|mov (%ebx),%al|MOV|1|1|R|ax|febff100|-|ds|4
32|mov %ax,(%ebx)|MOV|2|2|M|ax|febff100|-|ds|4
32|mov %ch,(%ebx)|MOV|1|1|M|ch|febff100|-|ds|4
32|movl $1,(%ebx)|MOV|4|4|M|-|febff100|1|ds|4
32|movw $0xabcd,(%ebx)|MOV|2|2|M|-|febff100|ffffffffffffabcd|ds|4
32|mov 0x10(%ebx,%esi,4),%eax|MOV|4|4|R|ax|febff130|-|ds|4
32|mov (%ebp),%eax|MOV|4|4|R|ax|febff300|-|ss|4
32|mov -4(%esp),%edx|MOV|4|4|R|dx|febff3fc|-|ss|4
32|mov 0xfebff800,%eax|MOV|4|4|R|ax|febff800|-|ds|4
32|mov 0xfebff800,%ecx|MOV|4|4|R|cx|febff800|-|ds|4
32|mov %ax,0xfebff800|MOV|2|2|M|ax|febff800|-|ds|4
32|mov %fs:(%ebx),%eax|MOV|4|4|R|ax|febff100|-|fs|4
32|mov %es:(%ebx),%eax|MOV|4|4|R|ax|febff100|-|es|4
32|mov %cs:(%ebx),%eax|MOV|4|4|R|ax|febff100|-|cs|4
32|mov %ds:(%ebp),%eax|MOV|4|4|R|ax|febff300|-|ds|4
32|addr16 mov (%bx,%si),%eax|MOV|4|4|R|ax|f108|-|ds|2
32|movzbl (%ebx),%eax|MOVZX|4|1|R|ax|febff100|-|ds|4
32|movzwl 0x2(%ebx),%ecx|MOVZX|4|2|R|cx|febff102|-|ds|4
32|movswl (%ebx),%eax|MOVSX|4|2|R|ax|febff100|-|ds|4
32|movsbw (%ebx),%dx|MOVSX|2|1|R|dx|febff100|-|ds|4
32|and %eax,(%ebx)|AND|4|4|M|ax|febff100|-|ds|4
32|orl $0x80000000,(%ebx)|OR|4|4|M|-|febff100|ffffffff80000000|ds|4
32|xorb $0xff,(%ebx)|XOR|1|1|M|-|febff100|ffffffffffffffff|ds|4
32|testl $1,(%ebx)|TEST|4|4|M|-|febff100|1|ds|4
32|cmp %eax,(%ebx)|CMP|4|4|M|ax|febff100|-|ds|4
32|xchg (%ebx),%ecx|XCHG|4|4|M|cx|febff100|-|ds|4
32|stosb|STOS|1|1|M|ax|-|-|es|4
32|rep stosl|STOS|4|4|M|ax|-|-|es|4
32|movsl|MOVS|4|4|-|-|-|-|ds|4
32|lodsw|LODS|2|2|R|ax|-|-|ds|4
32|rep insb|INS|1|1|M|-|-|-|es|4
32|insw|INS|2|2|M|-|-|-|es|4
32|outsl|OUTS|4|4|R|-|-|-|ds|4
32|rep outsw|OUTS|2|2|R|-|-|-|ds|4
32|addr16 rep outsb|OUTS|1|1|R|-|-|-|ds|2
16|mov %al,(%bx)|MOV|1|1|M|ax|100|-|ds|2
16|mov %ax,(%bx,%si)|MOV|2|2|M|ax|108|-|ds|2
16|mov (%bp,%di),%ax|MOV|2|2|R|ax|500|-|ss|2
16|mov 0x10(%bp),%ax|MOV|2|2|R|ax|310|-|ss|2
16|mov 0x1000(%bx,%di),%cx|MOV|2|2|R|cx|1300|-|ds|2
16|mov (%si),%eax|MOV|4|4|R|ax|8|-|ds|2
16|mov (%di),%dl|MOV|1|1|R|dx|200|-|ds|2
16|mov 0x1234,%ax|MOV|2|2|R|ax|1234|-|ds|2
16|mov 0x1234,%cx|MOV|2|2|R|cx|1234|-|ds|2
16|movw $0x55,0x20(%di)|MOV|2|2|M|-|220|55|ds|2
16|movl $0x12345678,(%bx)|MOV|4|4|M|-|100|12345678|ds|2
16|mov (%ebx),%ax|MOV|2|2|R|ax|100|-|ds|4
16|mov %es:(%bx),%al|MOV|1|1|R|ax|100|-|es|2
16|movzbw (%bx),%ax|MOVZX|2|1|R|ax|100|-|ds|2
16|movsbl (%bx),%eax|MOVSX|4|1|R|ax|100|-|ds|2
16|orb $1,(%bx)|OR|1|1|M|-|100|1|ds|2
16|andw $0xfffe,(%bx)|AND|2|2|M|-|100|fffffffffffffffe|ds|2
16|stosb|STOS|1|1|M|ax|-|-|es|2
16|rep stosw|STOS|2|2|M|ax|-|-|es|2
16|rep movsb|MOVS|1|1|-|-|-|-|ds|2
16|rep outsb|OUTS|1|1|R|-|-|-|ds|2
16|insw|INS|2|2|M|-|-|-|es|2
16|addr32 rep insb|INS|1|1|M|-|-|-|es|4
"""

REGS = {"ax": 0, "cx": 1, "dx": 2, "bx": 3, "sp": 4, "bp": 5, "si": 6,
        "di": 7, "al": 0}
HIGH = {"ah": 0, "ch": 1, "dh": 2, "bh": 3}
SEGS = {"es": "EMU_ES", "cs": "EMU_CS", "ss": "EMU_SS", "ds": "EMU_DS",
        "fs": "EMU_FS", "gs": "EMU_GS"}


def assemble(mode, text):
    code = {"64": ".code64", "32": ".code32", "16": ".code16"}[mode]
    with tempfile.TemporaryDirectory() as d:
        src, obj, raw = (os.path.join(d, n) for n in ("a.s", "a.o", "a.bin"))
        with open(src, "w") as f:
            f.write(f"{code}\n{text}\n")
        subprocess.run(["as", "--64", src, "-o", obj], check=True)
        subprocess.run(["objcopy", "-O", "binary", "-j", ".text", obj, raw],
                       check=True)
        return open(raw, "rb").read()


def reg(name):
    if name == "-":
        return "-1, false"
    if name in HIGH:
        return f"{HIGH[name]}, true"
    if name in REGS:
        return f"{REGS[name]}, false"
    return f"{int(name[1:].rstrip('bwd'))}, false"


def main():
    print("/* Generated by tests/host/gen_emulate_forms.py: do not edit. */")
    for line in SPEC.strip().splitlines():
        mode, asm, op, osz, msz, d, r, ea, imm, seg, asz = line.split("|")
        b = assemble(mode, asm)
        hexb = ", ".join(f"0x{x:02x}" for x in b)
        dirc = {"M": "EMU_TO_MEM", "R": "EMU_FROM_MEM", "-": "-1"}[d]
        print(f"\t/* {mode}-bit: {asm} */")
        print(f"\t{{{int(mode) // 8}, {{{hexb}}}, {len(b)}, "
              f"EMU_{op}, {osz}, {msz}, {dirc}, {reg(r)}, "
              f"{'false, 0' if ea == '-' else 'true, 0x' + ea}, "
              f"{'false, 0' if imm == '-' else 'true, 0x' + imm}, "
              f"{SEGS[seg]}, {asz}, \"{asm}\"}},")


if __name__ == "__main__":
    main()
