/**
 * `bpfkit attach OBJ [--program NAME] [--iface IF] [--cgroup DIR]
 * [--duration S] [--json]`: load an object, attach its programs where
 * their sections say, keep them attached for --duration seconds (default:
 * until Ctrl-C), then print the maps' contents. Ctrl-C detaches cleanly.
 */
import { readFileSync } from 'node:fs';
import { loadCollectionSpec } from '../../elf/index.js';
import { attachProgram, loadCollection, type Link, type XdpMode } from '../../kernel/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = 'usage: bpfkit attach OBJ [--program NAME]... [--iface IF] [--xdp-mode generic|native] [--cgroup DIR] [--pid PID] [--duration SECONDS] [--json]';

export default async function attach(argv: string[], io: CommandIo): Promise<number> {
  let obj: string | undefined;
  const programs: string[] = [];
  let iface: string | undefined;
  let cgroup: string | undefined;
  let xdpMode: XdpMode | undefined;
  let pid: number | undefined;
  let duration: number | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--program' || a === '-p') programs.push(argv[++i]);
    else if (a === '--iface') iface = argv[++i];
    else if (a === '--cgroup') cgroup = argv[++i];
    else if (a === '--xdp-mode') xdpMode = argv[++i] as XdpMode;
    else if (a === '--pid') pid = Number(argv[++i]);
    else if (a === '--duration') duration = Number(argv[++i]);
    else if (a === '--json' || a === '-j') json = true;
    else if (a === '--help' || a === '-h') {
      io.stdout(`${USAGE}\n`);
      return 0;
    } else if (a.startsWith('-')) throw new UsageError(`attach: unknown option ${a}\n${USAGE}`);
    else obj = a;
  }
  if (!obj) throw new UsageError(USAGE);
  if (xdpMode && !['auto', 'generic', 'native', 'offload'].includes(xdpMode)) throw new UsageError(`attach: unknown XDP mode ${xdpMode}`);
  const spec = loadCollectionSpec(new Uint8Array(readFileSync(obj)));
  using coll = loadCollection(spec, programs.length ? { programs } : {});
  const links: Link[] = [];
  try {
    for (const [name, p] of coll.programs) links.push(attachProgram(p, spec.programs.get(name)!, { iface, cgroup, xdpMode, pid }));
    const attached = links.map((l) => ({ kind: l.kind, target: l.target }));
    if (json) io.stdout(`${JSON.stringify({ attached })}\n`);
    else for (const l of attached) io.stderr(`attached ${l.kind} ${l.target}\n`);
    await new Promise<void>((resolve) => {
      const done = (): void => {
        process.removeListener('SIGINT', done);
        resolve();
      };
      process.on('SIGINT', done);
      if (duration !== undefined) setTimeout(done, duration * 1000);
    });
  } finally {
    for (const l of links) l.close();
  }
  const maps: Record<string, { key: string; value: string }[]> = {};
  for (const [name, m] of coll.maps) {
    if (['ringbuf', 'perf_event_array', 'prog_array'].includes(m.type)) continue;
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    maps[name] = [...m.entries()].map(([k, v]) => ({ key: hex(k), value: hex(v) }));
  }
  if (json) io.stdout(`${JSON.stringify({ maps })}\n`);
  else for (const [name, es] of Object.entries(maps)) io.stdout(`${name}:\n${es.map((e) => `  ${e.key}: ${e.value}\n`).join('')}`);
  return 0;
}
