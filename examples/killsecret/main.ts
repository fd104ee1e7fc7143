// Kill any process that opens a path (default /tmp/secret).
// Usage: node --import tsx examples/killsecret/main.ts [path]
import { readFileSync } from 'node:fs';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { attachProgram, loadCollection } from '../../src/kernel/index.js';
import { exampleObject } from '../build.js';

const path = process.argv[2] ?? '/tmp/secret';
const spec = loadCollectionSpec(new Uint8Array(readFileSync(exampleObject('killsecret'))));
// Set the const volatile `target` in .rodata before load.
const rodata = spec.maps.get('.rodata')!.data!;
rodata.fill(0);
rodata.set(new TextEncoder().encode(path).subarray(0, 63));
const coll = loadCollection(spec);
attachProgram(coll.program('kill_on_open'), spec.programs.get('kill_on_open')!);
console.log(`killing whoever opens ${path}; Ctrl-C to stop`);
const kills = new DataView(coll.variable('kills').buffer, coll.variable('kills').byteOffset, 8);
let seen = 0n;
setInterval(() => {
  const k = kills.getBigUint64(0, true);
  if (k !== seen) {
    seen = k;
    const pid = new DataView(coll.variable('last_pid').slice().buffer).getUint32(0, true);
    console.log(`kills: ${k} (last pid ${pid})`);
  }
}, 200);
