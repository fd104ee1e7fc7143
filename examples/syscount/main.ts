// Count system calls per process for N seconds; print the top 10.
// Usage: node --import tsx examples/syscount/main.ts [seconds]
import { readFileSync } from 'node:fs';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { attachProgram, loadCollection } from '../../src/kernel/index.js';
import { exampleObject } from '../build.js';

const seconds = Number(process.argv[2] ?? 3);
const spec = loadCollectionSpec(new Uint8Array(readFileSync(exampleObject('syscount'))));
using coll = loadCollection(spec);
using link = attachProgram(coll.program('count_syscalls'), spec.programs.get('count_syscalls')!);
await new Promise((r) => setTimeout(r, seconds * 1000));
const perPid = new Map<number, bigint>();
for (const [k, v] of coll.map('counts').lookupBatch()) {
  const pid = new DataView(k.buffer).getUint32(0, true);
  perPid.set(pid, (perPid.get(pid) ?? 0n) + new DataView(v.buffer).getBigUint64(0, true));
}
for (const [pid, n] of [...perPid].sort((a, b) => Number(b[1] - a[1])).slice(0, 10)) console.log(`${pid}\t${n}`);
void link;
