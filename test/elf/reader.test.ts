import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { readElf, ElfError, BPF_RELOC } from '../../src/elf/index.js';
import { allFixtures, readBytes, run } from '../helpers/fixtures.js';

interface ReadobjSection { Section: { Index: number; Name: { Name: string }; Type: { Value: number }; Flags: { Value: number }; Offset: number; Size: number; Link: number; Info: number } }
interface ReadobjSymbol { Symbol: { Name: { Name: string }; Value: number; Size: number; Binding: { Value: number }; Type: { Value: number }; Section: { Value: number } } }
interface ReadobjReloc { SectionIndex: number; Relocs: { Relocation: { Offset: number; Type: { Value: number }; Symbol: { Value: number } } }[] }
interface Readobj { Sections: ReadobjSection[]; Symbols: ReadobjSymbol[]; Relocations: ReadobjReloc[] }

let fixtures: Awaited<ReturnType<typeof allFixtures>>;
before(async () => {
  fixtures = await allFixtures();
});

const BINDING = { local: 0, global: 1, weak: 2 } as const;
const TYPE = { notype: 0, object: 1, func: 2, section: 3, file: 4 } as const;

test('sections, symbols and relocations match llvm-readobj-19 on every corpus object (both byte orders)', () => {
  for (const f of fixtures) {
    const ref = (JSON.parse(run('llvm-readobj-19', ['--elf-output-style=JSON', '-S', '-s', '-r', f.path])) as Readobj[])[0];
    const elf = readElf(readBytes(f.path));
    assert.equal(elf.littleEndian, f.endian === 'el');
    assert.equal(elf.sections.length, ref.Sections.length, f.path);
    for (const { Section: r } of ref.Sections) {
      const s = elf.sections[r.Index];
      assert.deepEqual(
        { name: s.name, type: s.type, flags: s.flags, offset: s.offset, size: s.size, link: s.link, info: s.info },
        { name: r.Name.Name, type: r.Type.Value, flags: r.Flags.Value, offset: r.Offset, size: r.Size, link: r.Link, info: r.Info },
        `${f.path} section ${r.Index}`,
      );
    }
    assert.equal(elf.symbols.length, ref.Symbols.length, f.path);
    ref.Symbols.forEach(({ Symbol: r }, i) => {
      const s = elf.symbols[i];
      if (s.type !== 'section') assert.equal(s.name, r.Name.Name, `${f.path} symbol ${i}`);
      assert.deepEqual(
        [s.value, s.size, BINDING[s.binding as keyof typeof BINDING], TYPE[s.type as keyof typeof TYPE], s.section],
        [r.Value, r.Size, r.Binding.Value, r.Type.Value, r.Section.Value],
        `${f.path} symbol ${s.name}`,
      );
    });
    assert.equal(elf.relocationSections.length, ref.Relocations.length);
    for (const rr of ref.Relocations) {
      const ours = elf.relocationSections.find((x) => x.section.index === rr.SectionIndex);
      assert.ok(ours, `relocation section ${rr.SectionIndex}`);
      assert.deepEqual(
        ours.relocations.map((r) => [r.offset, r.type, r.symbol]),
        rr.Relocs.map(({ Relocation: r }) => [r.Offset, r.Type.Value, r.Symbol.Value]),
        `${f.path} relocations of section ${rr.SectionIndex}`,
      );
    }
  }
});

test('relocation types are named', () => {
  const f = fixtures.find((x) => x.name === 'subprogs' && x.endian === 'el')!;
  const elf = readElf(readBytes(f.path));
  const names = new Set(elf.relocationSections.flatMap((s) => s.relocations.map((r) => r.typeName)));
  for (const n of ['R_BPF_64_64', 'R_BPF_64_32', 'R_BPF_64_ABS64', 'R_BPF_64_NODYLD32'] as const) assert.ok(names.has(n), n);
  assert.equal(BPF_RELOC.R_BPF_64_32, 10);
});

test('truncated and inconsistent headers give ElfError with an offset', () => {
  const f = fixtures.find((x) => x.name === 'globals' && x.endian === 'el')!;
  const bytes = readBytes(f.path);
  assert.throws(() => readElf(bytes.subarray(0, 10)), (e: unknown) => e instanceof ElfError && e.code === 'ELF_MALFORMED' && e.offset === 0);
  assert.throws(() => readElf(bytes.subarray(0, bytes.length - 100)), (e: unknown) => e instanceof ElfError && /past the end|do not fit/.test(e.message));
  const bad = bytes.slice();
  bad[0] = 0;
  assert.throws(() => readElf(bad), /bad magic/);
  const class32 = bytes.slice();
  class32[4] = 1;
  assert.throws(() => readElf(class32), (e: unknown) => e instanceof ElfError && e.offset === 4);
  // A section whose contents point outside the file names the section.
  const elf = readElf(bytes);
  const text = elf.sections.find((s) => s.name === 'xdp')!;
  const corrupt = bytes.slice();
  const shoff = Number(new DataView(corrupt.buffer).getBigUint64(0x28, true));
  new DataView(corrupt.buffer).setBigUint64(shoff + text.index * 64 + 24, 0xffffffn, true);
  assert.throws(() => readElf(corrupt), (e: unknown) => e instanceof ElfError && e.section === 'xdp');
});
