/**
 * Differential tests against the kernel: every runtime fixture runs over
 * the same generated packets in the VM and with BPF_PROG_TEST_RUN; r0, the
 * packet after the run and the final contents of every map must be
 * identical. BPFKIT_RUNTIME_PACKETS sets the packet count (default 300 per
 * fixture; the full run uses 10000).
 */
import assert from 'node:assert/strict';
import { loadCollectionSpec, type CollectionSpec } from '../../src/elf/index.js';
import { generatePackets } from '../../src/pcap/index.js';
import { loadCollection, type VmCollection } from '../../src/runtime/index.js';
import { ProgArrayMap, QueueMap, type VmMap } from '../../src/maps/index.js';
import { ERRNO, SyscallError, type BpfMap } from '../../src/kernel/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { KernelObject } from './kernel-object.js';
import { runtimeFixture, runtimeFixtureNames } from './fixtures.js';

checkFdLeaks();

const COUNT = Number(process.env.BPFKIT_RUNTIME_PACKETS ?? 300);

/** Per-fixture setup applied to both sides: the entry program and map contents. */
interface Setup {
  entry?: string;
  prepare?(vm: VmCollection, k: KernelObject): void;
}

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};

const SETUPS: Record<string, Setup> = {
  xdp_tail_call: {
    entry: 'xdp_dispatch',
    prepare(vm, k) {
      const slots: [number, string][] = [[0, 'xdp_tcp'], [1, 'xdp_udp'], [5, 'xdp_icmp']];
      const jmp = vm.map('jmp') as ProgArrayMap;
      for (const [i, name] of slots) {
        jmp.setProgram(i, vm.program(name));
        k.maps.get('jmp')!.updateFd(u32(i), k.programs.get(name)!.fd);
      }
    },
  },
  xdp_tail_loop: {
    prepare(vm, k) {
      (vm.map('self') as ProgArrayMap).setProgram(0, vm.program('xdp_tail_loop'));
      k.maps.get('self')!.updateFd(u32(0), k.programs.get('xdp_tail_loop')!.fd);
    },
  },
  xdp_lpm: {
    prepare(vm, k) {
      const routes: [number, number[], number][] = [
        [8, [10, 0, 0, 0], 1], [16, [10, 1, 0, 0], 3], [24, [10, 1, 2, 0], 2], [0, [0, 0, 0, 0], 2],
        [12, [172, 16, 0, 0], 1], [32, [192, 168, 1, 1], 3], [20, [192, 168, 16, 0], 0], [4, [224, 0, 0, 0], 1],
      ];
      for (const [len, addr, verdict] of routes) {
        const key = new Uint8Array([...u32(len), ...addr]);
        vm.map('routes').update(key, u32(verdict));
        k.maps.get('routes')!.update(key, u32(verdict));
      }
    },
  },
};

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Entries of a VM map as sorted "key=value" strings; per-CPU values summed as u64 words. */
function vmEntries(m: VmMap): string[] {
  if (m instanceof QueueMap) {
    const out: string[] = [];
    for (let v = m.pop(); v !== undefined; v = m.pop()) out.push(hex(v));
    return out;
  }
  const percpu = m.type.includes('percpu');
  return [...m].map(([k, v]) => `${hex(k)}=${percpu ? sumPerCpu([v], m.valueSize) : hex(v)}`).sort();
}

function sumPerCpu(values: Uint8Array[], valueSize: number): string {
  const out = new Uint8Array(valueSize);
  const ov = new DataView(out.buffer);
  const stride = (valueSize + 7) & ~7;
  for (const v of values) {
    const dv = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let off = 0; off + stride <= v.length; off += stride) {
      for (let w = 0; w + 8 <= valueSize; w += 8) ov.setBigUint64(w, ov.getBigUint64(w, true) + dv.getBigUint64(off + w, true), true);
    }
  }
  return hex(out);
}

function kernelEntries(m: BpfMap, type: string, valueSize: number): string[] {
  if (type === 'queue' || type === 'stack') {
    const out: string[] = [];
    for (let v = m.lookupAndDelete(); v !== undefined; v = m.lookupAndDelete()) out.push(hex(v));
    return out;
  }
  const percpu = type.includes('percpu');
  const out: string[] = [];
  for (const k of m.keys()) {
    const v = percpu ? m.lookupPerCpu(k) : m.lookup(k);
    if (v === undefined) continue;
    out.push(`${hex(k)}=${percpu ? sumPerCpu(v as Uint8Array[], valueSize) : hex(v as Uint8Array)}`);
  }
  return out.sort();
}

function shortIpFrame(f: Uint8Array): boolean {
  const t = (f[12] << 8) | f[13];
  return (t === 0x0800 && f.length < 14 + 20) || (t === 0x86dd && f.length < 14 + 40);
}

function skipMap(type: string): boolean {
  return type === 'prog_array' || type === 'ringbuf' || type === 'perf_event_array';
}

async function compare(name: string): Promise<void> {
  const spec: CollectionSpec = loadCollectionSpec(await runtimeFixture(name));
  const setup = SETUPS[name] ?? {};
  const vm = loadCollection(spec, { cpus: 1 });
  const k = new KernelObject(spec);
  try {
    setup.prepare?.(vm, k);
    const entry = setup.entry ?? [...spec.programs.keys()][0];
    const prog = vm.program(entry);
    const kprog = k.programs.get(entry)!;
    const l3 = prog.type === 'socket_filter' || prog.type === 'cgroup_skb';
    let n = 0;
    for (const pkt of generatePackets(0x5eed + name.length, COUNT)) {
      n++;
      if (pkt.data.length > 3000) continue;
      let kr;
      try {
        kr = kprog.testRun({ data: pkt.data, dataOutSize: pkt.data.length + 512, ...(prog.type === 'sched_cls' ? { ctxOutSize: 192 } : {}) });
      } catch (e) {
        // BPF_PROG_TEST_RUN refuses skb runs of IPv4/IPv6 frames shorter than their fixed header.
        if (e instanceof SyscallError && e.errno === ERRNO.EINVAL && prog.type !== 'xdp' && shortIpFrame(pkt.data)) continue;
        throw e;
      }
      const vr = prog.run({ packet: pkt.data, skbStart: l3 ? 'l3' : 'l2' });
      const where = `${name}: packet ${n} (${pkt.data.length} bytes ${hex(pkt.data.subarray(0, 40))})`;
      assert.equal(vr.retval, kr.retval | 0, `${where}: r0`);
      const kdata = kr.data!;
      if (l3) assert.equal(hex(vr.packet!.subarray(14)), hex(kdata.subarray(14)), `${where}: packet after the run`);
      else assert.equal(hex(vr.packet!), hex(kdata), `${where}: packet after the run`);
      if (kr.ctx !== undefined && vr.skb !== undefined) {
        // __sk_buff fields a tc program may write, as the kernel copies them back.
        const c = new DataView(kr.ctx.buffer, kr.ctx.byteOffset, kr.ctx.byteLength);
        const k = { mark: c.getUint32(8, true), priority: c.getUint32(32, true), tcIndex: c.getUint32(44, true), cb: [0, 1, 2, 3, 4].map((i) => c.getUint32(48 + 4 * i, true)) };
        assert.deepEqual({ mark: vr.skb.mark, priority: vr.skb.priority, tcIndex: vr.skb.tcIndex, cb: vr.skb.cb }, k, `${where}: __sk_buff after the run`);
      }
    }
    for (const [mname, ms] of spec.maps) {
      if (skipMap(ms.type)) continue;
      assert.deepEqual(vmEntries(vm.map(mname)), kernelEntries(k.maps.get(mname)!, ms.type, ms.valueSize), `${name}: map '${mname}' after ${n} packets`);
    }
  } finally {
    k.close();
  }
}

for (const name of runtimeFixtureNames()) {
  kernelTest(`runtime matches the kernel: ${name}`, { timeout: 120_000 }, async () => {
    await compare(name);
  });
}
