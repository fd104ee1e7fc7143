/**
 * The bridge against the real kernel: maps, program load and test run,
 * verifier errors with their logs, fd bookkeeping, and the probe's reason
 * when run without privileges.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { build as b } from '../../src/isa/index.js';
import { bpfUnusableReason, createMap, loadProgram, openFds, SyscallError, VerifierError } from '../../src/kernel/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';

checkFdLeaks();

kernelTest('array map: update, lookup, delete refused, close', () => {
  using m = createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, name: 'bridge_array' });
  assert.deepEqual(m.lookup(Uint8Array.of(1, 0, 0, 0)), new Uint8Array(8));
  m.update(Uint8Array.of(1, 0, 0, 0), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  assert.deepEqual(m.lookup(Uint8Array.of(1, 0, 0, 0)), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  assert.equal(m.lookup(Uint8Array.of(4, 0, 0, 0)), undefined, 'past max_entries');
  // Array elements cannot be deleted: the kernel says EINVAL.
  assert.throws(() => m.delete(Uint8Array.of(1, 0, 0, 0)), (e: unknown) => e instanceof SyscallError && e.errnoName === 'EINVAL');
  assert.ok(openFds().some((f) => f.fd === m.fd && f.what === "map array 'bridge_array'"));
});

kernelTest('hash map: noexist/exist flags and delete', () => {
  using m = createMap({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 8 });
  const k = Uint8Array.of(7, 0, 0, 0);
  assert.throws(() => m.update(k, Uint8Array.of(1, 0, 0, 0), 'exist'), (e: unknown) => e instanceof SyscallError && e.errnoName === 'ENOENT');
  m.update(k, Uint8Array.of(1, 0, 0, 0), 'noexist');
  assert.throws(() => m.update(k, Uint8Array.of(2, 0, 0, 0), 'noexist'), (e: unknown) => e instanceof SyscallError && e.errnoName === 'EEXIST');
  assert.deepEqual(m.lookup(k), Uint8Array.of(1, 0, 0, 0));
  assert.equal(m.delete(k), true);
  assert.equal(m.delete(k), false);
});

kernelTest('XDP program: test run with retval, repeat and data out', () => {
  // Write 0xab into the first packet byte, return XDP_TX (3).
  using p = loadProgram({
    type: 'xdp',
    name: 'bridge_xdp',
    insns: [
      b.ldx(4, 2, 1, 0), b.ldx(4, 3, 1, 4), b.mov64(4, 2), b.add64(4, b.imm(1)), b.mov64(0, b.imm(3)),
      b.jgt(4, 3, 1), b.st(1, 2, 0, 0xab), b.exit(),
    ],
  });
  const data = new Uint8Array(64).fill(1);
  const r = p.testRun({ data, repeat: 100 });
  assert.equal(r.retval, 3);
  assert.equal(r.data?.length, 64);
  assert.equal(r.data?.[0], 0xab);
  assert.equal(r.data?.[1], 1);
  assert.equal(data[0], 1, 'input untouched');
  assert.ok(r.duration >= 0);
});

kernelTest('socket filter from bytes, with a log at level 2', () => {
  const bytes = Uint8Array.of(0xb7, 0, 0, 0, 0x2a, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0);
  using p = loadProgram({ type: 'socket_filter', insns: bytes, logLevel: 2 });
  assert.match(p.log ?? '', /processed 2 insns/);
  assert.equal(p.testRun({ data: new Uint8Array(64) }).retval, 42);
});

kernelTest('refused program: VerifierError with the whole log, the reason and the instruction', () => {
  const err = (() => {
    try {
      loadProgram({ type: 'xdp', insns: [b.mov64(0, b.imm(0)), b.ldx(4, 0, 1, 1000), b.exit()] });
    } catch (e) {
      return e;
    }
    assert.fail('loaded');
  })();
  assert.ok(err instanceof VerifierError);
  assert.equal(err.errnoName, 'EACCES');
  assert.equal(err.insnIndex, 1);
  assert.match(err.log, /invalid bpf_context access off=1000 size=4\nprocessed/);
  assert.match(err.message, /^load xdp program: verifier refused the program \(EACCES\): invalid bpf_context access off=1000 size=4 \(at 1: /);
});

kernelTest('a log bigger than the first buffer is fetched whole', () => {
  // 300 instructions at log level 2 print far more than 64 bytes.
  const insns = [...Array.from({ length: 300 }, (_, i) => b.mov64(0, b.imm(i))), b.exit()];
  using p = loadProgram({ type: 'socket_filter', insns, logLevel: 2, logSize: 64 });
  assert.ok((p.log ?? '').length > 10_000);
  assert.match(p.log ?? '', /^func#0 @0|^0: /);
  assert.match(p.log ?? '', /processed 301 insns/);
});

kernelTest('uninitialised register: refused with EACCES and the register named', () => {
  assert.throws(
    () => loadProgram({ type: 'socket_filter', insns: [b.mov64(0, 5), b.exit()] }),
    (e: unknown) => e instanceof VerifierError && /R5 !read_ok/.test(e.message),
  );
});

const unprivBpf = existsSync('/proc/sys/kernel/unprivileged_bpf_disabled')
  ? readFileSync('/proc/sys/kernel/unprivileged_bpf_disabled', 'utf8').trim()
  : undefined;

kernelTest('without privileges, the probe says why', { timeout: 30_000 }, (t) => {
  const setpriv = spawnSync('setpriv', ['--version']);
  if (setpriv.status !== 0 || unprivBpf === undefined || unprivBpf === '0') {
    t.skip(setpriv.status !== 0 ? 'setpriv missing' : 'unprivileged bpf(2) is allowed here');
    return;
  }
  const r = spawnSync(
    'setpriv',
    // Root with every capability gone (noroot: exec grants none), rather than
    // another user: the checkout may sit in a directory only root can enter.
    ['--securebits', '+noroot,+noroot_locked,+no_setuid_fixup,+no_setuid_fixup_locked', '--bounding-set', '-all', '--inh-caps', '-all', process.execPath, '--import', 'tsx', '--input-type=module', '-e',
      "const k = await import('./src/kernel/index.js'); process.stdout.write(JSON.stringify(k.bpfUnusableReason() ?? null));"],
    { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout), 'bpf(2) is not supported: EPERM: not root and no CAP_BPF');
});

test('bpfUnusableReason is stable across calls', () => {
  assert.equal(bpfUnusableReason(), bpfUnusableReason());
});
