/**
 * Attach points: parsing `provider:target:func` text, provider aliases, and
 * wildcard expansion against what the system offers (a `ProbeCatalog`,
 * backed by tracefs on Linux or by a recorded list elsewhere).
 */
import { ScriptError, type Loc } from './errors.js';

export type Provider =
  | 'BEGIN' | 'END' | 'tracepoint' | 'rawtracepoint' | 'kprobe' | 'kretprobe' | 'uprobe' | 'uretprobe'
  | 'fentry' | 'fexit' | 'profile' | 'interval' | 'software' | 'hardware';

const ALIASES: Record<string, Provider> = {
  BEGIN: 'BEGIN', END: 'END', begin: 'BEGIN', end: 'END',
  tracepoint: 'tracepoint', t: 'tracepoint', rawtracepoint: 'rawtracepoint', rt: 'rawtracepoint',
  kprobe: 'kprobe', k: 'kprobe', kretprobe: 'kretprobe', kr: 'kretprobe',
  uprobe: 'uprobe', u: 'uprobe', uretprobe: 'uretprobe', ur: 'uretprobe',
  fentry: 'fentry', f: 'fentry', kfunc: 'fentry', fexit: 'fexit', fr: 'fexit', kretfunc: 'fexit',
  profile: 'profile', p: 'profile', interval: 'interval', i: 'interval',
  software: 'software', s: 'software', hardware: 'hardware', h: 'hardware',
};

/** One concrete attach point after expansion. */
export interface ProbeSpec {
  readonly provider: Provider;
  /** Tracepoint category, uprobe binary, profile/interval unit, software event name. */
  readonly target: string;
  /** Tracepoint or function name; period or frequency for timers. */
  readonly func: string;
  /** Canonical name as bpftrace prints it for `probe`: "tracepoint:syscalls:sys_enter_read". */
  readonly name: string;
  readonly loc: Loc;
}

/** What exists on the system, for wildcard expansion and `-l`. */
export interface ProbeCatalog {
  /** "category:name" of every tracepoint. */
  tracepoints(): readonly string[];
  /** Kernel functions usable by fentry/kprobe (may be empty). */
  kernelFunctions?(): readonly string[];
  /** Function symbols of a user binary, for uprobe wildcards (undefined: unreadable). */
  userFunctions?(binary: string): readonly string[] | undefined;
}

export function wildcardToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export function hasWildcard(s: string): boolean {
  return /[*?]/.test(s);
}

export function parseAttachPoint(text: string, loc: Loc): { provider: Provider; parts: string[] } {
  const parts = text.split(':');
  const head = parts.shift()!;
  const provider = ALIASES[head];
  if (!provider) throw new ScriptError(`Invalid probe type: ${head}`, loc);
  return { provider, parts };
}

const SOFTWARE = ['cpu-clock', 'cpu', 'task-clock', 'page-faults', 'faults', 'context-switches', 'cs', 'cpu-migrations', 'migrations', 'minor-faults', 'major-faults', 'alignment-faults', 'emulation-faults', 'dummy', 'bpf-output'];
const HARDWARE = ['cpu-cycles', 'cycles', 'instructions', 'cache-references', 'cache-misses', 'branch-instructions', 'branches', 'branch-misses', 'bus-cycles', 'frontend-stalls', 'backend-stalls', 'ref-cycles'];

/** Expand one attach point into concrete probes (wildcards resolved through the catalog). */
export function expandAttachPoint(text: string, loc: Loc, catalog: ProbeCatalog): ProbeSpec[] {
  const { provider, parts } = parseAttachPoint(text, loc);
  const need = (n: number, usage: string) => {
    if (parts.length !== n) throw new ScriptError(`${provider} probe type requires ${usage}`, loc);
  };
  switch (provider) {
    case 'BEGIN': case 'END':
      if (parts.length) throw new ScriptError(`${provider} probe type takes no arguments`, loc);
      return [{ provider, target: '', func: '', name: provider, loc }];
    case 'tracepoint': {
      need(2, '2 arguments');
      const [cat, name] = parts;
      if (!hasWildcard(cat) && !hasWildcard(name)) {
        const all = catalog.tracepoints();
        if (all.length && !all.includes(`${cat}:${name}`)) throw new ScriptError(`tracepoint not found: ${cat}:${name}`, loc);
        return [{ provider, target: cat, func: name, name: `tracepoint:${cat}:${name}`, loc }];
      }
      const re = wildcardToRegExp(`${cat}:${name}`);
      const hits = catalog.tracepoints().filter((t) => re.test(t)).sort();
      if (!hits.length) throw new ScriptError(`No probes matched: tracepoint:${cat}:${name}`, loc);
      return hits.map((t) => {
        const [c, n] = t.split(':');
        return { provider, target: c, func: n, name: `tracepoint:${t}`, loc };
      });
    }
    case 'rawtracepoint':
      need(1, '1 argument');
      return [{ provider, target: '', func: parts[0], name: `rawtracepoint:${parts[0]}`, loc }];
    case 'kprobe': case 'kretprobe': case 'fentry': case 'fexit': {
      if (parts.length === 2) parts.shift(); // module:function
      need(1, '1 argument');
      const fn = parts[0];
      if (hasWildcard(fn)) {
        const re = wildcardToRegExp(fn);
        const hits = (catalog.kernelFunctions?.() ?? []).filter((f) => re.test(f)).sort();
        if (!hits.length) throw new ScriptError(`No probes matched: ${provider}:${fn}`, loc);
        return hits.map((f) => ({ provider, target: '', func: f, name: `${provider}:${f}`, loc }));
      }
      return [{ provider, target: '', func: fn, name: `${provider}:${fn}`, loc }];
    }
    case 'uprobe': case 'uretprobe': {
      if (parts.length < 2) throw new ScriptError(`${provider} probe type requires 2 arguments`, loc);
      const func = parts.pop()!;
      const target = parts.join(':');
      if (hasWildcard(func)) {
        const all = catalog.userFunctions?.(target);
        if (all === undefined) throw new ScriptError(`Could not read the symbols of ${target}`, loc);
        const re = wildcardToRegExp(func);
        const hits = [...new Set(all.filter((f) => re.test(f)))].sort();
        if (!hits.length) throw new ScriptError(`No probes matched: ${provider}:${target}:${func}`, loc);
        return hits.map((f) => ({ provider, target, func: f, name: `${provider}:${target}:${f}`, loc }));
      }
      return [{ provider, target, func, name: `${provider}:${target}:${func}`, loc }];
    }
    case 'profile': case 'interval': {
      if (parts.length === 1) parts.unshift(provider === 'profile' ? 'hz' : 's');
      need(2, '2 arguments');
      const [unit, n] = parts;
      const units = provider === 'profile' ? ['hz', 's', 'ms', 'us'] : ['s', 'ms', 'us', 'hz'];
      if (!units.includes(unit)) throw new ScriptError(`${unit} is not an accepted unit`, loc);
      if (!/^[0-9]+$/.test(n) || Number(n) === 0) throw new ScriptError(`${provider} rate must be a positive integer`, loc);
      return [{ provider, target: unit, func: n, name: `${provider}:${unit}:${n}`, loc }];
    }
    case 'software': case 'hardware': {
      if (parts.length === 1) parts.push('');
      need(2, '1 or 2 arguments');
      const [ev, count] = parts;
      const known = provider === 'software' ? SOFTWARE : HARDWARE;
      if (!known.includes(ev)) throw new ScriptError(`${ev} is not a ${provider} probe`, loc);
      return [{ provider, target: ev, func: count, name: `${provider}:${ev}:${count}`, loc }];
    }
  }
}
