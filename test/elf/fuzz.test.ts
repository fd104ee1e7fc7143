import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { BpfkitError } from '../../src/errors/index.js';
import { Btf, BtfError, dumpCHeader, formatRaw, parseBtfExt } from '../../src/btf/index.js';
import { ElfError, loadCollectionSpec, readElf } from '../../src/elf/index.js';
import { allFixtures, readBytes } from '../helpers/fixtures.js';

/** xorshift32: reproducible corruption. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

function mutate(src: Uint8Array, r: () => number, hot: readonly [number, number][]): Uint8Array {
  const b = src.slice();
  const pick = (): number => {
    // Half the time aim at a structurally interesting range (headers, tables).
    if (hot.length && r() < 0.5) {
      const [lo, hi] = hot[Math.floor(r() * hot.length)];
      return lo + Math.floor(r() * Math.max(1, hi - lo));
    }
    return Math.floor(r() * b.length);
  };
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const op = r();
    const at = Math.min(pick(), b.length - 1);
    if (op < 0.4) b[at] ^= 1 << Math.floor(r() * 8);
    else if (op < 0.7) {
      const v = [0, 0xff, 0x7f, 0x80][Math.floor(r() * 4)];
      for (let k = 0; k < 4 && at + k < b.length; k++) b[at + k] = v;
    } else if (op < 0.85) b[at] = Math.floor(r() * 256);
    else return b.subarray(0, Math.floor(r() * b.length));
  }
  return b;
}

function expectTyped(f: () => unknown, what: string): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof BpfkitError)) assert.fail(`${what}: raw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
    assert.ok(e instanceof ElfError || e instanceof BtfError, `${what}: unexpected ${e.name}`);
  }
}

let fixtures: Awaited<ReturnType<typeof allFixtures>>;
before(async () => {
  fixtures = await allFixtures();
});

const ITERATIONS = Number(process.env.BPFKIT_FUZZ_ITERATIONS ?? 300);
const SEED = Number(process.env.BPFKIT_FUZZ_SEED ?? 0);

test(`corrupted objects give only ElfError or BtfError (${ITERATIONS} per object)`, () => {
  for (const [fi, f] of fixtures.filter((x) => x.name !== 'core').entries()) {
    const bytes = readBytes(f.path);
    const elf = readElf(bytes);
    const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0x28, elf.littleEndian));
    const hot: [number, number][] = [[0, 64], [shoff, bytes.length]];
    for (const s of elf.sections) if (['.symtab', '.BTF', '.BTF.ext', '.maps', 'maps'].includes(s.name) || s.name.startsWith('.rel')) hot.push([s.offset, s.offset + s.size]);
    const r = rng(0x5eed + fi + SEED * 7919);
    for (let i = 0; i < ITERATIONS; i++) {
      const m = mutate(bytes, r, hot);
      expectTyped(() => loadCollectionSpec(m), `${f.name}.${f.endian} iteration ${i}`);
    }
  }
});

test(`corrupted BTF and .BTF.ext give only BtfError (${Math.ceil(ITERATIONS / 3)} per blob)`, () => {
  for (const [fi, f] of fixtures.entries()) {
    const elf = readElf(readBytes(f.path));
    const btfBytes = elf.sections.find((s) => s.name === '.BTF')!.data;
    const extBytes = elf.sections.find((s) => s.name === '.BTF.ext')!.data;
    const good = Btf.parse(btfBytes);
    const r = rng(0xb7f + fi + SEED * 7919);
    const iterations = Math.ceil((f.name === 'core' ? ITERATIONS / 10 : ITERATIONS) / 3);
    for (let i = 0; i < iterations; i++) {
      const m = mutate(btfBytes, r, [[0, 24], [24, Math.min(btfBytes.length, 2048)]]);
      expectTyped(() => {
        const btf = Btf.parse(m);
        for (const t of btf.types()) void t;
        formatRaw(btf);
        if (f.name !== 'core') dumpCHeader(btf);
      }, `${f.name} BTF iteration ${i}`);
      const e = mutate(extBytes, r, [[0, 32]]);
      expectTyped(() => parseBtfExt(e, good), `${f.name} BTF.ext iteration ${i}`);
    }
  }
});
