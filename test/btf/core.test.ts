import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { Btf, essentialName, resolveCoreRelocation } from '../../src/btf/index.js';
import { applyCoreRelocations, CORE_POISON_HELPER, loadCollectionSpec, type ProgramSpec } from '../../src/elf/index.js';
import { fixture, readBytes } from '../helpers/fixtures.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

interface LibbpfRelo { slot: number; from?: bigint; to?: bigint; poison: boolean }

/**
 * What libbpf does with each CO-RE relocation of `obj`, from its debug log
 * (`bpftool -d prog loadall`): the relocation step runs and logs before any
 * program is loaded, so the log is the reference even if loading fails.
 */
function libbpfCoreLog(obj: string): Map<string, LibbpfRelo[]> | string {
  const pin = existsSync('/sys/fs/bpf') ? `/sys/fs/bpf/bpfkit-core-${process.pid}` : `/tmp/bpfkit-core-${process.pid}`;
  const r = spawnSync('bpftool', ['-d', 'prog', 'loadall', obj, pin], { encoding: 'utf8', timeout: 60_000 });
  rmSync(pin, { recursive: true, force: true });
  if (r.error) return `bpftool: ${r.error.message}`;
  const out = new Map<string, LibbpfRelo[]>();
  for (const line of r.stderr.split('\n')) {
    const m = /prog '([^']+)': relo #\d+: (?:patched insn #(\d+) \([^)]*\) (?:imm64|imm|off) (-?\d+) -> (-?\d+)|substituting insn #(\d+) w\/ invalid insn)/.exec(line);
    if (!m) continue;
    const list = out.get(m[1]) ?? [];
    if (m[2] !== undefined) list.push({ slot: Number(m[2]), from: BigInt(m[3]), to: BigInt(m[4]), poison: false });
    else list.push({ slot: Number(m[5]), poison: true });
    out.set(m[1], list);
  }
  if (out.size === 0) return `libbpf logged no CO-RE relocation (${r.stderr.split('\n').find((l) => /permission|Operation not permitted|failed/i.test(l)) ?? 'no reason'})`;
  return out;
}

function slotsOf(p: ProgramSpec): number[] {
  const s: number[] = [];
  let pc = 0;
  for (const i of p.insns) { s.push(pc); pc += i.kind === 'lddw' ? 2 : 1; }
  return s;
}

for (const name of ['core_flavors', 'core'] as const) {
  test(`CO-RE relocations of ${name} match libbpf's against the running kernel`, async (t) => {
    if (!existsSync(VMLINUX)) return t.skip('no kernel BTF');
    const obj = await fixture(name);
    const ref = libbpfCoreLog(obj);
    // CI (BPFKIT_REQUIRE_KERNEL=1) runs as root, where libbpf gets that far: a skip there is a failure.
    if (typeof ref === 'string') return process.env.BPFKIT_REQUIRE_KERNEL === '1' ? assert.fail(ref) : t.skip(ref);
    const spec = loadCollectionSpec(readBytes(obj));
    const kernel = Btf.parse(readBytes(VMLINUX));
    let compared = 0;
    for (const p of spec.programs.values()) {
      const { insns, relocations } = applyCoreRelocations(p, spec.btf!, kernel);
      const slots = slotsOf(p);
      const theirs: LibbpfRelo[] = (ref as Map<string, LibbpfRelo[]>).get(p.name) ?? [];
      assert.equal(relocations.length, theirs.length, `${p.name}: relocation count`);
      relocations.forEach((r, i) => {
        const l = theirs[i];
        assert.equal(slots[r.insn], l.slot, `${p.name} relo #${i}: instruction`);
        assert.equal(r.poison, l.poison, `${p.name} relo #${i} ${r.description}: poison`);
        if (l.poison) {
          assert.deepEqual(insns[r.insn], { kind: 'call', helper: CORE_POISON_HELPER });
        } else {
          const before = p.insns[r.insn];
          const orig = before.kind === 'alu' && typeof before.src !== 'number' ? BigInt(before.src.imm) : before.kind === 'lddw' ? BigInt.asIntN(64, before.imm) : 'off' in before ? BigInt(before.off) : undefined;
          assert.equal(orig, l.from, `${p.name} relo #${i} ${r.description}: original value`);
          if (r.validate) assert.equal(BigInt.asIntN(64, r.localValue), l.from, `${p.name} relo #${i} ${r.description}: local value`);
          assert.equal(BigInt.asIntN(64, r.targetValue), l.to, `${p.name} relo #${i} ${r.description}: target value`);
        }
        compared++;
      });
    }
    assert.ok(compared >= 5, `${compared} relocations compared`);
  });
}

test('CO-RE without a kernel: flavours, missing fields and enum values against the object itself', async () => {
  const spec = loadCollectionSpec(readBytes(await fixture('core_flavors')));
  const btf = spec.btf!;
  const p = spec.programs.get('flavors')!;
  // Against its own BTF every relocation keeps its value (the identity).
  const { relocations } = applyCoreRelocations(p, btf, btf);
  for (const r of relocations) {
    if (!r.description.includes('type_id') && r.validate) assert.equal(r.targetValue, r.localValue, r.description);
  }
  assert.equal(essentialName('task_struct___local'), 'task_struct');
  assert.equal(essentialName('___x'), '___x');
  const te = p.coreRelocations.find((r) => r.kind === 'type_exists')!;
  assert.equal(resolveCoreRelocation(btf, btf, te).targetValue, 1n);
});
