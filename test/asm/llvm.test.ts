/**
 * Differential tests against LLVM 19: the bytes llvm-mc makes of our llvm
 * text equal our encoding, and llvm-objdump prints what formatInsn prints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, disassemble, formatInsn } from '../../src/asm/index.js';
import { decode, encode, slotIndex, type Insn } from '../../src/isa/index.js';
import { randomInsn, Rng, s16 } from '../isa/gen.js';
import { llvmBuild, needTools, normalise, withTempDir } from './tools.js';

const TOOLS = ['llvm-mc-19', 'llvm-objdump-19', 'llvm-objcopy-19'];

/** What llvm-mc 19 can assemble from our text (see format-llvm.ts for the rest). */
function llvmCanAssemble(insn: Insn): boolean {
  switch (insn.kind) {
    case 'atomic':
      return insn.op !== 'load_acquire' && insn.op !== 'store_release'; // LLVM 20
    case 'ldind':
      return insn.imm === 0; // objdump and llvm-mc drop the immediate
    case 'lddw':
      return insn.pseudo === 'imm' || insn.imm >> 32n === 0n; // ld_pseudo keeps 32 bits
    case 'call_local': // `call N` is a helper call to LLVM
    case 'call_kfunc':
      return false;
    default:
      return true;
  }
}

/** One hand-written line per instruction form, all of them written as llvm-mc documents them. */
const CORPUS = `
  r0 = 0x1
  r1 = r2
  w1 = w2
  w1 = 0x5
  r1 = -0x80000000
  r1 += 0x2
  r1 += r2
  w1 += -0x3
  r1 -= r2
  w3 -= 0x7fffffff
  r1 *= r2
  r1 /= r2
  r1 s/= r2
  w1 s/= w2
  r1 %= r2
  r1 s%= r2
  w1 s%= 0x3
  r1 |= r2
  r1 &= r2
  r1 <<= r2
  r1 >>= r2
  r1 s>>= r2
  w4 s>>= 0x1f
  r1 ^= r2
  r1 = -r1
  w1 = -w1
  r1 = (s8)r2
  r1 = (s16)r2
  r1 = (s32)r2
  w1 = (s8)w2
  w1 = (s16)w2
  r1 = be16 r1
  r1 = be32 r1
  r1 = be64 r1
  r1 = le16 r1
  r1 = le32 r1
  r1 = le64 r1
  r1 = bswap16 r1
  r1 = bswap32 r1
  r1 = bswap64 r1
  r1 = 0x1122334455667788 ll
  r1 = -0x1 ll
  ld_pseudo r1, 0x1, 0x3
  ld_pseudo r2, 0x2, 0xffffffff
  r0 = *(u32 *)skb[0x4]
  r0 = *(u16 *)skb[-0x4]
  r0 = *(u8 *)skb[r3]
  w0 = *(u8 *)(r1 + 0x0)
  w0 = *(u16 *)(r1 - 0x2)
  w0 = *(u32 *)(r1 + 0x4)
  r0 = *(u64 *)(r1 + 0x7fff)
  r0 = *(s8 *)(r1 - 0x8000)
  r0 = *(s16 *)(r1 + 0x0)
  r0 = *(s32 *)(r1 + 0x0)
  *(u8 *)(r10 - 0x8) = w1
  *(u16 *)(r10 - 0x8) = w1
  *(u32 *)(r10 - 0x8) = w1
  *(u64 *)(r10 - 0x8) = r1
  *(u8 *)(r10 - 0x8) = 0x5
  *(u16 *)(r10 + 0x0) = 0xffff
  *(u32 *)(r10 - 0x8) = -0x80000000
  *(u64 *)(r10 - 0x8) = -0x5
  lock *(u64 *)(r10 - 0x8) += r1
  lock *(u32 *)(r10 - 0x8) += w1
  lock *(u64 *)(r10 - 0x8) |= r1
  lock *(u32 *)(r10 - 0x8) |= w1
  lock *(u64 *)(r10 - 0x8) &= r1
  lock *(u32 *)(r10 - 0x8) &= w1
  lock *(u64 *)(r10 - 0x8) ^= r1
  lock *(u32 *)(r10 - 0x8) ^= w1
  r1 = atomic_fetch_add((u64 *)(r10 - 0x8), r1)
  w1 = atomic_fetch_add((u32 *)(r10 - 0x8), w1)
  r1 = atomic_fetch_or((u64 *)(r10 - 0x8), r1)
  w1 = atomic_fetch_or((u32 *)(r10 - 0x8), w1)
  r1 = atomic_fetch_and((u64 *)(r10 - 0x8), r1)
  w1 = atomic_fetch_and((u32 *)(r10 - 0x8), w1)
  r1 = atomic_fetch_xor((u64 *)(r10 - 0x8), r1)
  w1 = atomic_fetch_xor((u32 *)(r10 - 0x8), w1)
  r1 = xchg_64(r10 - 0x8, r1)
  w1 = xchg32_32(r10 - 0x8, w1)
  r0 = cmpxchg_64(r10 - 0x8, r0, r1)
  w0 = cmpxchg32_32(r10 - 0x8, w0, w1)
  if r1 == 0x5 goto +0x3
  if r1 == r2 goto -0x1
  if r1 != r2 goto +0x0
  if r1 > 0x5 goto +0x3
  if r1 >= r2 goto +0x3
  if r1 < 0x5 goto +0x3
  if r1 <= r2 goto +0x3
  if r1 & 0x5 goto +0x3
  if r1 s> r2 goto +0x3
  if r1 s>= -0x1 goto +0x3
  if r1 s< r2 goto +0x3
  if r1 s<= r2 goto +0x3
  if w1 == -0x1 goto +0x5
  if w1 s< 0x5 goto +0x3
  if w1 & w2 goto +0x3
  if w1 <= w2 goto -0x8000
  goto +0x2
  goto +0x7fff
  gotol +0x2
  gotol -0x8000
  call 0xe
  call -0x1
  callx r2
  may_goto +0x1
  exit
`;

test('llvm-mc assembles our corpus to the bytes we encode, and llvm-objdump prints what we print', (t) => {
  if (!needTools(t, ...TOOLS)) return;
  const ours = assemble(CORPUS, { syntax: 'llvm' });
  withTempDir((dir) => {
    const llvm = llvmBuild(dir, CORPUS, 's');
    assert.deepEqual(Buffer.from(encode(ours)).toString('hex'), Buffer.from(llvm.text).toString('hex'));
    compareDump(ours, llvm.dump, {});
    const plain = llvmBuild(dir, CORPUS, 's', []);
    // Plain `llvm-objdump -d` (no alu32) cannot print the 32-bit fetch atomics: compare the rest.
    compareDump(ours, plain.dump, { alu32: false }, (i) => !(i.kind === 'atomic' && i.size === 4 && (i.fetch || i.op !== 'add')));
  });
});

function compareDump(insns: readonly Insn[], dump: { slot: number; text: string }[], ctx: { alu32?: boolean }, keep: (i: Insn) => boolean = () => true): void {
  const slots = slotIndex(insns);
  assert.equal(dump.length, insns.length, 'one objdump line per instruction');
  let compared = 0;
  insns.forEach((insn, i) => {
    assert.equal(dump[i].slot, slots[i]);
    if (!keep(insn)) return;
    assert.equal(normalise(formatInsn(insn, 'llvm', ctx)), dump[i].text, `slot ${slots[i]}`);
    compared++;
  });
  assert.ok(compared > 0);
}

test('3000 random instructions: same bytes as llvm-mc, same text as llvm-objdump', (t) => {
  if (!needTools(t, ...TOOLS)) return;
  const r = new Rng(33);
  const insns: Insn[] = [];
  while (insns.length < 3000) {
    // llvm-mc takes numeric jump offsets only in 16 bits, gotol included.
    const insn = randomInsn(r, { offset: (rr) => s16(rr) });
    if (llvmCanAssemble(insn)) insns.push(insn);
  }
  const text = insns.map((i) => `\t${formatInsn(i, 'llvm')}\n`).join('');
  withTempDir((dir) => {
    const llvm = llvmBuild(dir, text, 's');
    const ours = encode(insns);
    assert.equal(llvm.text.length, ours.length);
    for (let i = 0, slots = slotIndex(insns); i < insns.length; i++) {
      const a = Buffer.from(ours.subarray(slots[i] * 8, slots[i + 1] * 8)).toString('hex');
      const b = Buffer.from(llvm.text.subarray(slots[i] * 8, slots[i + 1] * 8)).toString('hex');
      assert.equal(a, b, `'${formatInsn(insns[i], 'llvm')}'`);
    }
    compareDump(insns, llvm.dump, {});
  });
});

const C_SOURCE = `
typedef unsigned long long u64;
typedef unsigned int u32;
typedef signed char s8;
typedef short s16;
static long (*bpf_trace_printk)(const char *fmt, u32 fmt_size, ...) = (void *)6;

struct counters { u64 hits; u32 flags; s8 small; s16 mid; };

__attribute__((noinline)) static u64 mix(u64 a, u64 b) {
  return (a ^ (b << 7)) * 0x9e3779b97f4a7c15ULL + __builtin_bswap32((u32)b);
}

int prog(struct counters *c) {
  u64 sum = 0;
  for (int i = 0; i < 16; i++) {
    if (c->flags & (1u << i)) sum += mix(sum, (u64)c->small * i);
    else sum -= (long)c->mid / (i + 1);
  }
  __sync_fetch_and_add(&c->hits, 1);
  u64 old = __sync_fetch_and_or(&c->hits, sum);
  __sync_val_compare_and_swap(&c->flags, 3, (u32)old);
  return (int)(sum % 1000) + (s8)c->flags;
}

int other(u32 *p) {
  u32 v = __atomic_exchange_n(p, 7, __ATOMIC_SEQ_CST);
  return (int)(v >> 3) + (int)__builtin_bswap64(v) + (int)(((long)(int)v) / -3);
}
`;

test('clang-19 -mcpu=v4 output: our disassembly matches llvm-objdump and assembles back', (t) => {
  if (!needTools(t, 'clang-19', ...TOOLS)) return;
  withTempDir((dir) => {
    const obj = llvmBuild(dir, C_SOURCE, 'c');
    const insns = decode(obj.text, { checkTargets: false });
    assert.ok(insns.length > 20);
    compareDump(insns, obj.dump, {});
    // the disassembly (labels on branch targets) assembles back to the same instructions
    assert.deepEqual(assemble(disassemble(insns, { style: 'llvm' })), insns);
  });
});
