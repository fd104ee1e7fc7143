import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkClassic, CbpfCheckError, isValidClassic, parseListing, type SockFilter, SKF_AD_OFF } from '../../src/cbpf/index.js';
import { kernelAttachErrnos, tcpdumpListing } from './tools.js';
import { randomValidProgram, rng } from './random.js';

const EINVAL = 22;

function mutate(next: () => number, prog: SockFilter[]): SockFilter[] {
  const out = prog.map((f) => ({ ...f }));
  const i = next() % out.length;
  switch (next() % 8) {
    case 0: out[i] = { ...out[i], code: next() % 0x100 }; break;
    case 1: out[i] = { ...out[i], jt: next() % 256, jf: next() % 256 }; break;
    case 2: out[i] = { ...out[i], k: next() % 2 ? next() : next() % 40 }; break;
    case 3: out[i] = { ...out[i], k: (SKF_AD_OFF + (next() % 80)) >>> 0 }; break;
    case 4: out.splice(i, 1); break; // may drop a store or make a jump overshoot
    case 5: out.length = Math.max(0, i); break;
    case 6: out[i] = { code: [0x34, 0x94, 0x64, 0x74, 0x60, 0x61, 0x02, 0x03][next() % 8], jt: 0, jf: 0, k: next() % 3 ? next() % 40 : 0 }; break;
    case 7: out[i] = { code: [0x60, 0x61][next() % 2], jt: 0, jf: 0, k: next() % 16 }; break;
  }
  return out;
}

test('our checker accepts and refuses exactly what SO_ATTACH_FILTER does (3000 programs)', () => {
  const next = rng(12345);
  const programs: SockFilter[][] = [];
  for (let i = 0; i < 3000; i++) {
    let p = randomValidProgram(next, 3 + (next() % 50), { ancillary: true });
    const rounds = i % 4; // a quarter stay valid
    for (let r = 0; r < rounds; r++) p = mutate(next, p);
    programs.push(p);
  }
  programs.push([], Array.from({ length: 4096 }, () => ({ code: 6, jt: 0, jf: 0, k: 0 })), Array.from({ length: 4097 }, () => ({ code: 6, jt: 0, jf: 0, k: 0 })));
  const errnos = kernelAttachErrnos(programs);
  let accepted = 0;
  programs.forEach((p, i) => {
    const ours = isValidClassic(p);
    assert.equal(ours, errnos[i] === 0, `program ${i}: kernel errno ${errnos[i]}, ours ${ours}:\n${JSON.stringify(p)}`);
    if (!ours) assert.equal(errnos[i], EINVAL);
    if (ours) accepted++;
  });
  assert.ok(accepted > 700 && accepted < 2500, `a useful mix: ${accepted} accepted`);
});

test('every tcpdump-compiled filter passes the checker', () => {
  for (const expr of ['ip and tcp port 80', 'vlan and ip', 'tcp[tcpflags] & tcp-syn != 0', 'ip6 and udp port 53', 'len > 100']) {
    checkClassic(parseListing(tcpdumpListing(expr, 3)));
  }
});

test('errors name the instruction the kernel stops at', () => {
  const r = (code: number, k = 0, jt = 0, jf = 0): SockFilter => ({ code, jt, jf, k });
  const cases: [SockFilter[], number, RegExp][] = [
    [[r(0x34, 0), r(0x16)], 0, /division by constant zero/],
    [[r(0x00), r(0x64, 32), r(0x16)], 1, /shift by 32/],
    [[r(0x00), r(0x60, 3), r(0x16)], 1, /M\[3\] may be read before it is written/],
    [[r(0x00), r(0x02, 16), r(0x16)], 1, /scratch memory index 16/],
    [[r(0x05, 1), r(0x16)], 0, /jump by 1 goes past the end/],
    [[r(0x15, 0, 0, 2), r(0x16)], 0, /jump target 3 is past the end/],
    [[r(0x00), r(0x00)], 1, /last instruction is not a return/],
    [[r(0x20, (SKF_AD_OFF + 64) >>> 0), r(0x16)], 0, /unknown ancillary load SKF_AD_OFF\+64/],
    [[r(0x0e), r(0x16)], 0, /opcode 0xe is not allowed/],
    // M[0] written on one path only.
    [[r(0x15, 0, 0, 1), r(0x02, 0), r(0x60, 0), r(0x16)], 2, /M\[0\] may be read/],
  ];
  for (const [prog, index, re] of cases) {
    assert.throws(() => checkClassic(prog), (e: unknown) => e instanceof CbpfCheckError && e.index === index && re.test(e.message) && e.message.startsWith(`instruction ${index}: `));
  }
  // Written on both paths: fine.
  checkClassic([r(0x15, 0, 0, 2), r(0x02, 0), r(0x05, 1), r(0x02, 0), r(0x60, 0), r(0x16)]);
});
