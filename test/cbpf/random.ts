/** Deterministic random classic BPF programs for property and differential tests. */
import type { SockFilter } from '../../src/cbpf/index.js';
import { SKF_AD_OFF } from '../../src/cbpf/index.js';

/** xorshift32: small, seedable, the same sequence everywhere. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

const ALU_K = [0x04, 0x14, 0x24, 0x34, 0x94, 0x54, 0x44, 0xa4, 0x64, 0x74];
const ALU_X = [0x0c, 0x1c, 0x2c, 0x3c, 0x9c, 0x5c, 0x4c, 0xac, 0x6c, 0x7c];
const JMPS = [0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d];
const ANC = [0, 4, 8, 20, 24, 32, 40, 44, 48, 60];

/**
 * A random program the kernel's checker accepts: forward jumps in range,
 * stores before loads on every path (all of M written at the start when used),
 * no division by constant zero, shifts below 32, ends with a return.
 */
export function randomValidProgram(next: () => number, length: number, opts: { ancillary?: boolean } = {}): SockFilter[] {
  const pick = <T>(xs: readonly T[]) => xs[next() % xs.length];
  const out: SockFilter[] = [];
  const smallK = () => [0, 1, 2, 3, 12, 14, 20, 23, 0x800, 0x86dd, 0xffffffff, 0x80000000, next()][next() % 13] >>> 0;
  // Write every scratch word first so any later load is valid.
  const memUsed = next() % 2 === 0;
  if (memUsed) for (let m = 0; m < 16; m++) out.push({ code: next() % 2 ? 0x02 : 0x03, jt: 0, jf: 0, k: m });
  const bodyLen = Math.max(1, length - out.length - 2);
  const start = out.length;
  for (let i = 0; i < bodyLen; i++) {
    const pc = start + i;
    const remaining = start + bodyLen + 2 - pc - 1; // instructions after this one
    const r = next() % 20;
    let f: SockFilter;
    if (r < 3) f = { code: pick([0x20, 0x28, 0x30]), jt: 0, jf: 0, k: next() % 80 };
    else if (r < 5) f = { code: pick([0x40, 0x48, 0x50]), jt: 0, jf: 0, k: next() % 60 };
    else if (r < 6) f = { code: 0xb1, jt: 0, jf: 0, k: next() % 60 };
    else if (r < 9) {
      const code = pick(ALU_K);
      let k = smallK();
      if ((code === 0x34 || code === 0x94) && k === 0) k = 3;
      if (code === 0x64 || code === 0x74) k = next() % 32;
      f = { code, jt: 0, jf: 0, k };
    } else if (r < 11) f = { code: pick(ALU_X), jt: 0, jf: 0, k: 0 };
    else if (r < 14) {
      const max = Math.min(255, remaining - 1);
      f = { code: pick(JMPS), jt: next() % (max + 1), jf: next() % (max + 1), k: smallK() };
    } else if (r < 15) f = { code: 0x05, jt: 0, jf: 0, k: next() % Math.max(1, remaining - 1) };
    else if (r < 16) f = { code: pick([0x00, 0x01]), jt: 0, jf: 0, k: smallK() };
    else if (r < 17) f = { code: pick([0x07, 0x87, 0x84, 0x80, 0x81]), jt: 0, jf: 0, k: 0 };
    else if (r < 18 && memUsed) f = { code: pick([0x60, 0x61, 0x02, 0x03]), jt: 0, jf: 0, k: next() % 16 };
    else if (r < 19 && opts.ancillary) f = { code: pick([0x20, 0x28, 0x30]), jt: 0, jf: 0, k: (SKF_AD_OFF + pick(ANC)) >>> 0 };
    else f = { code: pick([0x06, 0x16]), jt: 0, jf: 0, k: pick([0, 1, 0xffff, 262144, 0xffffffff]) };
    out.push(f);
  }
  out.push({ code: 0x16, jt: 0, jf: 0, k: 0 }, { code: 0x06, jt: 0, jf: 0, k: 0x40000 });
  return out;
}

/** Random packet bytes with a plausible Ethernet/IPv4 start half the time. */
export function randomPacket(next: () => number): Uint8Array {
  const len = next() % 90;
  const p = new Uint8Array(len);
  for (let i = 0; i < len; i++) p[i] = next() & 0xff;
  if (len > 14 && next() % 2) {
    p[12] = 0x08;
    p[13] = 0x00;
    p[14] = 0x45;
  }
  return p;
}
