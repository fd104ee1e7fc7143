/** The contexts' layouts against the running kernel's BTF and tracefs (skipped where those are missing). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { Btf, type BtfType } from '../../src/btf/index.js';
import {
  encodePtRegs, encodeTracepointRecord, parseTracepointFormat, shippedTracepointFormat, SHIPPED_TRACEPOINTS, SK_BUFF,
  X86_64_PT_REGS, XDP_FRAME_STRUCT, XDP_MD, XDP_SHINFO_SIZE,
} from '../../src/progtypes/index.js';
import { TRACEFS } from './gen-tracepoint-formats.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
let btf: Btf | undefined;
function kernelBtf(): Btf | undefined {
  if (btf === undefined && existsSync(VMLINUX)) btf = Btf.parse(new Uint8Array(readFileSync(VMLINUX)));
  return btf;
}

function struct(name: string): Extract<BtfType, { kind: 'struct' }> {
  const t = kernelBtf()!.findByName(name, 'struct')[0];
  assert.ok(t !== undefined && t.kind === 'struct', `struct ${name} in vmlinux BTF`);
  return t as Extract<BtfType, { kind: 'struct' }>;
}

function offsets(name: string): Map<string, number> {
  return new Map(struct(name).members.filter((m) => m.name !== '').map((m) => [m.name, m.bitOffset / 8]));
}

test('struct __sk_buff and struct xdp_md offsets match the kernel', (t) => {
  if (!kernelBtf()) return t.skip(`${VMLINUX} missing`);
  const skb = offsets('__sk_buff');
  for (const [field, off] of Object.entries(SK_BUFF)) {
    if (field === 'size' || field === 'flow_keys' || field === 'sk') continue; // anonymous unions
    assert.equal(off, skb.get(field), `__sk_buff.${field}`);
  }
  assert.equal(struct('__sk_buff').size, SK_BUFF.size);
  const xdp = offsets('xdp_md');
  for (const [field, off] of Object.entries(XDP_MD)) if (field !== 'size') assert.equal(off, xdp.get(field), `xdp_md.${field}`);
  assert.equal(struct('xdp_frame').size, XDP_FRAME_STRUCT);
  assert.equal(struct('skb_shared_info').size, XDP_SHINFO_SIZE);
});

test('x86-64 pt_regs layout matches the kernel', (t) => {
  if (!kernelBtf() || arch() !== 'x64') return t.skip('needs x86-64 vmlinux BTF');
  const regs = offsets('pt_regs');
  // cs and ss sit in anonymous unions (FRED); the named registers must line up.
  X86_64_PT_REGS.forEach((r, i) => {
    if (r !== 'cs' && r !== 'ss') assert.equal(regs.get(r), i * 8, `pt_regs.${r}`);
  });
  const b = encodePtRegs('x86_64', { args: [1, 2, 3], ret: -1, ip: 0x1000 });
  const dv = new DataView(b.buffer);
  assert.equal(dv.getBigUint64(regs.get('di')!, true), 1n);
  assert.equal(dv.getBigUint64(regs.get('dx')!, true), 3n);
  assert.equal(dv.getBigInt64(regs.get('ax')!, true), -1n);
  assert.equal(dv.getBigUint64(regs.get('ip')!, true), 0x1000n);
});

test('shipped tracepoint formats match tracefs', (t) => {
  if (!existsSync(`${TRACEFS}/sched/sched_switch/format`)) return t.skip('tracefs not mounted');
  for (const id of SHIPPED_TRACEPOINTS) {
    const path = `${TRACEFS}/${id}/format`;
    if (!existsSync(path)) continue;
    assert.deepEqual(shippedTracepointFormat(id), parseTracepointFormat(id.split('/')[0], readFileSync(path, 'utf8')), id);
  }
});

test('tracepoint records: integers, char arrays and __data_loc strings', () => {
  const f = shippedTracepointFormat('sched/sched_process_exec')!;
  const rec = encodeTracepointRecord(f, { filename: '/bin/true', pid: 42, old_pid: 41 }, { id: 7, pid: 42 });
  const dv = new DataView(rec.buffer);
  const loc = dv.getUint32(f.fields.find((x) => x.name === 'filename')!.offset, true);
  assert.equal(new TextDecoder().decode(rec.subarray(loc >>> 16, (loc >>> 16) + (loc & 0xffff) - 1)), '/bin/true');
  assert.equal(dv.getUint16(0, true), 7);
  const sw = shippedTracepointFormat('sched/sched_switch')!;
  const r2 = encodeTracepointRecord(sw, { prev_comm: 'bash', next_pid: 9 });
  assert.equal(new TextDecoder().decode(r2.subarray(8, 12)), 'bash');
  assert.throws(() => encodeTracepointRecord(sw, { nope: 1 }), /no field 'nope'/);
  assert.throws(() => encodeTracepointRecord(sw, { prev_comm: 'x'.repeat(17) }), /do not fit/);
});
