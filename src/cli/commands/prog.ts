/**
 * `bpfkit prog list|show ID|dump xlated ID|dump jited ID|run OBJ ...`, as
 * bpftool prints them (`--json` everywhere). `prog run` loads a program
 * from an object and runs it once (or --repeat N times) with
 * BPF_PROG_TEST_RUN on the bytes of --data-in.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadCollectionSpec } from '../../elf/index.js';
import {
  fdById, formatXlated, loadCollection, objectIds, programCode, programInfo, type ProgramInfo,
} from '../../kernel/index.js';
import { bootEpochNs, nativeSys } from '../../kernel/native.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `usage: bpfkit prog list [--json]
       bpfkit prog show ID [--json]
       bpfkit prog dump xlated|jited ID [--json]
       bpfkit prog run OBJ --program NAME [--data-in FILE] [--data-out FILE] [--repeat N] [--json]`;

function withFd<T>(id: number, f: (fd: number) => T): T {
  const fd = fdById('prog', id);
  try {
    return f(fd);
  } finally {
    nativeSys.call({ kind: 'close', fd });
  }
}

function parseId(s: string | undefined): number {
  const id = Number(s === 'id' ? NaN : s);
  if (!Number.isInteger(id) || id <= 0) throw new UsageError(`prog: expected a program id, got '${s ?? ''}'\n${USAGE}`);
  return id;
}

/** Load time as seconds since the epoch, computed as bpftool does. */
function loadedAt(i: ProgramInfo): number {
  return Number((bootEpochNs() + i.loadTimeNs) / 1_000_000_000n);
}

function infoJson(i: ProgramInfo): Record<string, unknown> {
  return {
    id: i.id,
    type: i.type,
    name: i.name,
    tag: i.tag,
    loaded_at: loadedAt(i),
    uid: i.uid,
    bytes_xlated: i.xlatedLength,
    jited: i.jitedLength > 0,
    bytes_jited: i.jitedLength,
    map_ids: i.mapIds,
    btf_id: i.btfId,
    verified_insns: i.verifiedInsns,
  };
}

function infoText(i: ProgramInfo): string {
  const loaded = new Date(loadedAt(i) * 1000).toISOString().replace(/\.\d+Z$/, '+0000');
  let s = `${i.id}: ${i.type}  ${i.name ? `name ${i.name}  ` : ''}tag ${i.tag}\n\tloaded_at ${loaded}  uid ${i.uid}\n\txlated ${i.xlatedLength}B  jited ${i.jitedLength}B`;
  if (i.mapIds.length) s += `  map_ids ${i.mapIds.join(',')}`;
  if (i.btfId) s += `\n\tbtf_id ${i.btfId}`;
  return `${s}\n`;
}

export default async function prog(argv: string[], io: CommandIo): Promise<number> {
  const json = argv.includes('--json') || argv.includes('-j');
  const args = argv.filter((a) => a !== '--json' && a !== '-j');
  const [sub, ...rest] = args;
  switch (sub) {
    case undefined:
    case '--help':
    case '-h':
      io.stdout(`${USAGE}\n`);
      return sub === undefined ? 2 : 0;
    case 'list':
    case 'show': {
      const ids = sub === 'show' ? [parseId(rest[0] === 'id' ? rest[1] : rest[0])] : objectIds('prog');
      const infos: ProgramInfo[] = [];
      for (const id of ids) {
        try {
          infos.push(withFd(id, (fd) => programInfo(fd)));
        } catch (e) {
          if (sub === 'show') throw e; // a program may vanish between listing and opening
        }
      }
      io.stdout(json ? `${JSON.stringify(sub === 'show' ? infoJson(infos[0]) : infos.map(infoJson))}\n` : infos.map(infoText).join(''));
      return 0;
    }
    case 'dump': {
      const [which, a, b] = rest;
      if (which !== 'xlated' && which !== 'jited') throw new UsageError(`prog dump: expected xlated or jited\n${USAGE}`);
      const id = parseId(a === 'id' ? b : a);
      if (which === 'xlated') {
        const lines = withFd(id, (fd) => formatXlated(fd));
        io.stdout(json ? `${JSON.stringify(lines.map((l) => ({ disasm: l.replace(/^\s*\d+: \(\w\w\) /, '') })))}\n` : `${lines.join('\n')}\n`);
      } else {
        // No native disassembler here: the JIT image as hex, 16 bytes a line, with offsets.
        const code = withFd(id, (fd) => programCode(fd, 'jited'));
        const lines: string[] = [];
        for (let o = 0; o < code.length; o += 16) {
          lines.push(`${o.toString(16).padStart(4, '0')}: ${[...code.subarray(o, o + 16)].map((x) => x.toString(16).padStart(2, '0')).join(' ')}`);
        }
        io.stdout(json ? `${JSON.stringify({ bytes: code.length, opcodes: Buffer.from(code).toString('hex') })}\n` : `${lines.join('\n')}\n`);
      }
      return 0;
    }
    case 'run': {
      let obj: string | undefined;
      let name: string | undefined;
      let dataIn: string | undefined;
      let dataOut: string | undefined;
      let repeat = 1;
      for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if (a === '--program' || a === '-p') name = rest[++i];
        else if (a === '--data-in') dataIn = rest[++i];
        else if (a === '--data-out') dataOut = rest[++i];
        else if (a === '--repeat') repeat = Number(rest[++i]);
        else if (a.startsWith('-')) throw new UsageError(`prog run: unknown option ${a}\n${USAGE}`);
        else obj = a;
      }
      if (!obj) throw new UsageError(`prog run: which object?\n${USAGE}`);
      if (!Number.isInteger(repeat) || repeat < 1) throw new UsageError('prog run: --repeat takes a positive integer');
      const spec = loadCollectionSpec(new Uint8Array(readFileSync(obj)));
      name ??= spec.programs.size === 1 ? [...spec.programs.keys()][0] : undefined;
      if (!name) throw new UsageError(`prog run: the object has ${spec.programs.size} programs; choose one with --program (${[...spec.programs.keys()].join(', ')})`);
      using coll = loadCollection(spec, { programs: [name] });
      const data = dataIn ? new Uint8Array(readFileSync(dataIn)) : undefined;
      const r = coll.program(name).testRun({ data, repeat, dataOutSize: data ? Math.max(data.length + 256, 256) : 0 });
      if (dataOut && r.data) writeFileSync(dataOut, r.data);
      io.stdout(json ? `${JSON.stringify({ retval: r.retval, duration_ns: r.duration })}\n` : `Return value: ${r.retval}, duration${repeat > 1 ? ' (average)' : ''}: ${r.duration}ns\n`);
      return 0;
    }
    default:
      throw new UsageError(`prog: unknown subcommand '${sub}'\n${USAGE}`);
  }
}
