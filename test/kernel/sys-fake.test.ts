/**
 * Attribute encoding and errno handling of each bpf(2) command, through a
 * fake Sys that records the calls: no kernel or privileges needed. Offsets
 * are spelled out as numbers here on purpose (layout.test.ts ties the
 * layouts to the kernel's BTF; this file ties the encoders to the layouts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode, build as b } from '../../src/isa/index.js';
import {
  createMap, describeCall, ERRNO, KernelArgumentError, loadProgram, openFds, SyscallError, VerifierError,
  type Syscall, type Sys,
} from '../../src/kernel/index.js';

type BpfCall = Extract<Syscall, { kind: 'bpf' }>;

class FakeSys implements Sys {
  readonly calls: Syscall[] = [];
  constructor(private readonly respond: (c: Syscall) => number = () => 0) {}
  call(c: Syscall): number {
    // Record a copy of the attributes as sent, before the fake "kernel" writes results into them.
    this.calls.push(c.kind === 'bpf' ? { ...c, attr: c.attr.slice() } : c);
    return this.respond(c);
  }
  bpf(i: number): BpfCall {
    const c = this.calls[i];
    assert.equal(c?.kind, 'bpf');
    return c as BpfCall;
  }
}

const u32 = (c: BpfCall, off: number) => new DataView(c.attr.buffer).getUint32(off, true);
const u64 = (c: BpfCall, off: number) => new DataView(c.attr.buffer).getBigUint64(off, true);
const ptr = (c: BpfCall, off: number) => c.pointers.find((p) => p.offset === off)?.buf;
const fail = (c: Syscall, errno: number): never => {
  throw new SyscallError(c, errno);
};

test('BPF_MAP_CREATE: fields, name, fd tracking and close', () => {
  const sys = new FakeSys((c) => (c.kind === 'bpf' ? 42 : 0));
  const m = createMap({ type: 'hash', keySize: 4, valueSize: 16, maxEntries: 128, flags: 1, name: 'counts_by_address', sys });
  const c = sys.bpf(0);
  assert.equal(c.cmd, 'map_create');
  assert.equal(c.attr.length, 96);
  assert.deepEqual([u32(c, 0), u32(c, 4), u32(c, 8), u32(c, 12), u32(c, 16)], [1, 4, 16, 128, 1]);
  // char map_name[16] at 28: truncated to 15 bytes and NUL-terminated.
  assert.equal(new TextDecoder().decode(c.attr.subarray(28, 44)), 'counts_by_addre\0');
  assert.equal(m.fd, 42);
  assert.ok(openFds().some((f) => f.fd === 42 && f.what === "map hash 'counts_by_address'" && f.openedAt.includes('sys-fake.test')));
  m.close();
  m.close();
  assert.deepEqual(sys.calls.slice(1), [{ kind: 'close', fd: 42 }]);
  assert.ok(!openFds().some((f) => f.fd === 42));
  assert.throws(() => m.fd, RangeError);
});

test('BPF_MAP_LOOKUP/UPDATE/DELETE_ELEM: pointers, flags, ENOENT', () => {
  const sys = new FakeSys((c) => {
    if (c.kind !== 'bpf') return 0;
    if (c.cmd === 'map_create') return 7;
    const key = ptr(c as BpfCall, 8)!;
    if (key[0] === 9) fail(c, ERRNO.ENOENT);
    if (c.cmd === 'map_lookup_elem') ptr(c as BpfCall, 16)!.set([1, 2, 3, 4, 5, 6, 7, 8]);
    return 0;
  });
  using m = createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, sys });
  const key = Uint8Array.of(0, 0, 0, 0);
  assert.deepEqual(m.lookup(key), Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  const lookup = sys.bpf(1);
  assert.equal(lookup.cmd, 'map_lookup_elem');
  assert.equal(lookup.attr.length, 32);
  assert.equal(u32(lookup, 0), 7);
  assert.equal(ptr(lookup, 8), key);
  assert.equal(ptr(lookup, 16)?.length, 8);
  assert.equal(m.lookup(Uint8Array.of(9, 0, 0, 0)), undefined);

  const value = new Uint8Array(8);
  m.update(key, value, 'exist');
  const update = sys.bpf(3);
  assert.equal(update.cmd, 'map_update_elem');
  assert.equal(ptr(update, 16), value);
  assert.equal(u64(update, 24), 2n);
  assert.equal(m.delete(key), true);
  assert.equal(sys.bpf(4).cmd, 'map_delete_elem');
  assert.equal(m.delete(Uint8Array.of(9, 0, 0, 0)), false);

  const before = sys.calls.length;
  assert.throws(() => m.lookup(new Uint8Array(3)), KernelArgumentError);
  assert.throws(() => m.update(key, new Uint8Array(4)), /value is 4 bytes, the map's value size is 8/);
  assert.equal(sys.calls.length, before, 'no syscall for a wrong size');
});

test('BPF_PROG_LOAD: fields, and no log asked for on success', () => {
  const sys = new FakeSys((c) => (c.kind === 'bpf' ? 5 : 0));
  const insns = [b.mov64(0, b.imm(1)), b.exit()];
  using p = loadProgram({ type: 'xdp', insns, name: 'pass', flags: 1, expectedAttachType: 37, sys });
  const c = sys.bpf(0);
  assert.equal(c.cmd, 'prog_load');
  assert.equal(c.attr.length, 168);
  assert.equal(u32(c, 0), 6, 'prog_type');
  assert.equal(u32(c, 4), 2, 'insn_cnt');
  assert.deepEqual(ptr(c, 8), encode(insns));
  assert.deepEqual(ptr(c, 16), new TextEncoder().encode('GPL\0'));
  assert.deepEqual([u32(c, 24), u32(c, 28), ptr(c, 32)], [0, 0, undefined], 'no log');
  assert.equal(u32(c, 44), 1, 'prog_flags');
  assert.equal(new TextDecoder().decode(c.attr.subarray(48, 53)), 'pass\0');
  assert.equal(u32(c, 68), 37, 'expected_attach_type');
  assert.equal(p.fd, 5);
  assert.equal(p.insnCount, 2);
  assert.equal(p.log, undefined);
});

const LOG = '0: R1=ctx() R10=fp0\n0: (61) r0 = *(u32 *)(r1 +1000)\ninvalid bpf_context access off=1000 size=4\nprocessed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n';

test('BPF_PROG_LOAD refused: retried with a log, grown on ENOSPC, VerifierError carries it', () => {
  const sizes: number[] = [];
  const sys = new FakeSys((c) => {
    if (c.kind !== 'bpf') return 0;
    const level = u32(c as BpfCall, 24);
    const size = u32(c as BpfCall, 28);
    sizes.push(size);
    if (level === 0) fail(c, ERRNO.EACCES);
    const buf = ptr(c as BpfCall, 32)!;
    const text = new TextEncoder().encode(LOG);
    new DataView(c.attr.buffer).setUint32(140, text.length + 1, true); // log_true_size
    if (size < text.length + 1) {
      buf.set(text.subarray(text.length - size + 1)); // the kernel keeps the tail
      fail(c, ERRNO.ENOSPC);
    }
    buf.set(text);
    return fail(c, ERRNO.EACCES);
  });
  const err = (() => {
    try {
      loadProgram({ type: 'xdp', insns: [b.ldx(4, 0, 1, 1000), b.exit()], logSize: 16, sys });
    } catch (e) {
      return e;
    }
    assert.fail('loaded');
  })();
  assert.ok(err instanceof VerifierError);
  assert.equal(err.log, LOG);
  assert.equal(err.errno, ERRNO.EACCES);
  assert.equal(err.errnoName, 'EACCES');
  assert.equal(err.insnIndex, 0);
  assert.equal(err.truncated, false);
  assert.equal(err.code, 'VERIFIER_REJECTED');
  assert.match(err.message, /^load xdp program: verifier refused the program \(EACCES\): invalid bpf_context access off=1000 size=4 \(at 0: \(61\)/);
  assert.ok(err.cause instanceof SyscallError);
  // no log; then the caller's 16 bytes; then what log_true_size said.
  assert.deepEqual(sizes, [0, 16, LOG.length + 1]);
  assert.equal(openFds().length, 0);
});

test('BPF_PROG_LOAD failing with an empty log throws the SyscallError', () => {
  const sys = new FakeSys((c) => fail(c, ERRNO.E2BIG));
  assert.throws(
    () => loadProgram({ type: 'socket_filter', insns: [b.exit()], sys }),
    (e: unknown) => e instanceof SyscallError && e.errnoName === 'E2BIG' && e.command === 'BPF_PROG_LOAD',
  );
  assert.throws(() => loadProgram({ type: 'xdp', insns: new Uint8Array(12), sys }), KernelArgumentError);
});

test('BPF_PROG_TEST_RUN: fields in, retval/duration/data out', () => {
  const sys = new FakeSys((c) => {
    if (c.kind !== 'bpf') return 0;
    if (c.cmd === 'prog_load') return 9;
    const v = new DataView(c.attr.buffer);
    v.setUint32(4, 0xfffffffe, true); // retval
    v.setUint32(36, 123, true); // duration
    v.setUint32(12, 3, true); // data_size_out
    ptr(c as BpfCall, 24)?.set([7, 8, 9]);
    return 0;
  });
  using p = loadProgram({ type: 'xdp', insns: [b.exit()], sys });
  const data = Uint8Array.of(1, 2, 3, 4);
  const r = p.testRun({ data, repeat: 10, cpu: 1, flags: 2 });
  const c = sys.bpf(1);
  assert.equal(c.cmd, 'prog_test_run');
  assert.equal(c.attr.length, 80);
  assert.deepEqual([u32(c, 0), u32(c, 8), u32(c, 12), u32(c, 32), u32(c, 64), u32(c, 68)], [9, 4, 4, 10, 2, 1]);
  assert.equal(ptr(c, 16), data);
  assert.equal(ptr(c, 24)?.length, 4);
  assert.deepEqual(r, { retval: 0xfffffffe, duration: 123, data: Uint8Array.of(7, 8, 9) });
  assert.equal(p.testRun({ dataOutSize: 0 }).data, undefined);
});

test('SyscallError names the call and the errno', () => {
  const c: Syscall = { kind: 'bpf', cmd: 'map_create', attr: new Uint8Array(96), pointers: [] };
  const e = new SyscallError(c, 1);
  assert.equal(e.message, 'bpf(BPF_MAP_CREATE): EPERM (errno 1)');
  assert.equal(e.command, 'BPF_MAP_CREATE');
  assert.equal(e.errnoName, 'EPERM');
  assert.equal(e.code, 'SYSCALL');
  assert.equal(new SyscallError({ kind: 'close', fd: 3 }, 9999).message, 'close(3): errno 9999 (errno 9999)');
  assert.equal(describeCall({ kind: 'close', fd: 3 }), 'close(3)');
});
