/**
 * Differential test against the running kernel: the verifier log (log level
 * 2) prints every instruction as kernel/bpf/disasm.c formats it, and our
 * kernel style must print the same text. Needs root and bpf(2); skips (or
 * fails under BPFKIT_REQUIRE_KERNEL=1) where the kernel is unusable.
 */
import assert from 'node:assert/strict';
import { assemble, formatInsn } from '../../src/asm/index.js';
import { slotIndex, type Insn } from '../../src/isa/index.js';
import { loadProgram, VerifierError } from '../../src/kernel/index.js';
import { checkFdLeaks, kernelAtLeast, kernelTest } from '../helpers/kernel.js';
import { randomInsn, Rng } from '../isa/gen.js';

checkFdLeaks();

/** The verifier log of a load, accepted or not. */
function verifierLog(insns: readonly Insn[]): string {
  try {
    const prog = loadProgram({ type: 'socket_filter', insns, logLevel: 2, logSize: 1 << 22 });
    const log = prog.log ?? '';
    prog.close();
    return log;
  } catch (e) {
    if (e instanceof VerifierError) return e.log;
    throw e;
  }
}

/**
 * Instruction lines of a log: the processed ones (`12: (b7) r0 = 1   ; R0=1`)
 * and, on Linux 6.15+, the liveness table (`     12: 0123...... (b7) r0 = 1`).
 */
function logInsns(log: string): { slot: number; text: string }[] {
  const out: { slot: number; text: string }[] = [];
  for (const line of log.split('\n')) {
    const m = /^\s*(\d+): (?:[.0-9]{10} )?(\([0-9a-f]{2}\) .*?)(?:\s+; .*)?$/.exec(line);
    if (m) out.push({ slot: Number(m[1]), text: m[2].trimEnd() });
  }
  return out;
}

function compareWithKernel(insns: readonly Insn[]): number {
  const log = verifierLog(insns);
  const slots = slotIndex(insns);
  const bySlot = new Map(insns.map((insn, i) => [slots[i], insn]));
  const lines = logInsns(log);
  for (const { slot, text } of lines) {
    const insn = bySlot.get(slot);
    assert.ok(insn, `log line for slot ${slot}, which starts no instruction`);
    assert.equal(formatInsn(insn, 'kernel'), text, `slot ${slot}`);
  }
  return new Set(lines.map((l) => l.slot)).size;
}

const EVERY_KIND = `
  r6 = r1
  r1 = 5
  r2 = 7
  w3 = -3
  r1 += r2
  r1 += -8
  w1 -= w2
  r1 *= 3
  r1 /= r2
  r2 = 3
  r1 s/= r2
  w1 s%= 3
  r1 |= 0x10
  r1 &= r2
  r1 <<= 3
  r1 >>= 1
  r1 s>>= 2
  r1 ^= r2
  r1 = -r1
  w1 = -w1
  r1 = (s8)r2
  w1 = (s16)w2
  r1 = (s32)r2
  r1 = be16 r1
  r1 = le32 r1
  r1 = bswap64 r1
  r1 = 0x1122334455667788 ll
  *(u64 *)(r10 - 8) = r1
  *(u32 *)(r10 - 16) = 0xffffffff
  *(u8 *)(r10 - 12) = 5
  r2 = *(u64 *)(r10 - 8)
  r2 = *(s16 *)(r10 - 8)
  w2 = *(u32 *)(r10 - 16)
  lock *(u64 *)(r10 - 8) += r1
  lock *(u32 *)(r10 - 16) |= w1
  r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)
  w1 = atomic_fetch_xor((u32 *)(r10 - 16), w1)
  r1 = xchg_64(r10 - 8, r1)
  w1 = xchg32_32(r10 - 16, w1)
  r0 = 0
  r0 = cmpxchg_64(r10 - 8, r0, r1)
  w0 = cmpxchg32_32(r10 - 16, w0, w1)
  r0 = load_acquire((u64 *)(r10 - 8))
  store_release((u32 *)(r10 - 16), w1)
  r0 = *(u16 *)skb[12]
  r7 = 2
  r0 = *(u8 *)skb[r7 + 3]
  r1 = 9
  if r1 > 5 goto +0
  if w1 s< -1 goto +0
  r2 = 1
  if r1 == r2 goto +0
  if w0 & 0xff goto +0
  goto +0
  gotol +0
  may_goto +0
  call 5
  call 7
  call sub
  r0 = 0
  exit
sub:
  r0 = 1
  exit
`;

kernelTest('kernel style prints what the verifier log prints, for every instruction kind', () => {
  const insns = assemble(EVERY_KIND);
  const seen = compareWithKernel(insns);
  assert.equal(seen, insns.length, 'the log shows every instruction');
});

kernelTest('kernel style matches the verifier log for random straight-line programs', () => {
  const r = new Rng(40);
  let compared = 0;
  let total = 0;
  for (let p = 0; p < 20; p++) {
    const body: Insn[] = [{ kind: 'alu', width: 64, op: 'mov', dst: 6, src: 1 }];
    for (let i = 0; i < 150; i++) {
      const insn = randomInsn(r, { kinds: ['alu', 'neg', 'movsx', 'endian', 'lddw', 'ldx', 'st', 'stx', 'atomic', 'jmp', 'ldabs', 'ldind', 'call'] });
      // Shapes the kernel's early passes accept, so the log gets to print them.
      if (insn.kind === 'lddw' && insn.pseudo !== 'imm') continue;
      body.push(insn);
    }
    body.push({ kind: 'alu', width: 64, op: 'mov', dst: 0, src: { imm: 0 } }, { kind: 'alu', width: 64, op: 'mov', dst: 0, src: { imm: 0 } }, { kind: 'alu', width: 64, op: 'mov', dst: 0, src: { imm: 0 } }, { kind: 'exit' });
    // Conditional jumps go forward to an instruction start, so every instruction stays reachable.
    const slots = slotIndex(body);
    const prog = body.map((insn, i): Insn => {
      if (insn.kind !== 'jmp') return insn;
      const target = Math.min(body.length - 1, i + 1 + r.int(4));
      return { ...insn, off: slots[target] - (slots[i] + 1) };
    });
    compared += compareWithKernel(prog);
    total += prog.length;
  }
  // Linux 6.15+ lists every instruction in its liveness table; older ones only those the verifier walks.
  if (kernelAtLeast('6.15')) assert.equal(compared, total, `compared ${compared} of ${total} instructions`);
  else assert.ok(compared > 0);
});
