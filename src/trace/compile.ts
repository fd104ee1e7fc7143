/**
 * The compiler driver: source text to a `CompiledScript` (maps, programs,
 * event formats). Pure: everything it needs to know about the system comes
 * through `CompileOptions`.
 */
import type { Expr, MapExpr, Probe, Script, Stmt } from './ast.js';
import { ProbeGen, type GenShared } from './codegen.js';
import type { CompiledScript, TraceMap, TraceProgram } from './compiled.js';
import { ScriptError } from './errors.js';
import { parse, stripPreprocessor } from './parser.js';
import { expandAttachPoint, type ProbeCatalog, type ProbeSpec } from './probes.js';
import { parseTracepointFormat, type TracepointFormat } from './tracepoint-format.js';
import { Typer, type ProbeContext } from './typecheck.js';
import { align8, sizeOf, type TType } from './types.js';
import type { ProgType } from '../kernel/constants.js';
import type { Btf } from '../btf/index.js';
import { findFunction, type FunctionInfo } from './btf-types.js';

export interface CompileOptions {
  readonly catalog: ProbeCatalog;
  /** tracefs format text of a tracepoint, or undefined when unknown. */
  readonly tracepointFormat?: (category: string, name: string) => string | undefined;
  /** $1, $2...: positional parameters. */
  readonly positional?: readonly string[];
  readonly unsafe?: boolean;
  /** CLOCK_MONOTONIC nanoseconds at start, for `elapsed`. */
  readonly startNs?: bigint;
  /** Process id of the -c command, for `cpid`. */
  readonly cpid?: number;
  /** Kernel symbol address, for kaddr(). */
  readonly kaddr?: (name: string) => bigint | undefined;
  /** The kernel's BTF (vmlinux), for struct members and fentry/fexit; called only when needed. */
  readonly btf?: () => Btf | undefined;
}

const PROG_TYPES: Record<ProbeSpec['provider'], ProgType> = {
  BEGIN: 'raw_tracepoint', END: 'raw_tracepoint', tracepoint: 'tracepoint', rawtracepoint: 'raw_tracepoint',
  kprobe: 'kprobe', kretprobe: 'kprobe', uprobe: 'kprobe', uretprobe: 'kprobe', fentry: 'tracing', fexit: 'tracing',
  profile: 'perf_event', interval: 'perf_event', software: 'perf_event', hardware: 'perf_event',
};

/** Does the block read anything that differs between the attach points it is shared by? */
function usesPerProbe(p: Probe): { args: boolean; perProbe: boolean } {
  let args = false, perProbe = false;
  const ex = (e: Expr | undefined): void => {
    if (!e) return;
    switch (e.kind) {
      case 'builtin':
        if (e.name === 'args') args = true;
        if (['probe', 'func', 'args'].includes(e.name) || /^s?arg[0-9]+$/.test(e.name) || e.name === 'retval') perProbe = true;
        return;
      case 'map': e.keys.forEach(ex); return;
      case 'call': e.args.forEach(ex); return;
      case 'binary': ex(e.left); ex(e.right); return;
      case 'unary': ex(e.operand); return;
      case 'ternary': ex(e.cond); ex(e.then); ex(e.else); return;
      case 'field': ex(e.base); return;
      case 'index': ex(e.base); ex(e.index); return;
      case 'cast': ex(e.expr); return;
      case 'tuple': e.elems.forEach(ex); return;
      case 'incdec': ex(e.target); return;
      default: return;
    }
  };
  const st = (s: Stmt): void => {
    switch (s.kind) {
      case 'expr': ex(s.expr); return;
      case 'assign': ex(s.target); ex(s.value); return;
      case 'if': ex(s.cond); s.then.forEach(st); s.else?.forEach(st); return;
      case 'unroll': s.body.forEach(st); return;
      case 'while': ex(s.cond); s.body.forEach(st); return;
      case 'for': s.body.forEach(st); return;
      default: return;
    }
  };
  ex(p.predicate);
  p.body.forEach(st);
  return { args, perProbe };
}

interface Unit {
  readonly probe: Probe;
  readonly contexts: ProbeContext[];
  readonly perProbe: boolean;
  vars: Map<string, TType>;
}

export function compile(source: string, opts: CompileOptions): CompiledScript {
  const script = parse(stripPreprocessor(source));
  let btfCache: Btf | undefined | null = null;
  const btfOnce = (): Btf | undefined => {
    if (btfCache === null) btfCache = opts.btf?.();
    return btfCache;
  };
  const probeNames: string[] = [];
  const formats = new Map<string, TracepointFormat>();
  const units: Unit[] = [];
  for (const probe of script.probes) {
    const { args, perProbe } = usesPerProbe(probe);
    const contexts: ProbeContext[] = [];
    for (const ap of probe.attachPoints) {
      for (const spec of expandAttachPoint(ap.text, ap.loc, opts.catalog)) {
        let fmt: TracepointFormat | undefined;
        if (args && spec.provider === 'tracepoint') {
          const key = `${spec.target}:${spec.func}`;
          fmt = formats.get(key);
          if (!fmt) {
            const text = opts.tracepointFormat?.(spec.target, spec.func);
            if (text === undefined) throw new ScriptError(`Could not read the format of tracepoint ${key}`, ap.loc);
            fmt = parseTracepointFormat(text);
            formats.set(key, fmt);
          }
        }
        let fn: FunctionInfo | undefined;
        if (spec.provider === 'fentry' || spec.provider === 'fexit') {
          const btf = btfOnce();
          if (!btf) throw new ScriptError(`${spec.provider} probes need kernel BTF (/sys/kernel/btf/vmlinux)`, ap.loc);
          fn = findFunction(btf, spec.func);
          if (!fn) throw new ScriptError(`No BTF found for ${spec.func}`, ap.loc);
        }
        contexts.push({ spec, args: fmt, probeId: probeNames.length, ...(fn ? { fn } : {}) });
        probeNames.push(spec.name);
      }
    }
    units.push({ probe, contexts, perProbe, vars: new Map() });
  }

  const typer = new Typer(opts.positional ?? [], opts.unsafe ?? false, btfOnce);
  // Map types come from every assignment in the script: iterate to a fixed point, then check for real.
  for (let pass = 0; pass < 3; pass++) {
    typer.final = pass === 2;
    for (const u of units) {
      const vars = new Map<string, TType>();
      for (const ctx of u.perProbe ? u.contexts : u.contexts.slice(0, 1)) typer.probe(u.probe, ctx, vars);
      u.vars = vars;
    }
  }

  const names = [...typer.maps.keys()].sort();
  const readInProbes = mapsReadInProbes(script);
  const maps: TraceMap[] = names.map((name) => {
    const d = typer.maps.get(name)!;
    if (d.value === undefined) throw new ScriptError(`Undefined map: ${name}`, d.firstLoc);
    const keys = d.keys ?? [];
    const bucket = d.value.kind === 'agg' && (d.value.agg === 'hist' || d.value.agg === 'lhist') ? 8 : 0;
    const keySize = keys.length ? keys.reduce((n, k) => n + align8(sizeOf(k)), 0) + bucket : 8 + bucket;
    const additive = d.value.kind === 'agg' && ADDITIVE.has(d.value.agg);
    return { name, keys, value: d.value, keySize, valueSize: align8(sizeOf(d.value)), perCpu: additive && !readInProbes.has(name) };
  });
  const shared: GenShared = {
    typer,
    maps,
    mapIndex: new Map(names.map((n, i) => [n, i])),
    ringbuf: maps.length,
    firstStackMap: maps.length + 4,
    stacks: [],
    exitFlag: callsFunction(script, 'exit') ? maps.length + 2 : undefined,
    join: callsFunction(script, 'join') ? maps.length + 3 : undefined,
    joinSeparators: [],
    formats: [],
    timeFormats: [],
    printValues: [],
    mapPrints: [],
    positional: opts.positional ?? [],
    startNs: opts.startNs ?? 0n,
    kaddr: opts.kaddr ?? (() => undefined),
    cpid: opts.cpid,
  };

  const programs: TraceProgram[] = [];
  for (const u of units) {
    const split = u.perProbe || u.contexts.some((c) => c.fn !== undefined);
    const groups = split ? u.contexts.map((c) => [c]) : [u.contexts];
    for (const group of groups) {
      const ctx = group[0];
      const { insns, slotLocs, functions } = new ProbeGen(shared, ctx, u.vars).generate(u.probe);
      const spec = ctx.spec;
      programs.push({
        probes: group.map((c) => c.spec),
        progType: PROG_TYPES[spec.provider],
        insns,
        slotLocs,
        functions,
        name: (spec.provider === 'BEGIN' || spec.provider === 'END' ? spec.provider : spec.func || spec.provider).replace(/[^A-Za-z0-9_]/g, '_').slice(0, 15),
        ...(ctx.fn ? { attach: { btfId: ctx.fn.btfId, expectedAttachType: spec.provider === 'fentry' ? 24 : 25 } } : {}),
      });
    }
  }
  return {
    maps,
    internal: { ringbuf: shared.ringbuf, stacks: shared.stacks, exitFlag: shared.exitFlag, join: shared.join },
    joinSeparators: shared.joinSeparators,
    programs,
    formats: shared.formats,
    timeFormats: shared.timeFormats,
    printValues: shared.printValues,
    mapPrints: shared.mapPrints,
    warnings: typer.warnings,
    probeNames,
    attachCount: probeNames.length,
  };
}

/** Aggregations whose per-CPU values combine by addition. */
const ADDITIVE = new Set(['count', 'sum', 'hist', 'lhist']);
/** Calls that take a whole map and act on it from user space. */
const WHOLE_MAP_CALLS = new Set(['print', 'clear', 'zero']);

/**
 * Maps whose values some probe uses other than by aggregating into them or
 * handing them whole to print/clear/zero: reads, ++, delete, for loops.
 * Those stay shared maps, so a probe sees the total, not one CPU's share.
 */
function mapsReadInProbes(script: Script): Set<string> {
  const read = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const n = node as { kind?: unknown };
    if (n.kind === 'assign') {
      const a = node as Extract<Stmt, { kind: 'assign' }>;
      if (a.target.kind === 'map' && a.value.kind === 'call' && ADDITIVE.has(a.value.name)) {
        visit(a.target.keys);
        visit(a.value.args);
        return;
      }
    }
    if (n.kind === 'call') {
      const c = node as Extract<Expr, { kind: 'call' }>;
      if (WHOLE_MAP_CALLS.has(c.name) && c.args[0]?.kind === 'map' && c.args[0].keys.length === 0) {
        visit(c.args.slice(1));
        return;
      }
    }
    if (n.kind === 'map') read.add((node as MapExpr).name);
    for (const [k, v] of Object.entries(node)) if (k !== 'loc') visit(v);
  };
  visit(script.probes);
  return read;
}

/** True when some probe calls the function `name`. */
function callsFunction(script: Script, name: string): boolean {
  const visit = (node: unknown): boolean => {
    if (Array.isArray(node)) return node.some(visit);
    if (node === null || typeof node !== 'object') return false;
    if ((node as { kind?: unknown }).kind === 'call' && (node as { name?: unknown }).name === name) return true;
    return Object.entries(node).some(([k, v]) => k !== 'loc' && visit(v));
  };
  return visit(script.probes);
}
