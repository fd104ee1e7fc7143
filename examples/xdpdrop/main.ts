// Drop UDP packets to one port on an interface; print the counters.
// Usage: node --import tsx examples/xdpdrop/main.ts IFACE [port] [seconds]
import { readFileSync } from 'node:fs';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { attachXdp, loadCollection } from '../../src/kernel/index.js';
import { exampleObject } from '../build.js';

const [iface, port = '9999', seconds = '10'] = process.argv.slice(2);
if (!iface) throw new Error('usage: main.ts IFACE [port] [seconds]');
const spec = loadCollectionSpec(new Uint8Array(readFileSync(exampleObject('xdpdrop'))));
new DataView(spec.maps.get('.rodata')!.data!.buffer, spec.maps.get('.rodata')!.data!.byteOffset).setUint16(0, Number(port), true);
using coll = loadCollection(spec);
using link = attachXdp(coll.program('drop_port'), iface, { mode: 'generic' });
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const sum = (k: number) => coll.map('stats').lookupPerCpu(Uint8Array.of(k, 0, 0, 0))!.reduce((a, v) => a + new DataView(v.buffer).getBigUint64(0, true), 0n);
console.log(`dropped ${sum(0)}, passed ${sum(1)}`);
void link;
