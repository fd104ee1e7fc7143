/**
 * Random programs: the kernel and bpfkit's verifier must agree on every
 * verdict (no unsafe accepts in particular) and on the first error; and the
 * verifier must never crash or hang on any decodable input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kernelTest } from '../helpers/kernel.js';
import type { Insn, Reg } from '../../src/isa/index.js';
import { verify, type ProgType } from '../../src/verifier/index.js';
import { kernelVerify, possibleCpus } from './kernel-oracle.js';
import { randomProgram, rng, structuredProgram } from './random-programs.js';

const TYPES: ProgType[] = ['socket_filter', 'xdp', 'tracepoint', 'sched_cls', 'kprobe'];

kernelTest('1500 random programs: same verdicts and first errors as the kernel', (t) => {
  const next = rng(20261121);
  const nrCpus = possibleCpus();
  let accepted = 0, firstErr = 0, refused = 0;
  const problems: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const prog = randomProgram(next);
    const type = TYPES[i % TYPES.length];
    const k = kernelVerify(prog, type, [], 1);
    const o = verify(prog, { progType: type, logLevel: 1, nrCpus });
    if (k.accepted) accepted++;
    if (k.accepted !== o.accepted) {
      problems.push(`#${i} ${type}: kernel ${k.accepted ? 'accepts' : 'refuses'}, ours ${o.accepted ? 'accepts' : 'refuses'}\n--- kernel\n${k.log}--- ours\n${o.log}`);
      continue;
    }
    if (!k.accepted) {
      refused++;
      if (k.log.includes(o.errors[0].message)) firstErr++;
      else problems.push(`#${i} ${type}: first error '${o.errors[0].message}'\n--- kernel\n${k.log}`);
    }
  }
  t.diagnostic(`kernel accepted ${accepted}/1500; first errors identical ${firstErr}/${refused}`);
  assert.deepEqual(problems.slice(0, 3), []);
});

kernelTest('1000 structured XDP programs near the safety edge: same verdicts and logs as the kernel', (t) => {
  const next = rng(4);
  const maps = [{ type: 'hash', keySize: 4, valueSize: 16, maxEntries: 4 }] as const;
  const nrCpus = possibleCpus();
  let accepted = 0, sameLog = 0;
  const problems: string[] = [];
  const norm = (log: string): string => log.replace(/ +;/g, ' ;').replace(/\(18\) r(\d+) = 0x[0-9a-f]+/g, '(18) r$1 = ADDR').replace(/\bP(-?\d)/g, '$1');
  for (let i = 0; i < 1000; i++) {
    const prog = structuredProgram(next);
    const k = kernelVerify(prog, 'xdp', maps, 1);
    const o = verify(prog, { progType: 'xdp', logLevel: 1, maps, nrCpus });
    if (k.accepted) accepted++;
    if (norm(k.log) === norm(o.log)) sameLog++;
    if (k.accepted !== o.accepted) problems.push(`#${i}: kernel ${k.accepted ? 'accepts' : 'refuses'}\n--- kernel\n${k.log}--- ours\n${o.log}`);
    else if (!k.accepted && !k.log.includes(o.errors[0].message)) problems.push(`#${i}: first error '${o.errors[0].message}'\n--- kernel\n${k.log}`);
  }
  t.diagnostic(`kernel accepted ${accepted}/1000; identical level-1 logs ${sameLog}/1000`);
  assert.deepEqual(problems.slice(0, 3), []);
});

test('the verifier never throws or hangs on wild programs', () => {
  const next = rng(7);
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  for (let i = 0; i < 3000; i++) {
    const prog: Insn[] = randomProgram(next).map((insn): Insn => {
      const r = next();
      // Wild jumps (backwards, out of range), local calls, wide immediates and odd instructions.
      if (r < 0.08) return { kind: 'ja', long: false, off: int(-6, 6) };
      if (r < 0.12) return { kind: 'jmp', width: 64, cond: 'jgt', dst: int(0, 10) as Reg, src: { imm: int(-2, 300) }, off: int(-8, 8) };
      if (r < 0.15) return { kind: 'call_local', off: int(-4, 6) };
      if (r < 0.17) return { kind: 'lddw', dst: int(0, 10) as Reg, pseudo: next() < 0.5 ? 'imm' : 'map_fd', imm: BigInt(int(0, 3)) };
      if (r < 0.19) return { kind: 'may_goto', off: int(-4, 4) };
      if (r < 0.21) return { kind: 'atomic', size: 8, op: 'add', fetch: next() < 0.5, dst: 10, src: int(0, 9) as Reg, off: -8 * int(1, 4) };
      if (r < 0.23) return { kind: 'ldabs', size: 1, imm: int(0, 60) };
      if (r < 0.25) return { kind: 'call', helper: int(0, 220) };
      return insn;
    });
    const r = verify(prog, { progType: TYPES[i % TYPES.length], logLevel: (i % 3) as 0 | 1 | 2, insnLimit: 20000, maps: [{ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 }] });
    assert.equal(typeof r.accepted, 'boolean');
    if (!r.accepted) assert.ok(r.errors.length > 0 && r.errors[0].message.length > 0, JSON.stringify(r.errors));
  }
});
