// Print TCP state changes as they happen.
// Usage: node --import tsx examples/tcpstates/main.ts
import { readFileSync } from 'node:fs';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { attachProgram, loadCollection, RingBufferReader } from '../../src/kernel/index.js';
import { exampleObject } from '../build.js';

export const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV'];

export interface TcpStateEvent {
  skaddr: bigint;
  pid: number;
  oldstate: string;
  newstate: string;
  sport: number;
  dport: number;
  saddr: string;
  daddr: string;
}

/** struct event of tcpstates.bpf.c. */
export function decodeEvent(r: Uint8Array): TcpStateEvent {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  return {
    skaddr: v.getBigUint64(0, true),
    pid: v.getUint32(8, true),
    oldstate: TCP_STATES[v.getInt32(12, true)] ?? String(v.getInt32(12, true)),
    newstate: TCP_STATES[v.getInt32(16, true)] ?? String(v.getInt32(16, true)),
    sport: v.getUint16(20, true),
    dport: v.getUint16(22, true),
    saddr: [...r.subarray(24, 28)].join('.'),
    daddr: [...r.subarray(28, 32)].join('.'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const spec = loadCollectionSpec(new Uint8Array(readFileSync(exampleObject('tcpstates'))));
  const coll = loadCollection(spec);
  attachProgram(coll.program('on_state'), spec.programs.get('on_state')!);
  const reader = new RingBufferReader(coll.map('events'));
  for await (const r of reader) {
    const e = decodeEvent(r);
    console.log(`${e.pid}\t${e.saddr}:${e.sport} -> ${e.daddr}:${e.dport}\t${e.oldstate} -> ${e.newstate}`);
  }
}
