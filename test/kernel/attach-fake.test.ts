/**
 * Attach and collection encodings through a fake Sys (no kernel, no
 * privileges): BPF_LINK_CREATE for XDP and tcx, perf_event_open attributes
 * for sampling, all-or-nothing cleanup when a map fails half way, and the
 * parsers the kernel backend owns (CPU lists, native ELF symbols).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  attachPerfEvent, attachPerfSampling, attachXdp, loadBtf, attachTcx, CollectionLoadError, loadCollection, NativeElfError, openFds, parseCpuList,
  Program, readFunctionSymbols, SyscallError, type Syscall, type Sys,
} from '../../src/kernel/index.js';
import type { CollectionSpec, MapSpec } from '../../src/elf/index.js';
import { Btf, encodeBtf, type BtfType } from '../../src/btf/index.js';

class FakeSys implements Sys {
  readonly calls: Syscall[] = [];
  next = 100;
  constructor(private readonly respond?: (c: Syscall) => number | undefined) {}
  call(c: Syscall): number {
    this.calls.push(c.kind === 'bpf' || c.kind === 'perf_event_open' ? { ...c, attr: c.attr.slice() } : c);
    const r = this.respond?.(c);
    if (r !== undefined) return r;
    return c.kind === 'close' || c.kind === 'ioctl' ? 0 : this.next++;
  }
}

const u32 = (a: Uint8Array, off: number) => new DataView(a.buffer).getUint32(off, true);
const u64 = (a: Uint8Array, off: number) => new DataView(a.buffer).getBigUint64(off, true);

test('attachXdp and attachTcx send BPF_LINK_CREATE with the ifindex, attach type and mode', () => {
  const sys = new FakeSys();
  const prog = new Program(7, 'xdp', 2, undefined, sys);
  const link = attachXdp(prog, 3, { mode: 'native', sys });
  const c = sys.calls.at(-1)!;
  assert.ok(c.kind === 'bpf' && c.cmd === 'link_create');
  assert.equal(u32(c.attr, 0), 7, 'prog_fd');
  assert.equal(u32(c.attr, 4), 3, 'target_ifindex');
  assert.equal(u32(c.attr, 8), 37, 'BPF_XDP');
  assert.equal(u32(c.attr, 12), 4, 'XDP_FLAGS_DRV_MODE');
  link.close();
  assert.deepEqual(sys.calls.at(-1), { kind: 'close', fd: 100 });
  const t = attachTcx(prog, 5, 'egress', { sys });
  const c2 = sys.calls.at(-1)!;
  assert.ok(c2.kind === 'bpf');
  assert.equal(u32(c2.attr, 8), 47, 'BPF_TCX_EGRESS');
  t.close();
  prog.close();
  assert.equal(openFds().length, 0);
});

test('attachPerfSampling opens a cpu-clock event per CPU with freq set, and links each', () => {
  const sys = new FakeSys();
  const prog = new Program(9, 'perf_event', 2, undefined, sys);
  const link = attachPerfSampling(prog, { frequency: 49, cpus: [0, 1], sys });
  const opens = sys.calls.filter((c): c is Extract<Syscall, { kind: 'perf_event_open' }> => c.kind === 'perf_event_open');
  assert.deepEqual(opens.map((o) => [o.pid, o.cpu]), [[-1, 0], [-1, 1]]);
  for (const o of opens) {
    assert.equal(u32(o.attr, 0), 1, 'PERF_TYPE_SOFTWARE');
    assert.equal(u32(o.attr, 4), 136, 'size');
    assert.equal(u64(o.attr, 8), 0n, 'PERF_COUNT_SW_CPU_CLOCK');
    assert.equal(u64(o.attr, 16), 49n, 'sample_freq');
    assert.equal(u64(o.attr, 40) & (1n << 10n), 1n << 10n, 'freq bit');
  }
  const links = sys.calls.filter((c) => c.kind === 'bpf' && c.cmd === 'link_create');
  assert.equal(links.length, 2);
  link.close();
  prog.close();
  assert.equal(openFds().length, 0);
});

test('a failing attach closes the perf events it already opened', () => {
  let n = 0;
  const sys = new FakeSys((c) => {
    if (c.kind === 'bpf' && c.cmd === 'link_create' && ++n === 2) throw new SyscallError(c, 1);
    return undefined;
  });
  const prog = new Program(9, 'perf_event', 2, undefined, sys);
  assert.throws(() => attachPerfSampling(prog, { cpus: [0, 1], sys }), SyscallError);
  prog.close();
  assert.equal(openFds().length, 0);
});

function mapSpec(name: string): MapSpec {
  return {
    name, origin: 'btf', type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0, pinning: 'none',
    numaNode: undefined, mapExtra: 0n, btfKeyTypeId: 0, btfValueTypeId: 0, innerMap: undefined, values: [], data: undefined, variables: [],
  };
}

test('loadCollection is all or nothing: the second map failing closes the first, and the error names it', () => {
  const sys = new FakeSys((c) => {
    if (c.kind === 'bpf' && c.cmd === 'map_create' && new TextDecoder().decode(c.attr.subarray(28, 29)) === 'b') throw new SyscallError(c, 22);
    return undefined;
  });
  const spec: CollectionSpec = {
    littleEndian: true, license: 'GPL', kernelVersion: 0, externs: [], btf: undefined, programs: new Map(),
    maps: new Map([['a', mapSpec('a')], ['b', mapSpec('b')]]),
  };
  assert.throws(() => loadCollection(spec, { sys }), (e: unknown) => {
    assert.ok(e instanceof CollectionLoadError);
    assert.equal(e.object, "map 'b'");
    return true;
  });
  assert.deepEqual(sys.calls.filter((c) => c.kind === 'close'), [{ kind: 'close', fd: 100 }]);
  assert.equal(openFds().length, 0);
});

test('CPU lists parse as the kernel prints them', () => {
  assert.deepEqual(parseCpuList('0-3,5,7-8\n'), [0, 1, 2, 3, 5, 7, 8]);
  assert.deepEqual(parseCpuList('0'), [0]);
});

test('native ELF symbols: file offsets of functions, and errors with offsets on bad input', () => {
  const syms = readFunctionSymbols(new Uint8Array(readFileSync(process.execPath)), process.execPath);
  assert.ok(syms.length > 1000);
  assert.ok(syms.every((s) => s.fileOffset >= 0n));
  assert.throws(() => readFunctionSymbols(new Uint8Array(10), 'x'), (e: unknown) => e instanceof NativeElfError && /x\+0x0: ELF header/.test(e.message));
  const trunc = new Uint8Array(readFileSync('/bin/true')).slice(0, 200);
  assert.throws(() => readFunctionSymbols(trunc, 'true'), NativeElfError);
  // Random corruption never throws anything but NativeElfError.
  const base = new Uint8Array(readFileSync('/bin/true'));
  for (let i = 0; i < 200; i++) {
    const b = base.slice();
    for (let j = 0; j < 8; j++) b[(Math.random() * 64) | 0] = (Math.random() * 256) | 0;
    try {
      readFunctionSymbols(b, 'fuzz');
    } catch (e) {
      assert.ok(e instanceof NativeElfError, String(e));
    }
  }
});

test('perf event links fall back to PERF_EVENT_IOC_SET_BPF where BPF_LINK_CREATE refuses them, and disable on close', () => {
  const sys = new FakeSys((c) => (c.kind === 'bpf' && c.cmd === 'link_create' ? (() => { throw new SyscallError(c, 22); })() : undefined));
  const prog = new Program(9, 'tracepoint', 2, undefined, sys);
  const link = attachPerfEvent(prog, 55, 'tracepoint', 'x:y', sys);
  const ioctls = sys.calls.filter((c) => c.kind === 'ioctl');
  assert.deepEqual(ioctls, [
    { kind: 'ioctl', fd: 55, request: 0x40042408, arg: 9 },
    { kind: 'ioctl', fd: 55, request: 0x2400, arg: 0 },
  ]);
  link.close();
  assert.deepEqual(sys.calls.slice(-2), [{ kind: 'ioctl', fd: 55, request: 0x2401, arg: 0 }, { kind: 'close', fd: 55 }]);
  prog.close();
  assert.equal(openFds().length, 0);
});

test('BTF the kernel refuses is loaded again with newer kinds replaced, keeping every type id', () => {
  const types: BtfType[] = [
    { kind: 'int', id: 1, name: 'int', size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 },
    { kind: 'float', id: 2, name: 'double', size: 8 },
    { kind: 'decl_tag', id: 3, name: 'tag', type: 1, componentIdx: -1 },
    { kind: 'type_tag', id: 4, name: 'user', type: 1 },
    { kind: 'ptr', id: 5, name: '', type: 4 },
  ];
  const btf = Btf.parse(encodeBtf(types));
  const sent: Btf[] = [];
  // A "kernel" from before 5.13: no floats, no tags.
  const sys = new FakeSys((c) => {
    if (c.kind !== 'bpf' || c.cmd !== 'btf_load') return undefined;
    const blob = Btf.parse(c.pointers.find((p) => p.offset === 0)!.buf!);
    sent.push(blob);
    const kinds = Array.from({ length: blob.typeCount - 1 }, (_, i) => blob.type(i + 1).kind);
    if (kinds.some((k) => k === 'float' || k === 'decl_tag' || k === 'type_tag')) throw new SyscallError(c, 22);
    return undefined;
  });
  using k = loadBtf(btf, ['a line of source'], sys);
  assert.equal(k.sanitised, 'modern');
  const last = sent.at(-1)!;
  assert.equal(last.typeCount, btf.typeCount, 'same ids');
  assert.deepEqual(Array.from({ length: 5 }, (_, i) => last.type(i + 1).kind), ['int', 'struct', 'int', 'const', 'ptr']);
  const dbl = last.type(2);
  assert.equal(dbl.kind === 'struct' ? dbl.size : -1, 8);
  assert.equal(last.string(k.stringOffsets.get('a line of source')!), 'a line of source', 'line strings appended');
});
