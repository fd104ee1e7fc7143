/**
 * User-space symbolization (usym, ustack frames) on a synthetic process:
 * hand-built ELF headers, symbol lists and /proc/PID/maps texts, so every
 * rule is checked without a running process. The differential tests check
 * the same against bpftrace on a real binary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseMaps, readNativeLayout, readRawSymbols, stdSort, UserSymbolizer, type UserSymbolHost } from '../../src/trace/index.js';

interface Sym { readonly name: string; readonly value: number; readonly size: number }

/**
 * A minimal ELF64 shared object: PT_LOAD segments, an optional build-id
 * note, and a .symtab (with its string table) listing `symbols` in order.
 */
function elf(segments: { offset: number; vaddr: number; size: number }[], symbols: Sym[], buildId?: number[]): Uint8Array {
  const phnum = segments.length + (buildId ? 1 : 0);
  const noteAt = 64 + phnum * 56;
  const noteSize = buildId ? 16 + buildId.length : 0;
  const names = symbols.map((x) => new TextEncoder().encode(`${x.name}\0`));
  const strAt = noteAt + noteSize;
  const strSize = 1 + names.reduce((n, x) => n + x.length, 0);
  const symAt = (strAt + strSize + 7) & ~7;
  const symSize = 24 * (symbols.length + 1);
  const shAt = symAt + symSize;
  const b = new Uint8Array(shAt + 3 * 64);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 3, true);
  v.setUint16(18, 62, true);
  v.setBigUint64(0x20, 64n, true);
  v.setBigUint64(0x28, BigInt(shAt), true);
  v.setUint16(0x34, 64, true);
  v.setUint16(0x36, 56, true);
  v.setUint16(0x38, phnum, true);
  v.setUint16(0x3a, 64, true);
  v.setUint16(0x3c, 3, true);
  segments.forEach((x, i) => {
    const o = 64 + i * 56;
    v.setUint32(o, 1, true);
    v.setBigUint64(o + 8, BigInt(x.offset), true);
    v.setBigUint64(o + 16, BigInt(x.vaddr), true);
    v.setBigUint64(o + 32, BigInt(x.size), true);
  });
  if (buildId) {
    const o = 64 + segments.length * 56;
    v.setUint32(o, 4, true);
    v.setBigUint64(o + 8, BigInt(noteAt), true);
    v.setBigUint64(o + 32, BigInt(noteSize), true);
    v.setUint32(noteAt, 4, true);
    v.setUint32(noteAt + 4, buildId.length, true);
    v.setUint32(noteAt + 8, 3, true);
    b.set([0x47, 0x4e, 0x55, 0], noteAt + 12);
    b.set(buildId, noteAt + 16);
  }
  let at = strAt + 1;
  symbols.forEach((x, i) => {
    const o = symAt + 24 * (i + 1);
    v.setUint32(o, at - strAt, true);
    b[o + 4] = 0x12; // global function
    v.setUint16(o + 6, 1, true);
    v.setBigUint64(o + 8, BigInt(x.value), true);
    v.setBigUint64(o + 16, BigInt(x.size), true);
    b.set(names[i], at);
    at += names[i].length;
  });
  // section 1: .symtab (linked to 2), section 2: its string table
  v.setUint32(shAt + 64 + 4, 2, true);
  v.setBigUint64(shAt + 64 + 24, BigInt(symAt), true);
  v.setBigUint64(shAt + 64 + 32, BigInt(symSize), true);
  v.setUint32(shAt + 64 + 40, 2, true);
  v.setBigUint64(shAt + 64 + 56, 24n, true);
  v.setUint32(shAt + 128 + 4, 3, true);
  v.setBigUint64(shAt + 128 + 24, BigInt(strAt), true);
  v.setBigUint64(shAt + 128 + 32, BigInt(strSize), true);
  return b;
}

const sym = (name: string, value: number, size: number): Sym => ({ name, value, size });

const APP = elf([{ offset: 0x1000, vaddr: 0x1000, size: 0x1000 }, { offset: 0x2000, vaddr: 0x3000, size: 0x1000 }], [
  sym('f', 0x1000, 0x40), sym('outer', 0x1100, 0x100), sym('inner', 0x1120, 0x10),
  sym('__libc_x', 0x1200, 0x20), sym('x@GLIBC_2.2.5', 0x1200, 0x20), sym('x', 0x1200, 0x20),
  sym('g', 0x3000, 0x10), sym('empty', 0x1400, 0), sym('zero', 0, 0x10),
], [0xab, 0xcd, 0xef]);
const FILES: Record<string, Uint8Array> = {
  '/bin/app': APP,
  '/usr/lib/debug/.build-id/ab/cdef.debug': elf([], [sym('hidden', 0x1300, 0x30), sym('__x', 0x1200, 0x20)]),
  '/lib/libx.so': elf([{ offset: 0, vaddr: 0, size: 0x1000 }], [sym('lib_fn', 0x100, 0x10)]),
  '/bin/garbage': new Uint8Array([1, 2, 3]),
};
const MAPS = [
  '7f0000000000-7f0000001000 r--p 00000000 08:01 11 /bin/app',
  '7f0000001000-7f0000002000 r-xp 00001000 08:01 11 /bin/app',
  '7f0000002000-7f0000003000 r-xp 00002000 08:01 11 /bin/app',
  '7f0000010000-7f0000011000 rw-p 00000000 00:00 0 ',
  '7ffff7fc1000-7ffff7fc3000 r-xp 00000000 00:00 0                          [vdso]',
  '7f0000020000-7f0000021000 r-xp 00000000 08:01 12 /bin/garbage',
].join('\n');

function host(state: { exe?: string; maps: string }): UserSymbolHost & { reads: Record<string, number> } {
  const reads: Record<string, number> = {};
  const count = (k: string) => { reads[k] = (reads[k] ?? 0) + 1; };
  return {
    reads,
    exe: (pid) => (pid === 10 ? state.exe : undefined),
    maps: (pid) => { count('maps'); return pid === 10 ? state.maps : undefined; },
    readFile: (path) => { count(path); return FILES[path]; },
  };
}

const BASE = 0x7f0000000000n;

test('addresses resolve through the mapping and the segment that hold them', () => {
  const s = new UserSymbolizer(host({ exe: '/bin/app', maps: MAPS }));
  assert.deepEqual(s.resolve(10, BASE + 0x1010n), { name: 'f', offset: 16n, module: '/bin/app' });
  // second segment: file offset 0x2008 is address 0x3008
  assert.deepEqual(s.resolve(10, BASE + 0x2008n), { name: 'g', offset: 8n, module: '/bin/app' });
});

test('nested symbols give the innermost; gaps, zero-sized symbols and unmapped addresses give nothing', () => {
  const s = new UserSymbolizer(host({ exe: '/bin/app', maps: MAPS }));
  assert.equal(s.resolve(10, BASE + 0x1125n)?.name, 'inner');
  assert.deepEqual(s.resolve(10, BASE + 0x1140n), { name: 'outer', offset: 0x40n, module: '/bin/app' });
  assert.equal(s.resolve(10, BASE + 0x1050n), undefined);
  assert.equal(s.resolve(10, BASE + 0x1400n), undefined);
  assert.equal(s.resolve(10, 0x7f0000010010n), undefined, 'anonymous memory');
  assert.equal(s.resolve(10, 0x7ffff7fc1010n), undefined, '[vdso]');
  assert.equal(s.resolve(10, 0x7f0000020010n), undefined, 'not an ELF file');
});

test('aliases resolve as bcc orders them (debug file first, then std::sort by address); the debug file adds local symbols', () => {
  const s = new UserSymbolizer(host({ exe: '/bin/app', maps: MAPS }));
  // Few symbols: std::sort is an insertion sort, stable, so the last listed alias wins.
  assert.equal(s.resolve(10, BASE + 0x1204n)?.name, 'x');
  assert.deepEqual(s.resolve(10, BASE + 0x1301n), { name: 'hidden', offset: 1n, module: '/bin/app' });
});

test('a process that has exited resolves nothing (bpftrace prints its addresses in hex)', () => {
  const state: { exe?: string; maps: string } = { exe: '/bin/app', maps: MAPS };
  const s = new UserSymbolizer(host(state));
  assert.equal(s.resolve(10, BASE + 0x1010n)?.name, 'f');
  state.exe = undefined;
  assert.deepEqual(s.resolveAll(10, [BASE + 0x1010n, BASE + 0x2008n]), [undefined, undefined]);
  assert.equal(s.resolve(11, BASE + 0x1010n), undefined);
});

test('maps are read once per process, files once; an exec or a new mapping reads the maps again', () => {
  const state: { exe?: string; maps: string } = { exe: '/bin/app', maps: MAPS };
  const h = host(state);
  const s = new UserSymbolizer(h);
  s.resolveAll(10, [BASE + 0x1010n, BASE + 0x1140n]);
  s.resolve(10, BASE + 0x2008n);
  assert.equal(h.reads.maps, 1);
  assert.equal(h.reads['/bin/app'], 1);
  // dlopen: the library appears in the maps after the first look
  state.maps = `${MAPS}\n7f0000030000-7f0000031000 r-xp 00000000 08:01 13 /lib/libx.so`;
  assert.deepEqual(s.resolve(10, 0x7f0000030104n), { name: 'lib_fn', offset: 4n, module: '/lib/libx.so' });
  assert.equal(h.reads.maps, 2);
  // exec: another exe under the same pid
  state.exe = '/bin/other';
  state.maps = '';
  assert.equal(s.resolve(10, BASE + 0x1010n), undefined);
  assert.equal(h.reads.maps, 4, 'read on the exec, and once more for the address it lacks');
});

test('parseMaps keeps file-backed mappings; readNativeLayout reads segments and the build id', () => {
  const maps = parseMaps(MAPS);
  assert.deepEqual(maps.map((m) => m.path), ['/bin/app', '/bin/app', '/bin/app', '/bin/garbage']);
  assert.deepEqual(maps[1], { start: BASE + 0x1000n, end: BASE + 0x2000n, offset: 0x1000n, path: '/bin/app' });
  const layout = readNativeLayout(APP);
  assert.deepEqual(layout.segments.map((s) => [s.offset, s.vaddr]), [[0x1000n, 0x1000n], [0x2000n, 0x3000n]]);
  assert.deepEqual([...(layout.buildId ?? [])], [0xab, 0xcd, 0xef]);
  assert.throws(() => readNativeLayout(APP.subarray(0, 100)), /program header table runs past the end of the file/);
  assert.throws(() => readNativeLayout(new Uint8Array(64)), /not an ELF file/);
});

test('readRawSymbols lists named, non-zero symbols in table order', () => {
  assert.deepEqual(readRawSymbols(APP).map((x) => x.name), ['f', 'outer', 'inner', '__libc_x', 'x@GLIBC_2.2.5', 'x', 'g', 'empty']);
  assert.throws(() => readRawSymbols(APP.subarray(0, APP.length - 64)), /section header table runs past the end of the file/);
});

test('stdSort leaves equal keys where libstdc++\'s std::sort does (orders checked against a g++/clang++ build)', () => {
  // key = (LCG >> 16) % m, tag = index; the md5 of the sorted tags, as the C++ program printed them.
  const expected: [number, number, string][] = [
    [40, 3, 'a98100fa2d10cab7e7b865779706734d'],
    [300, 23, '72d7d2751b8cca7f60a599ac977eb7f3'],
    [5000, 7, 'c7d0e5446343cd9aa807366395e3464a'],
  ];
  for (const [n, m, md5] of expected) {
    const v: { key: number; tag: number }[] = [];
    let x = 12345;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      v.push({ key: (x >>> 16) % m, tag: i });
    }
    stdSort(v, (a, b) => a.key < b.key);
    for (let i = 1; i < n; i++) assert.ok(v[i - 1].key <= v[i].key);
    assert.equal(createHash('md5').update(`${v.map((e) => e.tag).join(',')},\n`).digest('hex'), md5, `n=${n} m=${m}`);
  }
});
