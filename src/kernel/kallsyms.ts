/**
 * Kernel symbol addresses from /proc/kallsyms, read once per process: what
 * an untyped `.ksyms` extern (`extern const void x __ksym;`) resolves to,
 * as libbpf resolves it (typed ones go through the kernel's BTF instead).
 */
import { readFileSync } from 'node:fs';
import { NotSupportedError } from '../errors/index.js';

let symbols: Map<string, bigint> | undefined;

function parse(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    // "ffffffff81000000 T _stext" or "... t name\t[module]"
    const m = /^([0-9a-fA-F]+) \S (\S+)/.exec(line);
    if (m && !out.has(m[2])) out.set(m[2], BigInt(`0x${m[1]}`));
  }
  return out;
}

/** The address of a kernel symbol, or undefined when the kernel does not list it. */
export function kernelSymbolAddress(name: string): bigint | undefined {
  if (!symbols) {
    let text: string;
    try {
      text = readFileSync('/proc/kallsyms', 'utf8');
    } catch (e) {
      throw new NotSupportedError('kernel symbol addresses', '/proc/kallsyms cannot be read', { cause: e });
    }
    symbols = parse(text);
  }
  const a = symbols.get(name);
  // kptr_restrict shows every address as 0 to the unprivileged: no address is known.
  if (a === 0n) throw new NotSupportedError(`address of kernel symbol ${name}`, '/proc/kallsyms hides addresses (kptr_restrict; run as root)');
  return a;
}
