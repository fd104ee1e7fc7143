/**
 * `bpfkit load OBJ [--pin DIR] [--json]`: load every program and map of an
 * object; with --pin, pin each under DIR (bpffs) so they outlive the
 * command, as `bpftool prog loadall OBJ DIR` does. Without --pin, the
 * objects are verified, listed and closed.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCollectionSpec } from '../../elf/index.js';
import { ensureBpffs, loadCollection } from '../../kernel/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = 'usage: bpfkit load OBJ [--pin DIR] [--program NAME]... [--json]';

export default async function load(argv: string[], io: CommandIo): Promise<number> {
  let obj: string | undefined;
  let pin: string | undefined;
  let json = false;
  const programs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--pin') pin = argv[++i];
    else if (a === '--program' || a === '-p') programs.push(argv[++i]);
    else if (a === '--json' || a === '-j') json = true;
    else if (a === '--help' || a === '-h') {
      io.stdout(`${USAGE}\n`);
      return 0;
    } else if (a.startsWith('-')) throw new UsageError(`load: unknown option ${a}\n${USAGE}`);
    else obj = a;
  }
  if (!obj) throw new UsageError(USAGE);
  const spec = loadCollectionSpec(new Uint8Array(readFileSync(obj)));
  using coll = loadCollection(spec, programs.length ? { programs } : {});
  if (pin) {
    if (pin.startsWith('/sys/fs/bpf')) ensureBpffs();
    mkdirSync(pin, { recursive: true });
    for (const [name, p] of coll.programs) p.pin(join(pin, name));
    mkdirSync(join(pin, 'maps'), { recursive: true });
    for (const [name, m] of coll.maps) m.pin(join(pin, 'maps', name.replace(/^\./, '')));
  }
  const progs = [...coll.programs].map(([name, p]) => ({ name, id: p.info().id, type: p.type, ...(pin ? { pinned: join(pin, name) } : {}) }));
  const maps = [...coll.maps].map(([name, m]) => ({ name, id: m.info().id, type: m.type, ...(pin ? { pinned: join(pin, 'maps', name.replace(/^\./, '')) } : {}) }));
  if (json) io.stdout(`${JSON.stringify({ programs: progs, maps })}\n`);
  else {
    for (const p of progs) io.stdout(`prog ${p.id} ${p.type} ${p.name}${p.pinned ? ` pinned ${p.pinned}` : ''}\n`);
    for (const m of maps) io.stdout(`map ${m.id} ${m.type} ${m.name}${m.pinned ? ` pinned ${m.pinned}` : ''}\n`);
  }
  return 0;
}
