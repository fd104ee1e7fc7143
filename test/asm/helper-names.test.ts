import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { HELPER_NAMES, helperName } from '../../src/asm/index.js';
import { needTools } from './tools.js';

test('helper names: ids as Linux numbers them', () => {
  assert.equal(helperName(0), 'bpf_unspec');
  assert.equal(helperName(1), 'bpf_map_lookup_elem');
  assert.equal(helperName(5), 'bpf_ktime_get_ns');
  assert.equal(helperName(-1), undefined);
  assert.equal(helperName(HELPER_NAMES.length), undefined);
  assert.equal(new Set(HELPER_NAMES).size, HELPER_NAMES.length, 'names are unique');
});

test("the generated table agrees with the running kernel's BTF (enum bpf_func_id)", (t) => {
  if (!existsSync('/sys/kernel/btf/vmlinux')) return t.skip('no /sys/kernel/btf/vmlinux');
  if (!needTools(t, 'bpftool')) return;
  const header = execFileSync('bpftool', ['btf', 'dump', 'file', '/sys/kernel/btf/vmlinux', 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const kernel: string[] = [];
  for (const m of header.matchAll(/^\s*BPF_FUNC_(\w+) = (\d+),$/gm)) kernel[Number(m[2])] = `bpf_${m[1]}`;
  // A newer kernel may add helpers at the end; ids never change meaning.
  assert.ok(kernel.length >= HELPER_NAMES.length);
  assert.deepEqual(kernel.slice(0, HELPER_NAMES.length), HELPER_NAMES);
});
