import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { before, test } from 'node:test';
import { Btf, BtfError, encodeBtf, formatRaw, parseBtfExt } from '../../src/btf/index.js';
import { readElf, readObjectBtf } from '../../src/elf/index.js';
import { allFixtures, readBytes, run } from '../helpers/fixtures.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
let fixtures: Awaited<ReturnType<typeof allFixtures>>;
before(async () => {
  fixtures = await allFixtures();
});

test('raw dump of every corpus object matches bpftool btf dump format raw', () => {
  for (const f of fixtures) {
    const { btf } = readObjectBtf(readElf(readBytes(f.path)));
    assert.ok(btf, f.path);
    assert.equal(formatRaw(btf), run('bpftool', ['btf', 'dump', 'file', f.path, 'format', 'raw']), f.path);
  }
});

test('the kernel BTF (vmlinux) matches bpftool format raw, type for type', (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no /sys/kernel/btf/vmlinux on this machine');
  const btf = Btf.parse(readBytes(VMLINUX));
  const ours = formatRaw(btf);
  const ref = run('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'raw']);
  assert.equal(ours.length, ref.length);
  assert.ok(ours === ref, 'raw dumps differ');
  assert.ok(btf.typeCount > 10000);
  const ts = btf.findByName('task_struct', 'struct')[0];
  assert.ok(ts && ts.kind === 'struct' && ts.members.some((m) => m.name === 'pid'));
});

test('split BTF of a kernel module, on top of vmlinux, matches bpftool', (t) => {
  const mods = existsSync('/sys/kernel/btf') ? readdirSync('/sys/kernel/btf').filter((n) => n !== 'vmlinux') : [];
  if (mods.length === 0) return t.skip('this kernel exposes no module BTF');
  const base = Btf.parse(readBytes(VMLINUX));
  const mod = Btf.parse(readBytes(`/sys/kernel/btf/${mods[0]}`), base);
  assert.equal(mod.firstId, base.typeCount);
  assert.equal(formatRaw(mod), run('bpftool', ['btf', 'dump', 'file', `/sys/kernel/btf/${mods[0]}`, 'format', 'raw']));
});

test('split BTF continues ids and strings of its base', () => {
  const base = Btf.parse(encodeBtf([
    { kind: 'int', id: 1, name: 'int', size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 },
  ]));
  // A split blob: its string offsets start after the base's strings.
  const splitTypes = encodeBtf([{ kind: 'ptr', id: 2, name: '', type: 1 }, { kind: 'typedef', id: 3, name: 'myint', type: 1 }]);
  // Re-base the string offsets: encodeBtf wrote them from 0, so shift by the base's string length.
  const v = new DataView(splitTypes.buffer);
  const typeLen = v.getUint32(12, true);
  const nameOff = v.getUint32(24 + 12, true);
  v.setUint32(24 + 12, nameOff + base.stringsLength, true);
  const split = Btf.parse(splitTypes, base);
  assert.equal(split.firstId, 2);
  assert.equal(split.typeCount, 4);
  assert.equal(split.type(3).name, 'myint');
  assert.equal(split.resolve(3).kind, 'int');
  assert.equal(split.sizeof(2), 8);
  assert.ok(typeLen > 0);
  assert.deepEqual([...split.ownTypes()].map((x) => x.id), [2, 3]);
});

test('encode/parse round trip of every kind', () => {
  const types = [
    { kind: 'int', id: 1, name: 'u32', size: 4, signed: false, char: false, bool: false, bitOffset: 0, bits: 32 },
    { kind: 'ptr', id: 2, name: '', type: 1 },
    { kind: 'array', id: 3, name: '', elemType: 1, indexType: 1, nelems: 4 },
    { kind: 'struct', id: 4, name: 's', size: 8, members: [{ name: 'a', type: 1, bitOffset: 0, bitfieldSize: 3 }, { name: 'b', type: 1, bitOffset: 32, bitfieldSize: 0 }] },
    { kind: 'union', id: 5, name: 'u', size: 4, members: [{ name: 'x', type: 1, bitOffset: 0, bitfieldSize: 0 }] },
    { kind: 'enum', id: 6, name: 'e', size: 4, signed: true, values: [{ name: 'A', value: -1 }, { name: 'B', value: 2 }] },
    { kind: 'fwd', id: 7, name: 'f', union: true },
    { kind: 'typedef', id: 8, name: 't', type: 1 },
    { kind: 'volatile', id: 9, name: '', type: 1 },
    { kind: 'const', id: 10, name: '', type: 9 },
    { kind: 'restrict', id: 11, name: '', type: 2 },
    { kind: 'func_proto', id: 12, name: '', returnType: 1, params: [{ name: 'p', type: 2 }, { name: '', type: 0 }] },
    { kind: 'func', id: 13, name: 'fn', type: 12, linkage: 'global' },
    { kind: 'var', id: 14, name: 'v', type: 1, linkage: 'static' },
    { kind: 'datasec', id: 15, name: '.data', size: 4, vars: [{ type: 14, offset: 0, size: 4 }] },
    { kind: 'float', id: 16, name: 'double', size: 8 },
    { kind: 'decl_tag', id: 17, name: 'tag', type: 4, componentIdx: 1 },
    { kind: 'type_tag', id: 18, name: 'user', type: 1 },
    { kind: 'enum64', id: 19, name: 'e64', size: 8, signed: false, values: [{ name: 'BIG', value: 0xffff_ffff_ffffn }] },
  ] as const;
  for (const le of [true, false]) {
    const btf = Btf.parse(encodeBtf(types, le));
    assert.equal(btf.littleEndian, le);
    assert.deepEqual([...btf.types()], types);
    assert.equal(btf.sizeof(3), 16);
    assert.equal(btf.sizeof(10), 4);
  }
});

test('corrupt BTF gives BtfError with an offset', () => {
  const good = encodeBtf([{ kind: 'int', id: 1, name: 'int', size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 }]);
  const check = (bytes: Uint8Array, re: RegExp) => assert.throws(() => Btf.parse(bytes), (e: unknown) => e instanceof BtfError && e.code === 'BTF_MALFORMED' && re.test(e.message) && typeof e.offset === 'number');
  check(good.subarray(0, 10), /too short/);
  const badMagic = good.slice(); badMagic[0] = 0;
  check(badMagic, /magic/);
  const badKind = good.slice(); badKind[24 + 7] = 0x1f;
  check(badKind, /unknown kind/);
  const badLen = good.slice(); new DataView(badLen.buffer).setUint32(12, 1000, true);
  check(badLen, /past the end/);
  const btf = Btf.parse(good);
  assert.throws(() => btf.type(5), (e: unknown) => e instanceof BtfError && e.typeId === 5);
  const badName = good.slice(); new DataView(badName.buffer).setUint32(24, 999, true);
  assert.throws(() => Btf.parse(badName).type(1), BtfError);
});

test('.BTF.ext: func info, line info with source text, CO-RE records', () => {
  const f = fixtures.find((x) => x.name === 'subprogs' && x.endian === 'el')!;
  const elf = readElf(readBytes(f.path));
  const { btf } = readObjectBtf(elf);
  const ext = parseBtfExt(elf.sections.find((s) => s.name === '.BTF.ext')!.data, btf!);
  assert.deepEqual([...ext.funcInfo.keys()].sort(), ['.text', '.text.helpers', 'kprobe/do_nanosleep', 'socket', 'tc', 'xdp']);
  assert.equal(ext.funcInfo.get('.text')!.length, 3);
  const lines = ext.lineInfo.get('.text.helpers')!;
  assert.ok(lines.some((l) => /return v \* 3 \+ 1/.test(l.line) && l.lineNumber > 0 && l.fileName.endsWith('subprogs.bpf.c')));
  assert.equal(ext.coreRelocations.size, 0);
  assert.throws(() => parseBtfExt(new Uint8Array(4), btf!), BtfError);
});
