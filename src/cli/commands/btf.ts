/**
 * `bpfkit btf dump FILE [--format c|raw|json] [--base FILE]`: the BTF of an
 * ELF object or a raw BTF file (/sys/kernel/btf/vmlinux, or a module's
 * split BTF, which gets vmlinux as its base as bpftool does). The raw and
 * json formats are bpftool's `format raw` and `-j` output.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Btf, dumpCHeader, formatRaw, formatRawJson, stringifyBtfJson } from '../../btf/index.js';
import { isElf, readElf, readObjectBtf, ElfError } from '../../elf/index.js';
import { UsageError, type CommandIo } from '../io.js';

const USAGE = 'usage: bpfkit btf dump FILE [--format c|raw|json] [--base BASE_BTF]';

function load(file: string, baseFile: string | undefined): Btf {
  const bytes = new Uint8Array(readFileSync(file));
  if (isElf(bytes)) {
    const { btf } = readObjectBtf(readElf(bytes));
    if (!btf) throw new ElfError('the object has no .BTF section', 0);
    return btf;
  }
  // Module BTF under /sys/kernel/btf is split BTF on top of vmlinux.
  let base = baseFile;
  if (!base && dirname(file) === '/sys/kernel/btf' && basename(file) !== 'vmlinux' && existsSync(join(dirname(file), 'vmlinux'))) base = join(dirname(file), 'vmlinux');
  return Btf.parse(bytes, base ? Btf.parse(new Uint8Array(readFileSync(base))) : undefined);
}

export default async function btfCommand(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === undefined) {
    io.stdout(USAGE + '\n');
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'dump') throw new UsageError(`btf: unknown subcommand '${sub}'\n${USAGE}`);
  let format = 'raw';
  let base: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--format' || a === '-f') format = rest[++i] ?? '';
    else if (a.startsWith('--format=')) format = a.slice(9);
    else if (a === '--base' || a === '-B') base = rest[++i];
    else if (a === '--json' || a === '-j') format = 'json';
    else if (a === 'file') continue; // bpftool spelling: btf dump file FILE
    else if (a === 'format') format = rest[++i] ?? '';
    else if (a.startsWith('-')) throw new UsageError(`btf dump: unknown option '${a}'\n${USAGE}`);
    else files.push(a);
  }
  if (files.length !== 1) throw new UsageError(USAGE);
  if (format !== 'c' && format !== 'raw' && format !== 'json') throw new UsageError(`btf dump: unknown format '${format}' (c, raw or json)`);
  const btf = load(files[0], base);
  if (format === 'raw') io.stdout(formatRaw(btf));
  else if (format === 'c') io.stdout(dumpCHeader(btf));
  else io.stdout(stringifyBtfJson(formatRawJson(btf)) + '\n');
  return 0;
}
