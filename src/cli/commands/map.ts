/**
 * `bpfkit map list|show ID|dump ID|lookup ID KEY|update ID KEY VALUE`, as
 * bpftool: keys and values are given as bytes ("0x01 0x02", or hex
 * "01020304"), printed as hex bytes; `--json` everywhere.
 */
import { fdById, mapFromFd, mapInfo, objectIds, type BpfMap, type MapInfo } from '../../kernel/index.js';
import { nativeSys } from '../../kernel/native.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `usage: bpfkit map list [--json]
       bpfkit map show ID [--json]
       bpfkit map dump ID [--json]
       bpfkit map lookup ID key BYTES... [--json]
       bpfkit map update ID key BYTES... value BYTES...`;

function parseId(s: string | undefined): number {
  const id = Number(s);
  if (!Number.isInteger(id) || id <= 0) throw new UsageError(`map: expected a map id, got '${s ?? ''}'\n${USAGE}`);
  return id;
}

/** bpftool's byte syntax: "0x01 2 0x03" or one hex string "010203". */
export function parseBytes(words: readonly string[], size: number, what: string): Uint8Array {
  let bytes: number[];
  if (words.length === 1 && /^(hex:)?[0-9a-f]+$/i.test(words[0]) && words[0].replace(/^hex:/, '').length === size * 2 && size > 1) {
    bytes = words[0].replace(/^hex:/, '').match(/../g)!.map((h) => parseInt(h, 16));
  } else {
    bytes = words.map((w) => {
      const n = /^0x/i.test(w) ? parseInt(w.slice(2), 16) : Number(w);
      if (!Number.isInteger(n) || n < 0 || n > 255) throw new UsageError(`map: '${w}' is not a byte`);
      return n;
    });
  }
  if (bytes.length !== size) throw new UsageError(`map: ${what} is ${bytes.length} bytes, the map's ${what} size is ${size}`);
  return Uint8Array.from(bytes);
}

const hex = (b: Uint8Array): string[] => [...b].map((x) => `0x${x.toString(16).padStart(2, '0')}`);
const hexText = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

function withMap<T>(id: number, f: (m: BpfMap) => T): T {
  const m = mapFromFd(fdById('map', id));
  try {
    return f(m);
  } finally {
    m.close();
  }
}

function infoText(i: MapInfo): string {
  return `${i.id}: ${i.type}  ${i.name ? `name ${i.name}  ` : ''}flags 0x${i.flags.toString(16)}\n\tkey ${i.keySize}B  value ${i.valueSize}B  max_entries ${i.maxEntries}${i.btfId ? `\n\tbtf_id ${i.btfId}` : ''}\n`;
}

const infoJson = (i: MapInfo) => ({ id: i.id, type: i.type, name: i.name, flags: i.flags, bytes_key: i.keySize, bytes_value: i.valueSize, max_entries: i.maxEntries, btf_id: i.btfId });

export default async function map(argv: string[], io: CommandIo): Promise<number> {
  const json = argv.includes('--json') || argv.includes('-j');
  const args = argv.filter((a) => a !== '--json' && a !== '-j');
  const [sub, ...rest] = args;
  const idArg = rest[0] === 'id' ? rest[1] : rest[0];
  const after = rest[0] === 'id' ? rest.slice(2) : rest.slice(1);
  switch (sub) {
    case undefined: case '--help': case '-h':
      io.stdout(`${USAGE}\n`);
      return sub === undefined ? 2 : 0;
    case 'list':
    case 'show': {
      const infos: MapInfo[] = [];
      for (const id of sub === 'show' ? [parseId(idArg)] : objectIds('map')) {
        try {
          const fd = fdById('map', id);
          try {
            infos.push(mapInfo(fd));
          } finally {
            nativeSys.call({ kind: 'close', fd });
          }
        } catch (e) {
          if (sub === 'show') throw e;
        }
      }
      io.stdout(json ? `${JSON.stringify(sub === 'show' ? infoJson(infos[0]) : infos.map(infoJson))}\n` : infos.map(infoText).join(''));
      return 0;
    }
    case 'dump': {
      const entries = withMap(parseId(idArg), (m) => [...m.entries()]);
      if (json) io.stdout(`${JSON.stringify(entries.map(([k, v]) => ({ key: hex(k), value: hex(v) })))}\n`);
      else io.stdout(`${entries.map(([k, v]) => `key: ${hexText(k)}  value: ${hexText(v)}\n`).join('')}Found ${entries.length} element${entries.length === 1 ? '' : 's'}\n`);
      return 0;
    }
    case 'lookup':
    case 'update': {
      const ki = after.indexOf('key');
      const vi = after.indexOf('value');
      if (ki < 0) throw new UsageError(`map ${sub}: missing 'key'\n${USAGE}`);
      if (sub === 'update' && vi < 0) throw new UsageError(`map update: missing 'value'\n${USAGE}`);
      return withMap(parseId(idArg), (m) => {
        const key = parseBytes(after.slice(ki + 1, vi < 0 ? undefined : vi), m.keySize, 'key');
        if (sub === 'update') {
          m.update(key, parseBytes(after.slice(vi + 1), m.valueSize, 'value'));
          if (json) io.stdout('null\n');
          return 0;
        }
        const v = m.lookup(key);
        if (!v) {
          io.stderr('Error: lookup failed: No such file or directory\n');
          return 1;
        }
        io.stdout(json ? `${JSON.stringify({ key: hex(key), value: hex(v) })}\n` : `key: ${hexText(key)}  value: ${hexText(v)}\n`);
        return 0;
      });
    }
    default:
      throw new UsageError(`map: unknown subcommand '${sub}'\n${USAGE}`);
  }
}
