/**
 * Externs against the real kernel, as libbpf resolves them: untyped .ksyms
 * from /proc/kallsyms (src_reg 0, the address), typed ones as the vmlinux
 * VAR (BPF_PSEUDO_BTF_ID), kfuncs; the object's BTF made loadable on the
 * first try (.ksyms/.kconfig DATASECs, extern FUNCs) so programs keep their
 * func and line info; and pins made by a failed load removed with it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadCollectionSpec, type CollectionSpec, type ProgramSpec } from '../../src/elf/index.js';
import { Btf } from '../../src/btf/index.js';
import { BPFFS, CollectionLoadError, encodeForKernel, ensureBpffs, loadCollection, openFds, VerifierError } from '../../src/kernel/index.js';
import { compileBpf, fixture } from '../helpers/fixtures.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { hooksSpec } from './hooks.js';

checkFdLeaks();

const spec = async (path: string): Promise<CollectionSpec> => loadCollectionSpec(new Uint8Array(readFileSync(path)));
const ksymsSource = join(import.meta.dirname, 'bpf', 'ksyms.bpf.c');

function kallsyms(name: string): bigint | undefined {
  const m = new RegExp(`^([0-9a-f]+) \\S ${name}$`, 'm').exec(readFileSync('/proc/kallsyms', 'utf8'));
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

kernelTest('globals: the object BTF loads unsanitised, and programs load on the first try with func and line info', async () => {
  const s = await spec(await fixture('globals'));
  using coll = loadCollection(s);
  assert.equal(coll.btfError, undefined);
  assert.equal(coll.btf?.sanitised, 'none', 'no kind had to be replaced');
  for (const name of ['use_globals', 'tp_write']) {
    const p = coll.program(name);
    assert.equal(p.hasBtf, true, `${name} loaded with BTF`);
    const info = p.info();
    assert.equal(info.funcInfoCount, s.programs.get(name)!.funcInfo.length, `${name}: func info read back`);
    assert.ok(info.lineInfoCount > 0, `${name}: line info read back`);
    assert.ok(info.btfId > 0);
  }
  assert.equal(coll.program('use_globals').testRun({ data: new Uint8Array(64) }).retval, 2, 'XDP_PASS');
});

kernelTest('BTF for the kernel: .ksyms entries become int VARs at 4-byte steps, extern FUNCs global with named parameters, DATASECs sorted', async () => {
  const s = await spec(await compileBpf(ksymsSource));
  const kbtf = Btf.parse(encodeForKernel(s.btf!, []).bytes);
  const ksyms = kbtf.findByName('.ksyms', 'datasec')[0];
  assert.ok(ksyms?.kind === 'datasec');
  assert.deepEqual(ksyms.vars.map((v) => [v.offset, v.size]), ksyms.vars.map((_, i) => [i * 4, 4]));
  assert.equal(ksyms.size, ksyms.vars.length * 4);
  for (const v of ksyms.vars) {
    const t = kbtf.type(v.type);
    assert.ok(t.kind === 'var' && t.linkage === 'global' && kbtf.type(t.type).kind === 'int', JSON.stringify(t));
  }
  const f = kbtf.findByName('bpfkit_no_such_kfunc', 'func')[0];
  assert.ok(f?.kind === 'func' && f.linkage === 'global');
  const proto = kbtf.type(f.type);
  assert.ok(proto.kind === 'func_proto' && proto.params.every((p) => p.name !== ''));
  const g = await spec(await fixture('globals'));
  const kconfig = Btf.parse(encodeForKernel(g.btf!, []).bytes).findByName('.kconfig', 'datasec')[0];
  assert.ok(kconfig?.kind === 'datasec');
  const offsets = kconfig.vars.map((v) => v.offset);
  assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
});

kernelTest('untyped ksyms are kallsyms addresses (missing weak ones 0); kfuncs are called; typed ksyms are BTF ids', async () => {
  const s = await spec(await compileBpf(ksymsSource));
  {
    using coll = loadCollection(s, { programs: ['untyped'] });
    assert.equal(coll.btf?.sanitised, 'none');
    assert.equal(coll.program('untyped').hasBtf, true);
    assert.equal(coll.program('untyped').testRun({ data: new Uint8Array(64) }).retval, 2);
    const bss = new DataView(coll.variable('seen_addr').slice().buffer);
    const want = kallsyms('bpf_prog_put');
    assert.ok(want !== undefined && want !== 0n);
    assert.equal(bss.getBigUint64(0, true), want, 'the address from /proc/kallsyms');
    assert.equal(new DataView(coll.variable('seen_missing').slice().buffer).getBigUint64(0, true), 0n);
  }
  // The kernel resolves a BTF_ID ldimm64 through kallsyms itself: where the
  // VAR is listed the program loads; where not (no CONFIG_KALLSYMS_ALL) its
  // refusal names the symbol, which it only does for src_reg BPF_PSEUDO_BTF_ID.
  try {
    loadCollection(s, { programs: ['typed'] }).close();
    assert.ok(kallsyms('bpf_prog_active') !== undefined, 'loaded although kallsyms lacks it');
  } catch (e) {
    assert.ok(e instanceof CollectionLoadError && e.cause instanceof VerifierError, String(e));
    assert.match(e.cause.log, /ldimm64 failed to find the address for kernel symbol 'bpf_prog_active'/);
  }
});

kernelTest('a failed load removes the pins it made, and keeps pins that were there before', () => {
  ensureBpffs();
  const dir = `${BPFFS}/bpfkit-pinfail-${process.pid}`;
  execFileSync('mkdir', ['-p', dir]);
  try {
    const base = hooksSpec();
    const bad: ProgramSpec = {
      ...base.programs.get('on_raw_tp')!,
      name: 'broken',
      insns: [{ kind: 'alu', width: 64, op: 'mov', dst: 0, src: 2 }, { kind: 'exit' }],
      relocations: [], funcInfo: [], lineInfo: [], coreRelocations: [],
    };
    const pinning = (names: string[]): CollectionSpec['maps'] =>
      new Map([...base.maps].map(([n, m]) => [n, names.includes(n) ? { ...m, pinning: 'by_name' as const } : m]));
    // 'hits' pinned by an earlier, successful load: it must survive the failed one.
    loadCollection({ ...base, maps: pinning(['hits']) }, { programs: ['on_raw_tp'], pinPath: dir }).close();
    assert.ok(existsSync(`${dir}/hits`));
    const fds = openFds().length;
    const broken: CollectionSpec = { ...base, maps: pinning(['hits', 'by_pid']), programs: new Map([...base.programs, ['broken', bad]]) };
    assert.throws(() => loadCollection(broken, { programs: ['broken'], pinPath: dir }), CollectionLoadError);
    assert.equal(existsSync(`${dir}/by_pid`), false, 'the pin this load made is gone');
    assert.equal(existsSync(`${dir}/hits`), true, 'the pin it reused stays');
    assert.equal(openFds().length, fds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
