/**
 * `bpfkit verify FILE`: check a program with bpfkit's verifier and print the
 * kernel-format log. FILE is raw bytecode or eBPF assembly. Exit 0 when the
 * program is accepted, 1 when it is refused, 2 on a usage error.
 */
import { readFileSync } from 'node:fs';
import { assemble } from '../../asm/index.js';
import { decode, type Insn } from '../../isa/index.js';
import { verify, type MapInfo, type MapType, type ProgType } from '../../verifier/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `Usage: bpfkit verify FILE [options]

Check FILE (raw eBPF bytecode, or assembly) with the verifier and print its log.

Options:
  --type TYPE        program type: xdp, socket, tc, tracepoint, kprobe, perf_event,
                     cgroup_skb, raw_tracepoint (default: xdp)
  --log-level N      0, 1 (default: path to the error) or 2 (every instruction)
  --map SPEC         a map for 'lddw map_fd' immediates: FD:TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES
                     (e.g. 3:hash:4:8:1024); repeatable
  --json             print the verdict, issues and statistics as JSON
  -h, --help         show this help
`;

const TYPE_ALIASES: Record<string, ProgType> = {
  xdp: 'xdp', socket: 'socket_filter', socket_filter: 'socket_filter', tc: 'sched_cls', sched_cls: 'sched_cls',
  sched_act: 'sched_act', tracepoint: 'tracepoint', kprobe: 'kprobe', perf_event: 'perf_event',
  cgroup_skb: 'cgroup_skb', raw_tracepoint: 'raw_tracepoint', raw_tp: 'raw_tracepoint',
};
const MAP_TYPES: readonly MapType[] = ['hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array', 'lru_hash', 'devmap', 'ringbuf'];

function parseMap(spec: string): MapInfo {
  const parts = spec.split(':');
  const nums = [parts[0], parts[2], parts[3], parts[4]].map((p) => Number(p));
  const type = parts[1] as MapType;
  if (parts.length !== 5 || nums.some((n) => !Number.isInteger(n) || n < 0) || !MAP_TYPES.includes(type)) {
    throw new UsageError(`bad --map '${spec}': expected FD:TYPE:KEY_SIZE:VALUE_SIZE:MAX_ENTRIES with TYPE one of ${MAP_TYPES.join(', ')}`);
  }
  return { fd: nums[0], type, keySize: nums[1], valueSize: nums[2], maxEntries: nums[3] };
}

/** Text files are assembled; anything else is decoded as bytecode. */
function loadProgram(path: string, bytes: Uint8Array): Insn[] {
  const looksText = /\.(s|asm|bpf)$/i.test(path) ||
    (bytes.length > 0 && bytes.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127)));
  if (looksText) return assemble(new TextDecoder().decode(bytes));
  return decode(bytes);
}

export default async function verifyCommand(argv: string[], io: CommandIo): Promise<number> {
  let file: string | undefined;
  let progType: ProgType = 'xdp';
  let logLevel: 0 | 1 | 2 = 1;
  let json = false;
  const maps: MapInfo[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '-h' || a === '--help') { io.stdout(USAGE); return 0; }
    else if (a === '--type' || a === '-t') {
      const t = value();
      const p = TYPE_ALIASES[t];
      if (!p) throw new UsageError(`unknown program type '${t}' (known: ${Object.keys(TYPE_ALIASES).join(', ')})`);
      progType = p;
    } else if (a === '--log-level') {
      const n = Number(value());
      if (n !== 0 && n !== 1 && n !== 2) throw new UsageError('--log-level must be 0, 1 or 2');
      logLevel = n;
    } else if (a === '--map') maps.push(parseMap(value()));
    else if (a === '--json') json = true;
    else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'\n\n${USAGE}`);
    else if (file === undefined) file = a;
    else throw new UsageError(`unexpected argument '${a}'`);
  }
  if (file === undefined) throw new UsageError(`missing FILE\n\n${USAGE}`);
  const bytes = file === '-' ? await io.readStdin() : new Uint8Array(readFileSync(file));
  const insns = loadProgram(file, bytes);
  const result = verify(insns, { progType, maps, logLevel });
  if (json) {
    io.stdout(`${JSON.stringify({ accepted: result.accepted, errors: result.errors, stats: result.stats, log: result.log }, null, 2)}\n`);
  } else {
    io.stdout(result.log);
    if (!result.accepted && logLevel === 0) {
      for (const e of result.errors) io.stderr(`${file}: insn ${e.insn}: ${e.message}\n`);
    }
  }
  return result.accepted ? 0 : 1;
}
