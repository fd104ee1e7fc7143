/**
 * Compiles test/verifier/fixtures/progs.bpf.c with clang-19 and pulls each
 * program section out of the object, with `lddw` map references rewritten to
 * `map_fd` pseudo loads whose immediate is the map's index in MAPS. A few
 * dozen lines of ELF reading keep this independent of src/elf, which another
 * layer owns.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, type Insn } from '../../src/isa/index.js';
import type { MapInfo, ProgType } from '../../src/verifier/index.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/progs.bpf.c');

/** The maps progs.bpf.c declares, by symbol name, in the order their index is used. */
export const MAPS: readonly (MapInfo & { name: string })[] = [
  { name: 'counts', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024 },
  { name: 'table', type: 'array', keySize: 4, valueSize: 32, maxEntries: 8 },
  { name: 'events', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 },
];

export interface CompiledProgram {
  readonly section: string;
  readonly type: ProgType;
  readonly insns: Insn[];
}

const TYPE_BY_PREFIX: [string, ProgType][] = [
  ['xdp', 'xdp'], ['socket', 'socket_filter'], ['tc', 'sched_cls'], ['tracepoint', 'tracepoint'], ['cgroup_skb', 'cgroup_skb'],
];

interface Section { name: string; type: number; offset: number; size: number; link: number; info: number }

function sections(elf: Uint8Array): Section[] {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const shoff = Number(dv.getBigUint64(0x28, true));
  const shentsize = dv.getUint16(0x3a, true), shnum = dv.getUint16(0x3c, true), shstrndx = dv.getUint16(0x3e, true);
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * shentsize;
    return {
      nameOff: dv.getUint32(o, true), type: dv.getUint32(o + 4, true), offset: Number(dv.getBigUint64(o + 24, true)),
      size: Number(dv.getBigUint64(o + 32, true)), link: dv.getUint32(o + 40, true), info: dv.getUint32(o + 44, true),
    };
  });
  const str = raw[shstrndx];
  const cstr = (base: number, off: number): string => {
    let end = base + off;
    while (elf[end] !== 0) end++;
    return new TextDecoder().decode(elf.subarray(base + off, end));
  };
  return raw.map((s) => ({ name: cstr(str.offset, s.nameOff), type: s.type, offset: s.offset, size: s.size, link: s.link, info: s.info }));
}

export function compilePrograms(): CompiledProgram[] {
  const dir = mkdtempSync(join(tmpdir(), 'bpfkit-verifier-'));
  const obj = join(dir, 'progs.o');
  execFileSync(process.env.CLANG ?? 'clang-19', ['-O2', '-g', '-target', 'bpf', '-I/usr/include/x86_64-linux-gnu', '-c', SRC, '-o', obj], { stdio: 'pipe' });
  const elf = new Uint8Array(readFileSync(obj));
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  const secs = sections(elf);
  const symtab = secs.find((s) => s.type === 2)!;
  const strtab = secs[symtab.link];
  const symName = (idx: number): string => {
    const off = dv.getUint32(symtab.offset + idx * 24, true);
    let end = strtab.offset + off;
    while (elf[end] !== 0) end++;
    return new TextDecoder().decode(elf.subarray(strtab.offset + off, end));
  };
  const out: CompiledProgram[] = [];
  secs.forEach((s, idx) => {
    const type = TYPE_BY_PREFIX.find(([p]) => s.name.startsWith(`${p}/`))?.[1];
    if (!type || s.type !== 1) return;
    const bytes = elf.slice(s.offset, s.offset + s.size);
    const rel = secs.find((r) => r.type === 9 && r.info === idx);
    for (let o = 0; rel && o < rel.size; o += 16) {
      const at = Number(dv.getBigUint64(rel.offset + o, true));
      const name = symName(Number(dv.getBigUint64(rel.offset + o + 8, true) >> 32n));
      const mapIdx = MAPS.findIndex((m) => m.name === name);
      if (mapIdx < 0) throw new Error(`${s.name}: relocation against unknown symbol ${name}`);
      bytes[at + 1] = (bytes[at + 1] & 0x0f) | (1 << 4); // src = BPF_PSEUDO_MAP_FD
      new DataView(bytes.buffer).setInt32(at + 4, mapIdx, true);
    }
    out.push({ section: s.name, type, insns: decode(bytes) });
  });
  return out;
}
