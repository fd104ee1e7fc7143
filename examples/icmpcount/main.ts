// Count ICMP packets per destination IPv4 address for N seconds.
// Usage: node --import tsx examples/icmpcount/main.ts [seconds]
import { readFileSync } from 'node:fs';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { attachProgram, loadCollection } from '../../src/kernel/index.js';
import { exampleObject } from '../build.js';

const seconds = Number(process.argv[2] ?? 5);
const spec = loadCollectionSpec(new Uint8Array(readFileSync(exampleObject('icmpcount'))));
using coll = loadCollection(spec);
using link = attachProgram(coll.program('count_icmp'), spec.programs.get('count_icmp')!);
await new Promise((r) => setTimeout(r, seconds * 1000));
for (const [k, v] of coll.map('counts').entries()) {
  console.log(`${[...k].join('.')}\t${new DataView(v.buffer).getBigUint64(0, true)}`);
}
void link;
