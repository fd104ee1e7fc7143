/**
 * User-space addresses to `function+offset (module)`, as bpftrace 0.17
 * (through bcc) resolves usym() and ustack frames: find the file mapped at
 * the address in /proc/PID/maps, turn the address into the file's own
 * virtual address (its PT_LOAD segments), and look it up in the symbols
 * (.symtab and .dynsym) of its detached debug file (/usr/lib/debug, by
 * build id or .gnu_debuglink) and of the file itself, ordered as bcc
 * orders them, so that aliases resolve to the names bpftrace prints. A
 * process that has exited resolves nothing, as with bpftrace, whose
 * lookups go through the live process. Everything the system provides comes through a host, so
 * this runs anywhere; work happens only when something is printed, and is
 * cached per process (its mappings) and per file (its symbols).
 */
import { readNativeLayout, readRawSymbols, type NativeLayout, type RawSymbol } from './native-elf.js';
import { stdSort } from './std-sort.js';

/** What the symbolizer needs from the system (a Node host reads /proc and files). */
export interface UserSymbolHost {
  /** The target of /proc/PID/exe, or undefined once the process is gone (a zombie included). */
  exe(pid: number): string | undefined;
  /** The text of /proc/PID/maps, or undefined. */
  maps(pid: number): string | undefined;
  /** A file's bytes, or undefined when it cannot be read. */
  readFile(path: string): Uint8Array | undefined;
}

export interface UserSymbol {
  readonly name: string;
  /** Bytes from the symbol's start. */
  readonly offset: bigint;
  /** The file as /proc/PID/maps names it. */
  readonly module: string;
}

/** A file-backed mapping of a process. */
export interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  /** File offset of `start`. */
  readonly offset: bigint;
  readonly path: string;
}

/** File-backed mappings of a /proc/PID/maps text (anonymous and [special] ones left out). */
export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+\S+\s+([0-9a-f]+)\s+\S+\s+\d+\s+(\/.*)$/.exec(line);
    if (!m) continue;
    out.push({ start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), offset: BigInt(`0x${m[3]}`), path: m[4] });
  }
  return out;
}

/** A file's symbols sorted for lookups by address, as bcc (bpftrace 0.17's resolver) has them. */
class SymbolTable {
  private readonly syms: RawSymbol[];

  /** `symbols`: the debug file's first, then the binary's own (bcc's order, which decides aliases). */
  constructor(symbols: readonly RawSymbol[]) {
    // Compare doubles first (BigInt comparisons are slow); rounding keeps their order, exact values break ties.
    const keyed = symbols.map((s) => ({ s, k: Number(s.value) }));
    stdSort(keyed, (a, b) => a.k < b.k || (a.k === b.k && a.s.value < b.s.value));
    this.syms = keyed.map((x) => x.s);
  }

  /**
   * The symbol containing `addr`: the last of those starting at or below
   * it, walking back over nested ones while they may still enclose it.
   */
  find(addr: bigint): RawSymbol | undefined {
    let lo = 0, hi = this.syms.length - 1, i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.syms[mid].value <= addr) { i = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (i < 0) return undefined;
    const limit = this.syms[i].value;
    for (; i >= 0; i--) {
      const s = this.syms[i];
      if (addr < s.value + s.size) return s;
      if (limit > s.value + s.size) break;
    }
    return undefined;
  }
}

interface FileSymbols {
  readonly layout: NativeLayout;
  readonly table: SymbolTable;
}

interface ProcessView {
  readonly exe: string;
  mappings: Mapping[];
}

const DEBUG_ROOT = '/usr/lib/debug';

export class UserSymbolizer {
  private readonly processes = new Map<number, ProcessView>();
  private readonly files = new Map<string, FileSymbols | null>();

  constructor(private readonly host: UserSymbolHost) {}

  /** One address of a process; undefined when it cannot be named. */
  resolve(pid: number, addr: bigint): UserSymbol | undefined {
    return this.resolveAll(pid, [addr])[0];
  }

  /** Several addresses of one process (a stack), checking once that the process still lives. */
  resolveAll(pid: number, addrs: readonly bigint[]): (UserSymbol | undefined)[] {
    const view = this.process(pid);
    if (!view) return addrs.map(() => undefined);
    let reread = false;
    return addrs.map((addr) => {
      let m = view.mappings.find((x) => addr >= x.start && addr < x.end);
      if (!m && !reread) {
        // Mapped since we last looked (dlopen): read the maps once more.
        reread = true;
        view.mappings = parseMaps(this.host.maps(pid) ?? '');
        m = view.mappings.find((x) => addr >= x.start && addr < x.end);
      }
      if (!m) return undefined;
      const file = this.file(m.path);
      if (!file) return undefined;
      const vaddr = fileOffsetToAddress(file.layout, addr - m.start + m.offset);
      if (vaddr === undefined) return undefined;
      const s = file.table.find(vaddr);
      return s ? { name: s.name, offset: vaddr - s.value, module: m.path } : undefined;
    });
  }

  private process(pid: number): ProcessView | undefined {
    if (pid <= 0) return undefined;
    const exe = this.host.exe(pid);
    if (exe === undefined) return undefined;
    const cached = this.processes.get(pid);
    // A new exe under the same pid: an exec, or the pid reused.
    if (cached && cached.exe === exe) return cached;
    const view = { exe, mappings: parseMaps(this.host.maps(pid) ?? '') };
    this.processes.set(pid, view);
    return view;
  }

  private file(path: string): FileSymbols | undefined {
    const cached = this.files.get(path);
    if (cached !== undefined) return cached ?? undefined;
    let result: FileSymbols | null = null;
    try {
      const bytes = this.host.readFile(path);
      if (bytes) {
        const layout = readNativeLayout(bytes);
        let symbols: RawSymbol[] = [];
        const debug = this.debugFile(path, layout);
        if (debug) {
          try {
            symbols = readRawSymbols(debug.bytes);
          } catch {
            // A broken debug file: the binary's own symbols still serve.
          }
        }
        symbols.push(...readRawSymbols(bytes));
        result = { layout, table: new SymbolTable(symbols) };
      }
    } catch {
      // Not an ELF file we can read: its addresses print in hex.
    }
    this.files.set(path, result);
    return result ?? undefined;
  }

  /** The detached debug file of a binary, where Debian's -dbg packages put it. */
  private debugFile(path: string, layout: NativeLayout): { path: string; bytes: Uint8Array } | undefined {
    const candidates: string[] = [];
    if (layout.buildId && layout.buildId.length > 1) {
      const hex = Array.from(layout.buildId, (x) => x.toString(16).padStart(2, '0')).join('');
      candidates.push(`${DEBUG_ROOT}/.build-id/${hex.slice(0, 2)}/${hex.slice(2)}.debug`);
    }
    if (layout.debugLink) {
      const dir = path.slice(0, path.lastIndexOf('/'));
      candidates.push(`${dir}/${layout.debugLink}`, `${dir}/.debug/${layout.debugLink}`, `${DEBUG_ROOT}${dir}/${layout.debugLink}`);
    }
    for (const c of candidates) {
      if (c === path) continue;
      const bytes = this.host.readFile(c);
      if (bytes) return { path: c, bytes };
    }
    return undefined;
  }
}

/** The virtual address (as symbols give it) of a file offset, through the PT_LOAD segment holding it. */
function fileOffsetToAddress(layout: NativeLayout, offset: bigint): bigint | undefined {
  for (const seg of layout.segments) {
    if (offset >= seg.offset && offset < seg.offset + seg.fileSize) return offset - seg.offset + seg.vaddr;
  }
  return undefined;
}

/** An address as bpftrace prints an unresolved one (C++'s `(void *)addr`: 0 for null). */
export function hexPointer(addr: bigint): string {
  return addr === 0n ? '0' : `0x${addr.toString(16)}`;
}
