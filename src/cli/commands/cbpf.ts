/**
 * `bpfkit cbpf`: classic BPF tools. Programs are read as raw
 * `struct sock_filter` bytes or as any of the listings of `tcpdump -d`,
 * `-dd` and `-ddd` (including the one-line `4,48 0 0 9,...` form).
 */
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { formatProgram } from '../../asm/index.js';
import {
  bytecodeString, cbpfToEbpf, checkClassic, decodeSockFilter, dumpFilter, encodeSockFilter, parseListing, runCbpf, type SockFilter,
} from '../../cbpf/index.js';
import { encode } from '../../isa/index.js';
import { readCapture, linkTypeName } from '../../pcap/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = `Usage: bpfkit cbpf COMMAND FILE [OPTIONS]

Classic BPF (socket filters, tcpdump filters, iptables -m bpf, tc bpf).
FILE holds raw struct sock_filter bytes or a listing as tcpdump -d, -dd or
-ddd prints it (also "4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0"); - reads stdin.

Commands:
  dump FILE [-d|-dd|-ddd|--bytecode]  print the program (default -d)
  check FILE                          check it as the kernel does (SO_ATTACH_FILTER)
  to-ebpf FILE [-o OUT]               convert to eBPF as the kernel does; without -o,
                                      print the eBPF listing
  run FILE --pcap CAPTURE [--dialect libpcap|linux] [-v]
                                      count the packets the filter accepts

Raw programs are little-endian; --big-endian reads (and dump --raw writes)
them in a big-endian host's order (s390x, ppc64).

Run 'bpfkit cbpf COMMAND --help' for a command's options.
`;

const HELP: Record<string, string> = {
  dump: `Usage: bpfkit cbpf dump FILE [-d|-dd|-ddd|--bytecode] [-o OUT]

Print a classic BPF program as tcpdump does:
  -d          readable listing (default)
  -dd         C array
  -ddd        decimal, count first (what iptables -m bpf and tc take)
  --bytecode  the one-line comma-separated form of -ddd
  --raw -o OUT  write raw struct sock_filter bytes to OUT
`,
  check: `Usage: bpfkit cbpf check FILE

Check a classic BPF program with the kernel's rules (bpf_check_classic):
allowed opcodes, forward jumps in range, a final return, no division by a
constant zero, scratch memory written before it is read. Exit 0 if the
kernel would accept it, 1 with the instruction and reason if not.
`,
  'to-ebpf': `Usage: bpfkit cbpf to-ebpf FILE [-o OUT]

Convert a classic BPF program to an eBPF socket filter with the kernel's
rules (A in r0, X in r7, ctx in r6, M[k] on the stack). -o writes the eBPF
bytecode (8-byte instructions) to OUT; otherwise the listing is printed.
`,
  run: `Usage: bpfkit cbpf run FILE --pcap CAPTURE [--dialect libpcap|linux] [-v]

Run the filter on every packet of a pcap or pcapng file and print how many
it accepts. -v prints each accepted packet's number and snap length.
--dialect linux uses Linux's semantics where libpcap's differ (shifts >= 32).
`,
};

/** Raw sock_filter bytes, or a text listing. */
export function loadFilter(bytes: Uint8Array, name: string, bigEndian = false): SockFilter[] {
  const textual = bytes.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (!textual || bytes.length === 0) {
    if (bytes.length % 8 !== 0 || bytes.length === 0) {
      throw new UsageError(`${name}: neither text nor whole 8-byte sock_filter instructions (${bytes.length} bytes)`);
    }
    return decodeSockFilter(bytes, { bigEndian });
  }
  return parseListing(new TextDecoder().decode(bytes));
}

async function readInput(file: string, io: CommandIo): Promise<Uint8Array> {
  return file === '-' ? io.readStdin() : new Uint8Array(readFileSync(file));
}

interface Parsed {
  file?: string;
  flags: Set<string>;
  values: Map<string, string>;
}

function parseArgs(cmd: string, argv: string[], flags: readonly string[], valued: readonly string[]): Parsed {
  const out: Parsed = { flags: new Set(), values: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (flags.includes(a)) out.flags.add(a);
    else if (valued.includes(a)) {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`cbpf ${cmd}: ${a} needs a value`);
      out.values.set(a, v);
    } else if (a.startsWith('-') && a !== '-') throw new UsageError(`cbpf ${cmd}: unknown option '${a}'`);
    else if (out.file === undefined) out.file = a;
    else throw new UsageError(`cbpf ${cmd}: more than one input file ('${out.file}', '${a}')`);
  }
  if (out.file === undefined) throw new UsageError(`cbpf ${cmd}: no input file (use - for standard input)`);
  return out;
}

export default async function cbpf(argv: string[], io: CommandIo): Promise<number> {
  const bigEndian = argv.includes('--big-endian');
  const [cmd, ...rest] = argv.filter((a) => a !== '--big-endian');
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    io.stdout(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(HELP, cmd)) throw new UsageError(`cbpf: unknown command '${cmd}' (dump, check, to-ebpf, run)`);
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(HELP[cmd]);
    return 0;
  }
  switch (cmd) {
    case 'dump': {
      const a = parseArgs(cmd, rest, ['-d', '-dd', '-ddd', '--bytecode', '--raw'], ['-o']);
      const prog = loadFilter(await readInput(a.file!, io), a.file!, bigEndian);
      const out = a.values.get('-o');
      if (a.flags.has('--raw')) {
        if (out === undefined) throw new UsageError('cbpf dump: --raw needs -o OUT');
        writeFileSync(out, encodeSockFilter(prog, { bigEndian }));
        return 0;
      }
      const text = a.flags.has('--bytecode') ? `${bytecodeString(prog)}\n`
        : dumpFilter(prog, a.flags.has('-ddd') ? 3 : a.flags.has('-dd') ? 2 : 1);
      if (out !== undefined) writeFileSync(out, text);
      else io.stdout(text);
      return 0;
    }
    case 'check': {
      const a = parseArgs(cmd, rest, [], []);
      const prog = loadFilter(await readInput(a.file!, io), a.file!, bigEndian);
      checkClassic(prog);
      io.stdout(`${a.file}: ok, ${prog.length} instruction${prog.length === 1 ? '' : 's'}\n`);
      return 0;
    }
    case 'to-ebpf': {
      const a = parseArgs(cmd, rest, [], ['-o']);
      const insns = cbpfToEbpf(loadFilter(await readInput(a.file!, io), a.file!, bigEndian));
      const out = a.values.get('-o');
      if (out !== undefined) writeFileSync(out, encode(insns));
      else io.stdout(`${formatProgram(insns)}\n`);
      return 0;
    }
    case 'run': {
      const a = parseArgs(cmd, rest, ['-v'], ['--pcap', '--dialect']);
      const pcap = a.values.get('--pcap');
      if (pcap === undefined) throw new UsageError('cbpf run: --pcap CAPTURE is required');
      const dialect = a.values.get('--dialect') ?? 'libpcap';
      if (dialect !== 'libpcap' && dialect !== 'linux') throw new UsageError(`cbpf run: --dialect takes libpcap or linux, not '${dialect}'`);
      const prog = loadFilter(await readInput(a.file!, io), a.file!, bigEndian);
      checkClassic(prog);
      let total = 0;
      let matched = 0;
      const linkTypes = new Set<number>();
      for await (const p of readCapture(createReadStream(pcap))) {
        total++;
        linkTypes.add(p.linkType);
        const snap = runCbpf(prog, p.data, { wirelen: p.wirelen, dialect });
        if (snap !== 0) {
          matched++;
          if (a.flags.has('-v')) io.stdout(`packet ${p.number}: accepted, snap length ${snap}\n`);
        }
      }
      const lt = [...linkTypes].map(linkTypeName).join(', ');
      io.stdout(`${matched} of ${total} packets matched${lt ? ` (link type ${lt})` : ''}\n`);
      return 0;
    }
  }
  return 2;
}
