import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { decode, encode } from '../../src/isa/index.js';
import { loadCollectionSpec, programListings, type CollectionSpec } from '../../src/elf/index.js';
import { allFixtures, fixture, readBytes, run } from '../helpers/fixtures.js';

let fixtures: Awaited<ReturnType<typeof allFixtures>>;
const specs = new Map<string, CollectionSpec>();
before(async () => {
  fixtures = await allFixtures();
  for (const f of fixtures) specs.set(`${f.name}.${f.endian}`, loadCollectionSpec(readBytes(f.path)));
});
const spec = (name: string, endian = 'el'): CollectionSpec => specs.get(`${name}.${endian}`)!;

/** Instructions per function symbol, from llvm-objdump-19 -d. */
function objdumpCounts(path: string): Map<string, number> {
  const out = new Map<string, number>();
  let current: string | undefined;
  for (const line of run('llvm-objdump-19', ['-d', path]).split('\n')) {
    const head = /^[0-9a-f]+ <(.+)>:$/.exec(line);
    if (head) {
      current = head[1];
      out.set(current, 0);
    } else if (current && /^\s+\d+:\t/.test(line)) {
      out.set(current, out.get(current)! + 1);
    } else if (line.startsWith('Disassembly')) current = undefined;
  }
  return out;
}

test('the same bytes give a deep-equal spec', async () => {
  for (const f of fixtures) {
    const bytes = readBytes(f.path);
    assert.deepEqual(loadCollectionSpec(bytes), loadCollectionSpec(bytes.slice()), f.path);
  }
});

test('big- and little-endian builds describe the same programs and maps', () => {
  for (const name of ['maps', 'globals', 'subprogs']) {
    const el = spec(name, 'el');
    const eb = spec(name, 'eb');
    // Constants the compiler folded from byte-order dependent data differ, so
    // instructions are compared only where the source has none.
    const progs = (s: CollectionSpec) => [...s.programs.values()].map((p) => ({ ...p, insns: name === 'maps' ? p.insns.length : p.insns }));
    assert.deepEqual(progs(eb), progs(el), name);
    const strip = (s: CollectionSpec) => [...s.maps.values()].map((m) => ({ ...m, data: undefined }));
    assert.deepEqual(strip(eb), strip(el), name);
  }
  // Byte order shows in the initial contents of global data.
  const elRo = spec('globals', 'el').maps.get('.rodata')!.data!;
  const ebRo = spec('globals', 'eb').maps.get('.rodata')!.data!;
  assert.deepEqual([...elRo.subarray(0, 8)], [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
  assert.deepEqual([...ebRo.subarray(0, 8)], [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
});

test('instruction counts per function match llvm-objdump-19', () => {
  for (const f of fixtures.filter((x) => x.endian === 'el')) {
    const counts = objdumpCounts(f.path);
    for (const p of spec(f.name).programs.values()) {
      const fns = [...p.functions, { insn: p.insns.length, name: '', section: '' }];
      for (let i = 0; i + 1 < fns.length; i++) {
        const n = fns[i + 1].insn - fns[i].insn;
        // objdump prints a 64-bit load as one line, as we count it.
        assert.equal(n, counts.get(fns[i].name), `${f.name}: ${p.name} / ${fns[i].name}`);
      }
    }
  }
});

test('programs: sections, types, license and version', () => {
  const m = spec('maps');
  assert.equal(m.license, 'Dual BSD/GPL');
  assert.equal(m.kernelVersion, 0x060c00);
  assert.deepEqual([...m.programs.keys()], ['tail_a', 'tail_b', 'entry']);
  const entry = m.programs.get('entry')!;
  assert.equal(entry.type, 'socket_filter');
  assert.equal(entry.attachType, 'none');
  const c = spec('core');
  assert.deepEqual(
    [...c.programs.values()].map((p) => [p.name, p.type, p.attachType, p.attachTarget]),
    [['on_switch', 'tracing', 'trace_raw_tp', 'sched_switch'], ['on_unlink', 'tracing', 'trace_fentry', 'do_unlinkat'], ['on_open', 'lsm', 'lsm_mac', 'file_open']],
  );
  const s = spec('sections');
  const t = (n: string) => { const p = s.programs.get(n)!; return [p.type, p.attachType, p.xdpFrags, p.sleepable]; };
  assert.deepEqual(t('p_xdp_frags'), ['xdp', 'xdp', true, false]);
  assert.deepEqual(t('p_tcx_ingress'), ['sched_cls', 'tcx_ingress', false, false]);
  assert.deepEqual(t('p_lsm_s'), ['lsm', 'lsm_mac', false, true]);
  assert.deepEqual(t('p_cgroup_skb_egress'), ['cgroup_skb', 'cgroup_inet_egress', false, false]);
  assert.deepEqual(t('p_unknown'), ['unspec', 'none', false, false]);
  assert.equal(s.programs.size, 45);
});

test('BTF and legacy maps', () => {
  const maps = spec('maps').maps;
  const pick = (n: string) => { const x = maps.get(n)!; return [x.origin, x.type, x.keySize, x.valueSize, x.maxEntries, x.flags, x.pinning]; };
  assert.deepEqual(pick('legacy_hash'), ['legacy', 'hash', 4, 8, 128, 0, 'none']);
  assert.deepEqual(pick('legacy_array'), ['legacy', 'array', 4, 16, 4, 0, 'none']);
  assert.deepEqual(pick('flows'), ['btf', 'hash', 8, 8, 1024, 1, 'none']);
  assert.deepEqual(pick('counters'), ['btf', 'percpu_array', 4, 8, 8, 0, 'by_name']);
  assert.deepEqual(pick('sized'), ['btf', 'lru_hash', 8, 4, 64, 0, 'none']);
  assert.equal(maps.get('sized')!.numaNode, 0);
  assert.deepEqual(pick('events'), ['btf', 'ringbuf', 0, 0, 4096, 0, 'none']);
  assert.deepEqual(pick('outer'), ['btf', 'array_of_maps', 4, 4, 2, 0, 'none']);
  assert.deepEqual(maps.get('outer')!.values, [{ index: 0, name: 'inner1' }, { index: 1, name: 'inner2' }]);
  assert.deepEqual([maps.get('outer')!.innerMap!.type, maps.get('outer')!.innerMap!.valueSize], ['array', 4]);
  assert.deepEqual(maps.get('jumps')!.values, [{ index: 0, name: 'tail_a' }, { index: 2, name: 'tail_b' }]);
  const btf = spec('maps').btf!;
  const flows = maps.get('flows')!;
  assert.equal(btf.type(flows.btfKeyTypeId).name, 'key_t');
  assert.equal(btf.resolve(flows.btfValueTypeId).kind, 'int');
});

test('global data maps, variables and externs', () => {
  const g = spec('globals');
  const names = [...g.maps.values()].filter((m) => m.origin !== 'btf').map((m) => [m.name, m.origin, m.valueSize]);
  assert.deepEqual(names, [['.data', 'data', 8], ['.rodata', 'rodata', 31], ['.data.custom', 'data', 4], ['.rodata.custom', 'rodata', 8], ['.bss', 'bss', 24], ['.kconfig', 'kconfig', 9]]);
  const data = g.maps.get('.data')!;
  assert.deepEqual(data.variables.map((v) => [v.name, v.offset, v.size]), [['counter', 0, 4], ['private_state', 4, 4]]);
  assert.deepEqual([...data.data!], [7, 0, 0, 0, 3, 0, 0, 0]);
  assert.equal(new TextDecoder().decode(g.maps.get('.rodata.custom')!.data!.subarray(0, 6)), 'bpfkit');
  assert.deepEqual([...g.maps.get('.bss')!.data!], new Array(24).fill(0));
  assert.deepEqual(g.externs.map((e) => [e.name, e.kind, e.weak, e.offset]), [
    ['CONFIG_HZ', 'kconfig', true, 0], ['LINUX_KERNEL_VERSION', 'kconfig', false, 4], ['CONFIG_BPF_SYSCALL', 'kconfig', false, 8], ['bpf_prog_active', 'ksym', true, -1],
  ]);
  const p = g.programs.get('use_globals')!;
  const kinds = p.relocations.map((r) => (r.kind === 'map_value' ? `${r.map}+${r.offset}` : r.kind === 'map' ? `map:${r.map}` : r.kind === 'ksym' ? `ksym:${r.name}` : r.kind));
  assert.ok(kinds.includes('.rodata+0') && kinds.includes('.bss+8') && kinds.includes('.kconfig+4') && kinds.includes('ksym:bpf_prog_active') && kinds.includes('map:results'), kinds.join());
  // The relocated loads carry their pseudo kind and offset.
  for (const r of p.relocations) {
    const insn = p.insns[r.insn];
    assert.equal(insn.kind, 'lddw');
    if (insn.kind !== 'lddw') continue;
    if (r.kind === 'map_value') assert.deepEqual([insn.pseudo, insn.imm >> 32n], ['map_value', BigInt(r.offset)]);
    if (r.kind === 'map') assert.equal(insn.pseudo, 'map_fd');
  }
  // The BTF datasecs were given their sizes and offsets from the ELF.
  const ds = g.btf!.findByName('.bss', 'datasec')[0];
  assert.ok(ds.kind === 'datasec' && ds.size === 24 && ds.vars[1].offset === 8);
});

test('subprograms are appended depth first and every call lands on its function', () => {
  const s = spec('subprogs');
  assert.deepEqual(s.programs.get('xdp_main')!.functions.map((f) => f.name), ['xdp_main', 'cube', 'square', 'global_add']);
  assert.deepEqual(s.programs.get('tc_main')!.functions.map((f) => f.name), ['tc_main', 'square', 'helper_in_section']);
  assert.deepEqual(s.programs.get('sock_main')!.functions.map((f) => f.name), ['sock_main', 'helper_in_section', 'global_add']);
  for (const p of s.programs.values()) {
    const insns = decode(encode(p.insns)); // checks every jump and call target
    assert.deepEqual(insns, p.insns);
    const slots: number[] = [];
    let pc = 0;
    for (const i of p.insns) { slots.push(pc); pc += i.kind === 'lddw' ? 2 : 1; }
    for (const r of p.relocations) {
      if (r.kind !== 'call') continue;
      const insn = p.insns[r.insn];
      assert.equal(insn.kind, 'call_local');
      if (insn.kind !== 'call_local') continue;
      const target = slots.indexOf(slots[r.insn] + 1 + insn.off);
      assert.equal(p.functions.find((f) => f.insn === target)?.name, r.function, `${p.name} insn ${r.insn}`);
    }
    // Line info follows the appended code: each function's first line is in its body.
    assert.ok(p.lineInfo.length > 0);
    assert.ok(p.lineInfo.every((l, i, a) => l.insn < p.insns.length && (i === 0 || a[i - 1].insn <= l.insn)));
  }
  const xdp = s.programs.get('xdp_main')!;
  const sq = xdp.functions.find((f) => f.name === 'square')!;
  assert.match(xdp.lineInfo.find((l) => l.insn === sq.insn)!.line, /square\(__u64 x\)/);
});

test('CO-RE relocations and line info are attached to program instructions', () => {
  const p = spec('core').programs.get('on_switch')!;
  const kinds = new Set(p.coreRelocations.map((r) => r.kind));
  for (const k of ['field_byte_offset', 'field_exists', 'field_byte_size', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value'] as const) assert.ok(kinds.has(k), k);
  const btf = spec('core').btf!;
  const pid = p.coreRelocations.find((r) => r.kind === 'field_byte_offset' && btf.type(r.typeId).name === 'task_struct');
  assert.ok(pid);
  const listing = programListings(spec('core')).find((l) => l.name === 'on_switch')!;
  assert.equal(listing.insns.length, p.insns.length);
  assert.match(listing.lines[0]!.line, /BPF_PROG\(on_switch/);
  // Keyed by slot, the same entries: a 64-bit load shifts later slots by one.
  assert.equal(listing.linesBySlot.size, p.lineInfo.filter((l, i, a) => i === 0 || a[i - 1].insn !== l.insn).length);
  const lddwBefore = (i: number) => p.insns.slice(0, i).filter((x) => x.kind === 'lddw').length;
  for (const l of p.lineInfo) assert.equal(listing.linesBySlot.get(l.insn + lddwBefore(l.insn))?.insn, l.insn);
});

test('the spec needs no bench objects, but reads them when present', async (t) => {
  const dir = '/work/shared/bench/progs';
  const { existsSync, readdirSync } = await import('node:fs');
  if (!existsSync(dir)) return t.skip('benchmark objects not present (not in user clones)');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.bpf.o'))) {
    const s = loadCollectionSpec(readBytes(`${dir}/${f}`));
    const counts = objdumpCounts(`${dir}/${f}`);
    for (const p of s.programs.values()) assert.equal(p.functions.length === 1 ? p.insns.length : p.functions[1].insn, counts.get(p.name), `${f} ${p.name}`);
  }
  assert.ok(await fixture('maps'));
});

test('objects without BTF (-g0): legacy maps and globals still load; BTF maps say what is missing', async () => {
  const { compileBpf } = await import('../helpers/fixtures.js');
  const { join } = await import('node:path');
  const src = (n: string) => join(process.cwd(), `test/fixtures/bpf/${n}.bpf.c`);
  const sub = loadCollectionSpec(readBytes(await compileBpf(src('subprogs'), 'el', [], ['-g0'])));
  assert.equal(sub.btf, undefined);
  const withBtf = spec('subprogs');
  for (const [name, p] of withBtf.programs) {
    assert.deepEqual(sub.programs.get(name)!.insns, p.insns, name);
    assert.equal(sub.programs.get(name)!.lineInfo.length, 0);
  }
  assert.deepEqual(sub.maps.get('.bss')!.variables.map((v) => [v.name, v.offset, v.size]), [['total', 0, 8]]);
  assert.throws(() => loadCollectionSpec(readBytes(fixtures.find((f) => f.name === 'maps')!.path).slice(0, 64)), /ELF/);
  const { ElfError } = await import('../../src/elf/index.js');
  const noBtfMaps = await compileBpf(src('maps'), 'el', [], ['-g0']);
  assert.throws(() => loadCollectionSpec(readBytes(noBtfMaps)), (e: unknown) => e instanceof ElfError && e.section === '.maps' && /needs BTF/.test(e.message));
});

test('cpu v4 instructions decode in objects built with -mcpu=v4', async () => {
  const { compileBpf } = await import('../helpers/fixtures.js');
  const { join } = await import('node:path');
  const s = loadCollectionSpec(readBytes(await compileBpf(join(process.cwd(), 'test/fixtures/bpf/subprogs.bpf.c'), 'el', [], ['-mcpu=v4'])));
  assert.deepEqual([...s.programs.keys()], [...spec('subprogs').programs.keys()]);
  const counts = objdumpCounts(await compileBpf(join(process.cwd(), 'test/fixtures/bpf/subprogs.bpf.c'), 'el', [], ['-mcpu=v4']));
  const p = s.programs.get('xdp_main')!;
  assert.equal(p.functions[1].insn, counts.get('xdp_main'));
});

test('struct_ops maps name their programs by member', () => {
  const s = spec('struct_ops');
  const m = s.maps.get('dummy_1')!;
  assert.deepEqual([m.origin, m.type, m.keySize, m.valueSize, m.maxEntries, m.flags], ['struct_ops', 'struct_ops', 4, 24, 1, 0x2000]);
  assert.equal(s.btf!.type(m.btfValueTypeId).name, 'bpf_dummy_ops');
  assert.deepEqual(m.values, [{ index: 0, name: 'test_1' }, { index: 2, name: 'test_sleepable' }]);
  assert.equal(m.data!.length, 24);
  const p = s.programs.get('test_sleepable')!;
  assert.deepEqual([p.type, p.sleepable, p.attachTarget], ['struct_ops', true, 'test_sleepable']);
});
