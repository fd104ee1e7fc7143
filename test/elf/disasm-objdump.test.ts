/**
 * `bpfkit disasm --style llvm` against the reference: for every function of
 * every corpus object, our instruction text equals llvm-objdump-19 -d's
 * (addresses, byte columns and `<label>` notes normalised away).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { formatInsn } from '../../src/asm/index.js';
import { loadCollectionSpec, programListings } from '../../src/elf/index.js';
import { allFixtures, readBytes, run } from '../helpers/fixtures.js';

/**
 * Instruction text per function symbol. What a relocation fills in (map and
 * global data addresses, bpf-to-bpf call targets) is an address, so those
 * instructions are compared as '<reloc>'.
 */
function objdumpFunctions(path: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of run('llvm-objdump-19', ['-d', '-r', path]).split('\n')) {
    if (/^\s+[0-9a-f]+:\s+R_BPF_/.test(line)) {
      if (current?.length) current[current.length - 1] = '<reloc>';
      continue;
    }
    const head = /^[0-9a-f]+ <(.+)>:$/.exec(line);
    if (head) {
      current = [];
      out.set(head[1], current);
      continue;
    }
    if (line.startsWith('Disassembly')) current = undefined;
    const m = /^\s+\d+:\t([0-9a-f ]+?)\t(.*)$/.exec(line);
    if (!m || !current) continue;
    const bytes = m[1].trim().split(' ');
    // src = 1 in the register byte's high nibble (little-endian objects) or low nibble (big-endian).
    const isLocalCall = bytes[0] === '85' && (bytes[1] === '10' || bytes[1] === '01');
    current.push(isLocalCall ? '<reloc>' : normalise(m[2]));
  }
  return out;
}

function normalise(text: string): string {
  return text.replace(/ <[^<> ]*>\s*$/, '').replace(/\s+/g, ' ').trim();
}

let fixtures: Awaited<ReturnType<typeof allFixtures>>;
before(async () => {
  fixtures = await allFixtures();
});

test('llvm-style text of every corpus function equals llvm-objdump-19 -d', () => {
  let compared = 0;
  for (const f of fixtures) {
    const reference = objdumpFunctions(f.path);
    const spec = loadCollectionSpec(readBytes(f.path));
    for (const l of programListings(spec)) {
      const relocated = new Set(spec.programs.get(l.name)!.relocations.map((r) => r.insn));
      let fn: string | undefined;
      let ours: string[] = [];
      const check = (): void => {
        if (fn === undefined) return;
        const theirs = reference.get(fn);
        assert.ok(theirs, `${f.path}: llvm-objdump has no function ${fn}`);
        assert.deepEqual(ours, theirs, `${f.path}: program ${l.name}, function ${fn}`);
        compared += ours.length;
      };
      l.insns.forEach((insn, i) => {
        const start = l.functionStarts[i];
        if (start !== undefined) {
          check();
          fn = start;
          ours = [];
        }
        const reloc = relocated.has(i) || insn.kind === 'call_local';
        ours.push(reloc ? '<reloc>' : normalise(formatInsn(insn, 'llvm', { alu32: false })));
      });
      check();
    }
  }
  assert.ok(compared > 200, `compared only ${compared} instructions`);
});
