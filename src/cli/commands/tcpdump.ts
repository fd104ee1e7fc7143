/**
 * `bpfkit tcpdump`: compile pcap filter expressions the way tcpdump does
 * (`-d`, `-dd`, `-ddd`, `-O`, `-y`, `-s`), and filter capture files
 * (`-r in.pcap [-w out.pcap]`), printing how many packets matched.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dumpFilter, runCbpf, type DumpLevel, type SockFilter } from '../../cbpf/index.js';
import { LINKTYPE, linkTypeFromName, linkTypeName, readCaptureSync, writePcap, type PacketToWrite } from '../../pcap/index.js';
import { compileFilter, type LinkType } from '../../pcap/filter/index.js';
import { NotSupportedError } from '../../errors/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `Usage:
  bpfkit tcpdump [-d|-dd|-ddd] [-O] [-y LINKTYPE] [-s SNAPLEN] [-i IFACE] EXPRESSION...
  bpfkit tcpdump -r IN.pcap [-w OUT.pcap] [-O] [-d|-dd|-ddd] EXPRESSION...

Options:
  -d, -dd, -ddd  print the compiled filter as tcpdump does (default -d when not reading a file)
  -O             do not run the optimizer
  -y LINKTYPE    link type: EN10MB (default), RAW, LINUX_SLL, LINUX_SLL2, NULL, LOOP
  -s SNAPLEN     snapshot length returned for accepted packets (default 262144)
  -i IFACE       compile for a live Linux capture, as tcpdump -i IFACE -d does (VLAN tags from skb
                 metadata, inbound/outbound/ifindex from SKF_AD_* data); nothing is captured
  -r FILE        read packets from a pcap or pcapng file and count those the filter accepts
  -w FILE        with -r: write the accepted packets to FILE (pcap)
`;

const SUPPORTED: Record<number, LinkType> = {
  [LINKTYPE.EN10MB]: 'EN10MB',
  [LINKTYPE.RAW]: 'RAW',
  [LINKTYPE.LINUX_SLL]: 'LINUX_SLL',
  [LINKTYPE.LINUX_SLL2]: 'LINUX_SLL2',
  [LINKTYPE.NULL]: 'NULL',
  [LINKTYPE.LOOP]: 'LOOP',
};

interface Options {
  level?: DumpLevel;
  optimize: boolean;
  linkType?: number;
  snaplen?: number;
  read?: string;
  write?: string;
  live: boolean;
  expr: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = { optimize: true, live: false, expr: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '-d': o.level = 1; break;
      case '-dd': o.level = 2; break;
      case '-ddd': o.level = 3; break;
      case '-O': o.optimize = false; break;
      case '-y': {
        const v = value();
        const lt = linkTypeFromName(v);
        if (lt === undefined || SUPPORTED[lt] === undefined) {
          throw new UsageError(`unsupported link type '${v}' (supported: ${Object.values(SUPPORTED).join(', ')})`);
        }
        o.linkType = lt;
        break;
      }
      case '-s': {
        const v = value();
        const n = Number(v);
        if (!/^[0-9]+$/.test(v) || n > 0xffffffff) throw new UsageError(`invalid snaplen '${v}'`);
        o.snaplen = n === 0 ? 262144 : n;
        break;
      }
      case '-r': o.read = value(); break;
      case '-i': value(); o.live = true; break;
      case '-w': o.write = value(); break;
      case '--':
        o.expr.push(...argv.slice(i + 1));
        i = argv.length;
        break;
      default:
        if (a.startsWith('-') && a.length > 1 && o.expr.length === 0) throw new UsageError(`unknown option '${a}'\n\n${USAGE}`);
        o.expr.push(a);
    }
  }
  if (o.write && !o.read) throw new UsageError('-w needs -r (bpfkit does not capture live traffic)');
  if (o.live && o.read) throw new UsageError('-i and -r cannot be used together');
  return o;
}

function compileFor(o: Options, linkType: number, snaplen: number): SockFilter[] {
  const name = SUPPORTED[linkType];
  if (!name) throw new UsageError(`link type ${linkTypeName(linkType)} is not supported by the filter compiler`);
  return compileFilter(o.expr.join(' '), { linkType: name, optimize: o.optimize, snaplen, live: o.live });
}

export default async function tcpdump(argv: string[], io: CommandIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  const o = parseArgs(argv);
  if (!o.read) {
    const filter = compileFor(o, o.linkType ?? LINKTYPE.EN10MB, o.snaplen ?? 262144);
    io.stdout(dumpFilter(filter, o.level ?? 1));
    return 0;
  }
  const packets = readCaptureSync(new Uint8Array(readFileSync(o.read)));
  // Like tcpdump, the file decides the link type and the snapshot length.
  const linkType = packets[0]?.linkType ?? o.linkType ?? LINKTYPE.EN10MB;
  const filter = compileFor(o, linkType, o.snaplen ?? 262144);
  if (o.level !== undefined) {
    io.stdout(dumpFilter(filter, o.level));
    return 0;
  }
  // protochain loops with backward `ja`, which libpcap's interpreter allows but runCbpf does not (yet).
  if (filter.some((f) => f.code === 0x05 && f.k >= 0x80000000)) {
    throw new NotSupportedError('filtering with protochain', 'its program jumps backwards, which the cBPF interpreter refuses');
  }
  const kept: PacketToWrite[] = [];
  for (const p of packets) {
    if (p.linkType !== linkType) continue;
    if (runCbpf(filter, p.data, { wirelen: p.wirelen, dialect: 'libpcap' }) !== 0) {
      kept.push({ data: p.data, wirelen: p.wirelen, timestamp: p.timestamp });
    }
  }
  if (o.write) writeFileSync(o.write, writePcap(kept, { linkType }));
  io.stdout(`${kept.length} of ${packets.length} packets matched\n`);
  return 0;
}
