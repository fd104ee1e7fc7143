import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, disassemble, formatInsn, formatProgram, type Style } from '../../src/asm/index.js';
import { decode, encode, type Insn } from '../../src/isa/index.js';
import { randomInsn, randomProgram, Rng } from '../isa/gen.js';

const show = (x: unknown): string => JSON.stringify(x, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));

/**
 * Instructions whose text in a style does not say everything: llvm prints
 * helper, local and kfunc calls all as `call N`; the kernel log prints no
 * 64-bit load kind, no kfunc module and no callx register.
 */
function lossless(insn: Insn, style: Style): boolean {
  if (style === 'llvm') return insn.kind !== 'call_local' && insn.kind !== 'call_kfunc';
  if (style === 'kernel') {
    if (insn.kind === 'lddw') return insn.pseudo === 'imm';
    if (insn.kind === 'call_kfunc') return insn.module === 0;
    return insn.kind !== 'callx';
  }
  return true;
}

for (const style of ['llvm', 'ubpf', 'kernel'] as const) {
  test(`assemble(formatInsn(x, '${style}')) deep-equals x for 10000 random instructions`, () => {
    const r = new Rng(100 + style.length);
    let n = 0;
    while (n < 10000) {
      const insn = randomInsn(r);
      if (!lossless(insn, style)) continue;
      n++;
      const text = formatInsn(insn, style);
      let back: Insn[];
      try {
        back = assemble(text, { syntax: style === 'ubpf' ? 'ubpf' : 'llvm' });
      } catch (e) {
        assert.fail(`${show(insn)}\n  printed as '${text}'\n  does not assemble: ${(e as Error).message}`);
      }
      assert.deepEqual(back, [insn], `'${text}'`);
      // and the syntax detection finds the same
      assert.deepEqual(assemble(text), [insn], `auto: '${text}'`);
    }
  });
}

for (const style of ['llvm', 'ubpf', 'kernel'] as const) {
  test(`assemble(disassemble(p, '${style}')) deep-equals p for random programs (labels for targets)`, () => {
    const r = new Rng(7 + style.length);
    for (let i = 0; i < 300; i++) {
      const prog = randomProgram(r, 1 + r.int(30)).filter((x) => style !== 'kernel' || lossless(x, 'kernel'));
      const fixed = style === 'kernel' ? prog : prog.filter((x) => x.kind !== 'call_kfunc' || style === 'ubpf');
      // Filtering can break jump targets: re-derive a valid program from its bytes or skip it.
      let valid: Insn[];
      try {
        valid = decode(encode(fixed));
      } catch {
        continue;
      }
      const text = disassemble(valid, { style });
      assert.deepEqual(assemble(text), valid, text);
      // bytes in, same text out
      assert.equal(disassemble(encode(valid), { style }), text);
    }
  });
}

test('ubpf: every kind prints and assembles back, offsets or labels', () => {
  const r = new Rng(5);
  const prog = randomProgram(r, 400);
  const text = disassemble(prog, { style: 'ubpf', labels: false });
  assert.deepEqual(assemble(text, { syntax: 'ubpf' }), prog);
});

test('llvm syntax as llvm-mc writes it', () => {
  const src = `
    # comments in three styles
    r0 = 0          // zero
    w1 = w2         ; subregisters
    r1 = 0x1122334455667788 ll
    r2 = *(u64 *)(r1 + 0x70)
    *(u32 *)(r10 - 8) = w1
    lock *(u64 *)(r10 - 0x8) += r1
    w0 = -w0
  loop:
    if r1 > 0x5 goto +0x3 <LBB0_2>
    if w1 s< w2 goto loop
    r0 = bswap16 r0
    r0 = be16 r0
    call 0xe
    call fn
    callx r2
    may_goto +0
    gotol loop
    exit
  fn:
    r0 = *(s8 *)(r1 + 0x0)
    w0 s/= w1
    r0 = (s8)r1
    r1 = atomic_fetch_add((u64 *)(r10 - 0x8), r1)
    r0 = cmpxchg_64(r10 - 0x8, r0, r1)
    r0 = load_acquire((u64 *)(r1 + 0x0))
    store_release((u32 *)(r1 + 0x4), w2)
    exit
  `;
  const insns = assemble(src);
  assert.equal(insns.length, 25);
  assert.deepEqual(insns[0], { kind: 'alu', width: 64, op: 'mov', dst: 0, src: { imm: 0 } });
  assert.deepEqual(insns[2], { kind: 'lddw', dst: 1, pseudo: 'imm', imm: 0x1122334455667788n });
  assert.deepEqual(insns[6], { kind: 'neg', width: 32, dst: 0 });
  assert.deepEqual(insns[7], { kind: 'jmp', width: 64, cond: 'jgt', dst: 1, src: { imm: 5 }, off: 3 });
  assert.deepEqual(insns[8], { kind: 'jmp', width: 32, cond: 'jslt', dst: 1, src: 2, off: -2 }); // lddw takes two slots
  assert.deepEqual(insns[12], { kind: 'call_local', off: 4 });
  assert.deepEqual(insns[15], { kind: 'ja', long: true, off: -9 });
  assert.deepEqual(insns[22], { kind: 'atomic', size: 8, op: 'load_acquire', fetch: false, dst: 0, src: 1, off: 0 });
});

test('kernel verifier log lines assemble, repeated visits and annotations ignored', () => {
  const log = `
func#0 @0
Live regs before insn:
      0: .1........ (bf) r6 = r1
      1: .......... (b7) r1 = 0
      2: .1........ (7b) *(u64 *)(r10 -8) = r1
      3: .......... (bf) r2 = r10
      4: ..2....... (07) r2 += -8
      5: ..2....... (18) r1 = 0xffff888104f0a000
      7: .12....... (85) call bpf_map_lookup_elem#1
      8: 0......... (15) if r0 == 0x0 goto pc+1
      9: 0......... (79) r0 = *(u64 *)(r0 +0)
     10: 0......... (95) exit
0: R1=ctx() R10=fp0
0: (bf) r6 = r1                       ; R1=ctx() R6_w=ctx()
1: (b7) r1 = 0                        ; R1_w=0
2: (7b) *(u64 *)(r10 -8) = r1         ; R1_w=0 R10=fp0 fp-8_w=0
3: (bf) r2 = r10                      ; R2_w=fp0 R10=fp0
4: (07) r2 += -8                      ; R2_w=fp-8
5: (18) r1 = 0xffff888104f0a000       ; R1_w=map_ptr(ks=4,vs=8)
7: (85) call bpf_map_lookup_elem#1    ; R0_w=map_value_or_null(id=1,ks=4,vs=8)
8: (15) if r0 == 0x0 goto pc+1        ; R0_w=map_value(ks=4,vs=8)
9: (79) r0 = *(u64 *)(r0 +0)          ; R0_w=scalar()
10: (95) exit
from 8 to 10: R0_w=0 R6_w=ctx() R10=fp0 fp-8_w=0
10: (95) exit
processed 11 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1
`;
  const insns = assemble(log);
  assert.equal(insns.length, 10);
  assert.deepEqual(insns[5], { kind: 'lddw', dst: 1, pseudo: 'imm', imm: 0xffff888104f0a000n });
  assert.deepEqual(insns[6], { kind: 'call', helper: 1 });
  assert.deepEqual(insns[7], { kind: 'jmp', width: 64, cond: 'jeq', dst: 0, src: { imm: 0 }, off: 1 });
  assert.deepEqual(insns[8], { kind: 'ldx', size: 8, signExtend: false, dst: 0, src: 0, off: 0 });
});

test('llvm-objdump output pastes back in', () => {
  const dump = `
a.o:	file format elf64-bpf

Disassembly of section .text:

0000000000000000 <prog>:
       0:	b7 00 00 00 01 00 00 00	r0 = 0x1
       1:	18 01 00 00 88 77 66 55 00 00 00 00 44 33 22 11	r1 = 0x1122334455667788 ll
       3:	25 01 01 00 05 00 00 00	if r1 > 0x5 goto +0x1 <LBB0_2>
       4:	85 10 00 00 ff ff ff ff	call -0x1
       5:	95 00 00 00 00 00 00 00	exit
`;
  const insns = assemble(dump);
  assert.equal(insns.length, 5);
  assert.deepEqual(insns[2], { kind: 'jmp', width: 64, cond: 'jgt', dst: 1, src: { imm: 5 }, off: 1 });
});

test('ubpf syntax as the conformance suite writes it', () => {
  const src = `
# a comment
mov32 %r0, 0
mov %r1, 0x1
lddw %r1, 0x123456789
ldxh %r0, [%r1+2]
stxdw [%r10-8], %r1
stw [%r10-4], -3
jeq %r1, 0x3, +2
jne %r0, %r1, exit
lock fetch add [%r10-8], %r1
lock cmpxchg32 [%r10-8], %r1 # compares with r0
be16 %r0
swap32 %r0
bswap64 %r0
sdiv32 %r0, %r1
movsx864 %r0, %r1
ja32 L1
call local f
call 5
call %r2
callx %r3
L1:
exit
f:
mov %r0, -1
exit
`;
  const insns = assemble(src);
  assert.equal(insns.length, 23);
  assert.deepEqual(insns[7], { kind: 'jmp', width: 64, cond: 'jne', dst: 0, src: 1, off: 12 }, '`exit` names the first exit');
  assert.deepEqual(insns[8], { kind: 'atomic', size: 8, op: 'add', fetch: true, dst: 10, src: 1, off: -8 });
  assert.deepEqual(insns[9], { kind: 'atomic', size: 4, op: 'cmpxchg', fetch: true, dst: 10, src: 1, off: -8 });
  assert.deepEqual(insns[11], { kind: 'endian', order: 'swap', bits: 32, dst: 0 });
  assert.deepEqual(insns[15], { kind: 'ja', long: true, off: 4 });
  assert.deepEqual(insns[16], { kind: 'call_local', off: 4 });
  assert.deepEqual(insns[18], { kind: 'callx', dst: 2 });
});

test('formatInsn: exact texts of each style', () => {
  const cases: [Insn, string, string, string][] = [
    [{ kind: 'ldx', size: 8, signExtend: false, dst: 1, src: 1, off: 0x70 }, 'r1 = *(u64 *)(r1 + 0x70)', '(79) r1 = *(u64 *)(r1 +112)', 'ldxdw %r1, [%r1+112]'],
    [{ kind: 'jmp', width: 64, cond: 'jgt', dst: 1, src: { imm: 5 }, off: 3 }, 'if r1 > 0x5 goto +0x3', '(25) if r1 > 0x5 goto pc+3', 'jgt %r1, 5, +3'],
    [{ kind: 'neg', width: 32, dst: 0 }, 'w0 = -w0', '(84) w0 = -w0', 'neg32 %r0'],
    [{ kind: 'alu', width: 64, op: 'add', dst: 1, src: { imm: -8 } }, 'r1 += -0x8', '(07) r1 += -8', 'add %r1, -8'],
    [{ kind: 'alu', width: 64, op: 'mov', dst: 1, src: 10 }, 'r1 = r10', '(bf) r1 = r10', 'mov %r1, %r10'],
    [{ kind: 'call', helper: 1 }, 'call 0x1', '(85) call bpf_map_lookup_elem#1', 'call 1'],
    [{ kind: 'call', helper: 5000 }, 'call 0x1388', '(85) call unknown#5000', 'call 0x1388'],
    [{ kind: 'jmp', width: 64, cond: 'jeq', dst: 0, src: { imm: 0 }, off: 1 }, 'if r0 == 0x0 goto +0x1', '(15) if r0 == 0x0 goto pc+1', 'jeq %r0, 0, +1'],
    [{ kind: 'lddw', dst: 1, pseudo: 'imm', imm: 0x1122334455667788n }, 'r1 = 0x1122334455667788 ll', '(18) r1 = 0x1122334455667788', 'lddw %r1, 0x1122334455667788'],
    [{ kind: 'lddw', dst: 1, pseudo: 'map_fd', imm: 3n }, 'ld_pseudo\tr1, 0x1, 0x3', '(18) r1 = 0x3', 'lddw %r1, map_fd(0x3)'],
    [{ kind: 'exit' }, 'exit', '(95) exit', 'exit'],
    [{ kind: 'atomic', size: 8, op: 'add', fetch: false, dst: 10, src: 1, off: -8 }, 'lock *(u64 *)(r10 - 0x8) += r1', '(db) lock *(u64 *)(r10 -8) += r1', 'lock add [%r10-8], %r1'],
    [{ kind: 'atomic', size: 4, op: 'add', fetch: true, dst: 10, src: 1, off: -8 }, 'w1 = atomic_fetch_add((u32 *)(r10 - 0x8), w1)', '(c3) r1 = atomic_fetch_add((u32 *)(r10 -8), r1)', 'lock fetch add32 [%r10-8], %r1'],
    [{ kind: 'endian', order: 'swap', bits: 16, dst: 0 }, 'r0 = bswap16 r0', '(d7) r0 = bswap16 r0', 'swap16 %r0'],
    [{ kind: 'endian', order: 'be', bits: 16, dst: 0 }, 'r0 = be16 r0', '(dc) r0 = be16 r0', 'be16 %r0'],
    [{ kind: 'ldx', size: 1, signExtend: true, dst: 0, src: 1, off: 0 }, 'r0 = *(s8 *)(r1 + 0x0)', '(91) r0 = *(s8 *)(r1 +0)', 'ldxsb %r0, [%r1]'],
    [{ kind: 'alu', width: 32, op: 'sdiv', dst: 0, src: 1 }, 'w0 s/= w1', '(3c) w0 s/= w1', 'sdiv32 %r0, %r1'],
    [{ kind: 'movsx', width: 64, bits: 8, dst: 0, src: 1 }, 'r0 = (s8)r1', '(bf) r0 = (s8)r1', 'movsx864 %r0, %r1'],
    [{ kind: 'ja', long: true, off: -2 }, 'gotol -0x2', '(06) gotol pc-2', 'ja32 -2'],
    [{ kind: 'callx', dst: 2 }, 'callx r2', '(8d) call bpf_unspec#0', 'callx %r2'],
    [{ kind: 'may_goto', off: 4 }, 'may_goto +0x4', '(e5) may_goto pc+4', 'may_goto +4'],
    [{ kind: 'call_local', off: -3 }, 'call -0x3', '(85) call pc-3', 'call local -3'],
    [{ kind: 'ldabs', size: 2, imm: 12 }, 'r0 = *(u16 *)skb[0xc]', '(28) r0 = *(u16 *)skb[12]', 'ldabsh 0xc'],
    [{ kind: 'ldind', size: 1, src: 7, imm: 0 }, 'r0 = *(u8 *)skb[r7]', '(50) r0 = *(u8 *)skb[r7 + 0]', 'ldindb %r7, 0'],
  ];
  for (const [insn, llvm, kernel, ubpf] of cases) {
    assert.equal(formatInsn(insn, 'llvm'), llvm);
    assert.equal(formatInsn(insn, 'kernel'), kernel);
    assert.equal(formatInsn(insn, 'ubpf'), ubpf);
  }
  // plain llvm-objdump -d (no alu32) prints narrow registers as r
  assert.equal(formatInsn({ kind: 'stx', size: 4, dst: 10, src: 1, off: -8 }, 'llvm', { alu32: false }), '*(u32 *)(r10 - 0x8) = r1');
  assert.equal(formatInsn({ kind: 'stx', size: 4, dst: 10, src: 1, off: -8 }, 'llvm'), '*(u32 *)(r10 - 0x8) = w1');
});

test('formatProgram: objdump and verifier-log layouts, with line info', () => {
  const insns = assemble('r0 = 1\nr1 = 0x100000000 ll\nif r0 == r1 goto +1\ncall 5\nexit\n');
  assert.equal(
    formatProgram(insns, { style: 'llvm' }),
    [
      '       0:\tb7 00 00 00 01 00 00 00\tr0 = 0x1',
      '       1:\t18 01 00 00 00 00 00 00 00 00 00 00 01 00 00 00\tr1 = 0x100000000 ll',
      '       3:\t1d 10 01 00 00 00 00 00\tif r0 == r1 goto +0x1',
      '       4:\t85 00 00 00 05 00 00 00\tcall 0x5',
      '       5:\t95 00 00 00 00 00 00 00\texit',
      '',
    ].join('\n'),
  );
  const notes = new Map([[0, 'int x = 1;'], [4, 'return bpf_ktime_get_ns();']]);
  assert.equal(
    formatProgram(insns, { style: 'kernel', lineInfo: (slot) => notes.get(slot) }),
    [
      '; int x = 1;',
      '0: (b7) r0 = 1',
      '1: (18) r1 = 0x100000000',
      '3: (1d) if r0 == r1 goto pc+1',
      '; return bpf_ktime_get_ns();',
      '4: (85) call bpf_ktime_get_ns#5',
      '5: (95) exit',
      '',
    ].join('\n'),
  );
  // the listings paste back into the assembler
  assert.deepEqual(assemble(formatProgram(insns, { style: 'llvm' })), insns);
  assert.deepEqual(assemble(formatProgram(insns, { style: 'kernel' })), insns);
  assert.equal(formatProgram(insns, { style: 'kernel', startSlot: 10 }).split('\n')[1], '11: (18) r1 = 0x100000000');
});
