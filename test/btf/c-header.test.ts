import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Btf, CPrinter, dumpCHeader, encodeBtf, formatCType, type BtfType } from '../../src/btf/index.js';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { compileBpf, fixture, FIXTURE_BUILD_DIR, readBytes, run } from '../helpers/fixtures.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
// A fixed folder, so the CO-RE fixture built against our header is cached by content.
const dir = join(FIXTURE_BUILD_DIR, 'our-vmlinux');
mkdirSync(dir, { recursive: true });

/** Does this composite hold a va_list? Its size differs between the kernel's target and BPF (as with bpftool's header). */
function holdsVaList(btf: Btf, t: BtfType, depth = 0): boolean {
  if (depth > 8 || (t.kind !== 'struct' && t.kind !== 'union')) return false;
  return t.members.some((m) => {
    let x = btf.type(m.type);
    while (x.kind === 'typedef' || x.kind === 'const' || x.kind === 'volatile') {
      if (x.kind === 'typedef' && x.name === 'va_list') return true;
      x = btf.type(x.type);
    }
    return holdsVaList(btf, x, depth + 1);
  });
}

test('our vmlinux.h compiles, keeps every struct layout, and builds a CO-RE program', async (t) => {
  if (!existsSync(VMLINUX)) return t.skip('no /sys/kernel/btf/vmlinux on this machine');
  const btf = Btf.parse(readBytes(VMLINUX));
  writeFileSync(join(dir, 'vmlinux.h'), dumpCHeader(btf));
  // Layout: sizeof and offsetof of every named struct and union, checked by the compiler.
  const p = new CPrinter(btf);
  const lines = ['#include "vmlinux.h"'];
  let checks = 0;
  for (const ty of btf.types()) {
    if ((ty.kind !== 'struct' && ty.kind !== 'union') || !ty.name || holdsVaList(btf, ty)) continue;
    const n = `${ty.kind} ${p.nameOf(ty.id)}`;
    lines.push(`_Static_assert(sizeof(${n}) == ${ty.size}, "");`);
    for (const m of ty.members) if (m.name && m.bitfieldSize === 0) lines.push(`_Static_assert(__builtin_offsetof(${n}, ${m.name}) == ${m.bitOffset / 8}, "");`);
    checks++;
  }
  writeFileSync(join(dir, 'layout.c'), lines.join('\n') + '\n');
  run('clang-19', ['-target', 'bpfel', '-fsyntax-only', '-Werror=implicit-function-declaration', `-I${dir}`, join(dir, 'layout.c')]);
  assert.ok(checks > 5000, `${checks} structs checked`);
  // The CO-RE fixture compiled against our header loads into the same spec shape.
  const obj = await compileBpf(join(process.cwd(), 'test/fixtures/bpf/core.bpf.c'), 'el', [dir]);
  const ours = loadCollectionSpec(readBytes(obj));
  const ref = loadCollectionSpec(readBytes(await fixture('core')));
  assert.deepEqual([...ours.programs.keys()], [...ref.programs.keys()]);
  for (const [name, prog] of ref.programs) {
    assert.deepEqual(ours.programs.get(name)!.coreRelocations.map((r) => r.kind), prog.coreRelocations.map((r) => r.kind), name);
  }
});

test('a small object BTF dumps to a header that compiles', async () => {
  const spec = loadCollectionSpec(readBytes(await fixture('maps')));
  const header = dumpCHeader(spec.btf!);
  assert.match(header, /struct key_t \{\n\t__u32 saddr;\n\t__u16 port;\n\t__u8 proto;\n\t__u8 pad;\n\};/);
  assert.match(header, /#pragma clang attribute push \(__attribute__\(\(preserve_access_index\)\), apply_to = record\)/);
  writeFileSync(join(dir, 'small.h'), header);
  writeFileSync(join(dir, 'small.c'), '#include "small.h"\n_Static_assert(sizeof(struct key_t) == 8, "");\nint f(struct __sk_buff *s) { return s->len; }\n');
  run('clang-19', ['-target', 'bpfel', '-fsyntax-only', `-I${dir}`, join(dir, 'small.c')]);
});

test('declarators: pointers to arrays and functions, qualifiers, anonymous members', () => {
  const I = 1;
  const types: BtfType[] = [
    { kind: 'void', id: 0, name: '' },
    { kind: 'int', id: I, name: 'int', size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 },
    { kind: 'ptr', id: 2, name: '', type: 1 },
    { kind: 'array', id: 3, name: '', elemType: 2, indexType: 1, nelems: 4 },
    { kind: 'ptr', id: 4, name: '', type: 3 },
    { kind: 'func_proto', id: 5, name: '', returnType: 1, params: [{ name: 'a', type: 2 }, { name: '', type: 0 }] },
    { kind: 'ptr', id: 6, name: '', type: 5 },
    { kind: 'const', id: 7, name: '', type: 2 },
    { kind: 'const', id: 8, name: '', type: 1 },
    { kind: 'struct', id: 9, name: 's', size: 16, members: [
      { name: 'cb', type: 6, bitOffset: 0, bitfieldSize: 0 },
      { name: 'flag', type: 1, bitOffset: 64, bitfieldSize: 3 },
      { name: '', type: 10, bitOffset: 96, bitfieldSize: 0 },
    ] },
    { kind: 'union', id: 10, name: '', size: 4, members: [{ name: 'x', type: 1, bitOffset: 0, bitfieldSize: 0 }, { name: 'y', type: 8, bitOffset: 0, bitfieldSize: 0 }] },
  ];
  const btf = Btf.parse(encodeBtf(types));
  const p = new CPrinter(btf);
  assert.equal(p.declaration(4, 'x'), 'int *(*x)[4]');
  assert.equal(p.declaration(6, 'fn'), 'int (*fn)(int *, ...)');
  assert.equal(p.declaration(7, 'cp'), 'int *const cp');
  assert.equal(p.declaration(8, 'ci'), 'const int ci');
  assert.equal(formatCType(btf, 9), 'struct s {\n\tint (*cb)(int *, ...);\n\tint flag: 3;\n\tunion {\n\t\tint x;\n\t\tconst int y;\n\t};\n};');
});
