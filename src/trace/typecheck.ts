/**
 * Semantic analysis: the type of every expression, the key and value types
 * of every map (inferred from all assignments in the script), and the
 * checks bpftrace makes before generating code, with its messages.
 */
import { PT_REGS_OFFSETS, REG_PROVIDERS } from './registers.js';
import type { Expr, Probe, Stmt } from './ast.js';
import { ScriptError, type Loc } from './errors.js';
import { conversions, FormatError, parseFormat } from './printf-format.js';
import type { ProbeSpec } from './probes.js';
import type { TracepointFormat } from './tracepoint-format.js';
import type { Btf } from '../btf/index.js';
import { findMember, type FunctionInfo } from './btf-types.js';
import { compatible, NONE, S64, typeName, U64, unify, type AggKind, type TType } from './types.js';

/** What one generated program knows about the probe it runs in. */
export interface ProbeContext {
  readonly spec: ProbeSpec;
  readonly args: TracepointFormat | undefined;
  readonly probeId: number;
  /** fentry/fexit: the traced function's signature from BTF. */
  readonly fn?: FunctionInfo;
}

export interface MapDecl {
  keys: TType[] | undefined;
  value: TType | undefined;
  readonly firstLoc: Loc;
}

const AGGS = new Set<string>(['count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'lhist']);
const INT_BUILTINS = new Set(['pid', 'tid', 'uid', 'gid', 'cpu', 'nsecs', 'elapsed', 'cgroup', 'cpid', 'rand', 'numaid', 'jiffies']);
export const STR_DEFAULT = 64;

const CAST_INTS: Record<string, TType> = {
  int8: { kind: 'int', bits: 8, signed: true }, uint8: { kind: 'int', bits: 8, signed: false },
  int16: { kind: 'int', bits: 16, signed: true }, uint16: { kind: 'int', bits: 16, signed: false },
  int32: { kind: 'int', bits: 32, signed: true }, uint32: { kind: 'int', bits: 32, signed: false },
  int64: { kind: 'int', bits: 64, signed: true }, uint64: { kind: 'int', bits: 64, signed: false },
  int: { kind: 'int', bits: 32, signed: true }, char: { kind: 'int', bits: 8, signed: true },
  short: { kind: 'int', bits: 16, signed: true }, long: { kind: 'int', bits: 64, signed: true },
  unsigned: { kind: 'int', bits: 32, signed: false }, bool: { kind: 'int', bits: 8, signed: false },
  u8: { kind: 'int', bits: 8, signed: false }, u16: { kind: 'int', bits: 16, signed: false },
  u32: { kind: 'int', bits: 32, signed: false }, u64: { kind: 'int', bits: 64, signed: false },
  s8: { kind: 'int', bits: 8, signed: true }, s16: { kind: 'int', bits: 16, signed: true },
  s32: { kind: 'int', bits: 32, signed: true }, s64: { kind: 'int', bits: 64, signed: true },
};

export function castType(name: string, pointer: number): TType | undefined {
  if (pointer > 0) return { kind: 'ptr', to: name + '*'.repeat(pointer - 1), user: false };
  return CAST_INTS[name];
}

export function isAggCall(e: Expr): e is Extract<Expr, { kind: 'call' }> {
  return e.kind === 'call' && AGGS.has(e.name);
}

const FUNCTIONS = new Set([
  'printf', 'print', 'time', 'exit', 'delete', 'clear', 'zero', 'str', 'buf', 'ksym', 'usym', 'kaddr', 'uaddr', 'ntop',
  'kstack', 'ustack', 'join', 'strftime', 'signal', 'system', 'cat', 'reg', 'sizeof', 'cgroupid', 'override', 'strncmp', 'macaddr', 'path',
  ...AGGS,
]);
const UNSAFE = new Set(['system', 'signal', 'override']);

export class Typer {
  readonly maps = new Map<string, MapDecl>();
  /** The loop variable's type of each for loop. */
  readonly forTypes = new Map<Stmt, TType>();
  /** Warnings of the final pass. */
  readonly warnings: { message: string; loc: Loc }[] = [];
  /** Set once the map types are final: a map read before it is known is then an error. */
  final = false;

  constructor(
    private readonly positional: readonly string[],
    private readonly unsafe: boolean,
    /** Kernel BTF, loaded on first use (struct member access). */
    readonly btf: () => Btf | undefined = () => undefined,
  ) {}

  /** Walk a probe recording map and variable types; `vars` is the probe's scratch scope. */
  probe(p: Probe, ctx: ProbeContext, vars: Map<string, TType>): void {
    if (p.predicate) this.typeOf(p.predicate, ctx, vars);
    this.stmts(p.body, ctx, vars);
  }

  private stmts(ss: readonly Stmt[], ctx: ProbeContext, vars: Map<string, TType>): void {
    for (const s of ss) this.stmt(s, ctx, vars);
  }

  private stmt(s: Stmt, ctx: ProbeContext, vars: Map<string, TType>): void {
    switch (s.kind) {
      case 'expr': {
        const t = this.typeOf(s.expr, ctx, vars);
        if (isAggCall(s.expr)) throw new ScriptError(`${s.expr.name}() should be directly assigned to a map`, s.expr.loc);
        void t;
        return;
      }
      case 'assign': {
        const vt = this.typeOf(s.value, ctx, vars);
        if (s.target.kind === 'var') {
          if (s.value.kind === 'call' && s.value.name === 'join') throw new ScriptError('join() should not be used in an assignment or as a map key', s.value.loc);
          if (isAggCall(s.value)) throw new ScriptError(`${s.value.name}() should be directly assigned to a map`, s.value.loc);
          if (vt.kind === 'none') throw new ScriptError(`Value 'none' cannot be assigned to a scratch variable.`, s.loc);
          const old = vars.get(s.target.name);
          if (old && !compatible(old, vt)) {
            throw new ScriptError(`Type mismatch for ${s.target.name}: trying to assign value of type '${typeName(vt)}' when variable already contains a value of type '${typeName(old)}'`, s.opLoc);
          }
          vars.set(s.target.name, old ? unify(old, vt) : vt);
          return;
        }
        const keys = s.target.keys.map((k) => this.keyType(k, ctx, vars));
        this.declareMap(s.target.name, keys, s.target.loc);
        const decl = this.maps.get(s.target.name)!;
        if (s.value.kind === 'call' && s.value.name === 'join') throw new ScriptError('join() should not be used in an assignment or as a map key', s.value.loc);
        if (vt.kind === 'none') throw new ScriptError(`Value 'none' cannot be assigned to a map.`, s.loc);
        if (decl.value === undefined) decl.value = vt;
        else if (!compatible(decl.value, vt)) {
          // bpftrace 0.17 leaves the last quote out of this message.
          throw new ScriptError(`Type mismatch for ${s.target.name}: trying to assign value of type '${typeName(vt)}' when map already contains a value of type '${typeName(decl.value)}`, s.target.loc);
        } else decl.value = unify(decl.value, vt);
        return;
      }
      case 'if':
        this.typeOf(s.cond, ctx, vars);
        this.stmts(s.then, ctx, vars);
        if (s.else) this.stmts(s.else, ctx, vars);
        return;
      case 'unroll': this.stmts(s.body, ctx, vars); return;
      case 'while': this.typeOf(s.cond, ctx, vars); this.stmts(s.body, ctx, vars); return;
      case 'for': {
        const decl = this.maps.get(s.map.name);
        if (!decl && this.final) throw new ScriptError(`Undefined map: ${s.map.name}`, s.map.loc);
        const keyT: TType = decl?.keys && decl.keys.length > 1 ? { kind: 'tuple', elems: decl.keys } : decl?.keys?.[0] ?? U64;
        const valT = decl?.value ? this.readType(decl.value) : U64;
        if (decl?.value?.kind === 'agg' && (decl.value.agg === 'hist' || decl.value.agg === 'lhist')) {
          throw new ScriptError(`for loops over ${decl.value.agg}() maps are not supported`, s.map.loc);
        }
        // The loop variable exists in the body only, with this loop's (key, value) type.
        const kv: TType = { kind: 'tuple', elems: [keyT, valT] };
        this.forTypes.set(s, kv);
        const outer = vars.get(s.variable);
        vars.set(s.variable, kv);
        this.stmts(s.body, ctx, vars);
        if (outer) vars.set(s.variable, outer);
        else vars.delete(s.variable);
        return;
      }
      case 'jump': return;
    }
  }

  private keyType(k: Expr, ctx: ProbeContext, vars: Map<string, TType>): TType {
    const t = this.typeOf(k, ctx, vars);
    if (t.kind === 'none' || t.kind === 'agg') throw new ScriptError(`${typeName(t)} cannot be used as a map key`, k.loc);
    // bpftrace keys a non-negative literal as unsigned.
    if (k.kind === 'int' && k.value >= 0n) return U64;
    return t.kind === 'int' ? { kind: 'int', bits: 64, signed: t.signed } : t;
  }

  private declareMap(name: string, keys: TType[], loc: Loc): void {
    const decl = this.maps.get(name);
    if (!decl) {
      this.maps.set(name, { keys, value: undefined, firstLoc: loc });
      return;
    }
    if (decl.keys === undefined) { decl.keys = keys; return; }
    const same = decl.keys.length === keys.length && decl.keys.every((k, i) => compatible(k, keys[i]));
    if (!same) {
      const list = (ks: TType[]) => `[${ks.map(typeName).join(', ')}]`;
      throw new ScriptError(`Argument mismatch for ${name}: trying to access with arguments: ${list(keys)} when map expects arguments: ${list(decl.keys)}`, loc);
    }
    decl.keys = decl.keys.map((k, i) => unify(k, keys[i]));
  }

  /** A map's value as an expression reads it: aggregations read as integers. */
  readType(v: TType): TType {
    if (v.kind === 'agg') return v.agg === 'count' || v.agg === 'hist' || v.agg === 'lhist' ? U64 : v.signed || v.agg === 'avg' || v.agg === 'stats' ? S64 : U64;
    return v;
  }

  typeOf(e: Expr, ctx: ProbeContext, vars: Map<string, TType>): TType {
    switch (e.kind) {
      case 'int': return S64;
      case 'str': return { kind: 'string', size: new TextEncoder().encode(e.value).length + 1 };
      case 'param': {
        const v = this.positional[e.index - 1];
        if (v !== undefined && !/^-?[0-9]+$/.test(v)) return { kind: 'string', size: new TextEncoder().encode(v).length + 1 };
        return S64;
      }
      case 'builtin': return this.builtin(e.name, e.loc, ctx);
      case 'var': {
        const t = vars.get(e.name);
        if (!t) throw new ScriptError(`Undefined or undeclared variable: ${e.name}`, e.loc);
        return t;
      }
      case 'map': {
        const keys = e.keys.map((k) => this.keyType(k, ctx, vars));
        const decl = this.maps.get(e.name);
        if (!decl || decl.value === undefined) {
          if (this.final) throw new ScriptError(`Undefined map: ${e.name}`, e.loc);
          return U64;
        }
        if (keys.length || decl.keys?.length) this.declareMap(e.name, keys, e.loc);
        return this.readType(decl.value);
      }
      case 'call': return this.call(e, ctx, vars);
      case 'binary': {
        const l = this.typeOf(e.left, ctx, vars);
        const r = this.typeOf(e.right, ctx, vars);
        if (l.kind === 'string' || r.kind === 'string') {
          if (l.kind !== r.kind || (e.op !== '==' && e.op !== '!=')) {
            throw new ScriptError(`Type mismatch for '${e.op}': comparing '${typeName(l)}' with '${typeName(r)}'`, e.loc);
          }
          return U64;
        }
        if (!isIntLike(l) || !isIntLike(r)) throw new ScriptError(`Type mismatch for '${e.op}': comparing '${typeName(l)}' with '${typeName(r)}'`, e.loc);
        if (['==', '!=', '<', '<=', '>', '>=', '&&', '||'].includes(e.op)) return U64;
        return isSigned(l) || isSigned(r) ? S64 : U64;
      }
      case 'unary': {
        const t = this.typeOf(e.operand, ctx, vars);
        if (e.op === '*') {
          if (t.kind !== 'ptr' && t.kind !== 'int') throw new ScriptError(`Can not dereference type '${typeName(t)}'`, e.loc);
          return t.kind === 'ptr' ? (castType(t.to, 0) ?? U64) : U64;
        }
        if (e.op === '&') throw new ScriptError(`The address-of operator is not supported`, e.loc);
        if (!isIntLike(t)) throw new ScriptError(`The ${e.op} operator can not be used on expressions of type '${typeName(t)}'`, e.loc);
        return e.op === '-' ? S64 : e.op === '!' ? U64 : t;
      }
      case 'ternary': {
        this.typeOf(e.cond, ctx, vars);
        const a = this.typeOf(e.then, ctx, vars);
        const b = this.typeOf(e.else, ctx, vars);
        if (!compatible(a, b)) throw new ScriptError(`Ternary operator must return the same type: have '${typeName(a)}' and '${typeName(b)}'`, e.loc);
        return unify(a, b);
      }
      case 'field': {
        const base = this.typeOf(e.base, ctx, vars);
        if (base.kind === 'args' && ctx.fn) {
          const prm = ctx.fn.params.find((x) => x.name === e.field);
          if (!prm) throw new ScriptError(`Can't find function parameter ${e.field}`, e.loc);
          return prm.type;
        }
        if (base.kind === 'ptr') {
          const btf = this.btf();
          if (!btf) throw new ScriptError(`Can not access field '${e.field}' of '${base.to}': kernel BTF (/sys/kernel/btf/vmlinux) is not available`, e.loc);
          const m = findMember(btf, base.to, e.field);
          if (!m) throw new ScriptError(`Struct/union of type '${base.to}' does not contain a field named '${e.field}'`, e.loc);
          return m.type;
        }
        if (base.kind === 'args') {
          const f = ctx.args?.fields.find((x) => x.name === e.field);
          if (!f) throw new ScriptError(`Struct/union of type 'struct ${ctx.spec.target}_${ctx.spec.func}_args' does not contain a field named '${e.field}'`, e.loc);
          return f.type;
        }
        if (base.kind === 'tuple') {
          const i = Number(e.field);
          if (!/^[0-9]+$/.test(e.field) || i >= base.elems.length) throw new ScriptError(`Invalid tuple index: ${e.field}. Found ${base.elems.length} elements in tuple.`, e.loc);
          return base.elems[i];
        }
        throw new ScriptError(`Can not access field '${e.field}' on expression of type '${typeName(base)}'`, e.loc);
      }
      case 'index': {
        const base = this.typeOf(e.base, ctx, vars);
        this.typeOf(e.index, ctx, vars);
        if (base.kind === 'ptr') return castType(base.to, 0) ?? U64;
        throw new ScriptError(`The array index operator [] can not be used on expressions of type '${typeName(base)}'`, e.loc);
      }
      case 'cast': {
        const t = this.typeOf(e.expr, ctx, vars);
        const to = castType(e.type.name, e.type.pointer);
        if (!to) throw new ScriptError(`Cannot resolve unknown type "${e.type.name}"`, e.loc);
        if (!isIntLike(t)) throw new ScriptError(`Cannot cast from "${typeName(t)}" to "${typeName(to)}"`, e.loc);
        return to;
      }
      case 'tuple': return { kind: 'tuple', elems: e.elems.map((x) => { const t = this.typeOf(x, ctx, vars); return t.kind === 'int' ? { kind: 'int', bits: 64, signed: t.signed } as TType : t; }) };
      case 'incdec': {
        if (e.target.kind !== 'var' && e.target.kind !== 'map') throw new ScriptError('The ++ and -- operators must be applied to a map or variable', e.loc);
        if (e.target.kind === 'map') {
          const keys = e.target.keys.map((k) => this.keyType(k, ctx, vars));
          this.declareMap(e.target.name, keys, e.target.loc);
          const d = this.maps.get(e.target.name)!;
          if (d.value === undefined) d.value = S64;
        } else if (!vars.has(e.target.name)) throw new ScriptError(`Undefined or undeclared variable: ${e.target.name}`, e.target.loc);
        return S64;
      }
    }
  }

  private builtin(name: string, loc: Loc, ctx: ProbeContext): TType {
    const p = ctx.spec.provider;
    if (INT_BUILTINS.has(name)) return U64;
    switch (name) {
      case 'comm': return { kind: 'string', size: 16 };
      case 'curtask': return { kind: 'ptr', to: 'struct task_struct', user: false };
      case 'probe': return { kind: 'probe' };
      case 'kstack': return { kind: 'kstack' };
      case 'ustack': return { kind: 'ustack' };
      case 'username': return { kind: 'username' };
      case 'ctx': return { kind: 'ptr', to: 'void', user: false };
      case 'func':
        if (p === 'uprobe' || p === 'uretprobe' || p === 'fentry' || p === 'fexit' || p === 'kprobe' || p === 'kretprobe') return { kind: 'string', size: STR_DEFAULT };
        throw new ScriptError(`The func builtin can not be used with '${p}' probes`, loc);
      case 'retval':
        if (p === 'fexit') return ctx.fn?.ret ?? S64;
        if (p === 'kretprobe' || p === 'uretprobe') return S64;
        throw new ScriptError(`The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'fexit' probes`, loc);
      case 'args':
        if (p === 'tracepoint' || p === 'fentry' || p === 'fexit') return { kind: 'args' };
        throw new ScriptError(`The args builtin can only be used with tracepoint/fentry/uprobe probes (${p} used here)`, loc);
    }
    const m = /^(s?arg)([0-9]+)$/.exec(name);
    if (m) {
      if (p === 'kprobe' || p === 'uprobe' || p === 'fentry' || p === 'rawtracepoint') return U64;
      throw new ScriptError(`The ${name} builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes`, loc);
    }
    throw new ScriptError(`Unknown identifier: '${name}'`, loc);
  }

  private call(e: Extract<Expr, { kind: 'call' }>, ctx: ProbeContext, vars: Map<string, TType>): TType {
    const nameLoc: Loc = { line: e.loc.line, col: e.loc.col, endLine: e.loc.line, endCol: e.loc.col + e.name.length };
    if (!FUNCTIONS.has(e.name)) throw new ScriptError(`Unknown function: ${e.name}`, nameLoc);
    // bpftrace reports an unknown map argument over "name(@map", without the closing parenthesis.
    const mapArgLoc = (a: Expr): Loc => ({ line: e.loc.line, col: e.loc.col, endLine: a.loc.endLine, endCol: a.loc.endCol });
    if (UNSAFE.has(e.name) && !this.unsafe) throw new ScriptError(`${e.name}() is an unsafe function being used in safe mode`, e.loc);
    const argTypes = () => e.args.map((a) => (a.kind === 'map' && a.keys.length === 0 && ['print', 'clear', 'zero', 'delete'].includes(e.name) ? NONE : this.typeOf(a, ctx, vars)));
    const nargs = (min: number, max = min) => {
      if (e.args.length < min || e.args.length > max) {
        const want = min === max ? `${min}` : `${min}-${max}`;
        throw new ScriptError(`${e.name}() requires ${want} argument${max === 1 ? '' : 's'} (${e.args.length} provided)`, e.loc);
      }
    };
    const agg = (kind: AggKind, signed: boolean, extra?: TType['kind'] extends never ? never : { min: number; max: number; step: number }): TType =>
      extra ? { kind: 'agg', agg: kind, signed, lhist: extra } : { kind: 'agg', agg: kind, signed };
    switch (e.name) {
      case 'count': nargs(0); return agg('count', false);
      case 'sum': case 'min': case 'max': case 'avg': case 'stats': case 'hist': {
        nargs(1);
        const t = this.typeOf(e.args[0], ctx, vars);
        if (!isIntLike(t)) throw new ScriptError(`${e.name}() expects an integer argument (${typeName(t)} provided)`, e.args[0].loc);
        return agg(e.name, isSigned(t));
      }
      case 'lhist': {
        nargs(4);
        const t = this.typeOf(e.args[0], ctx, vars);
        if (!isIntLike(t)) throw new ScriptError(`lhist() expects an integer argument (${typeName(t)} provided)`, e.args[0].loc);
        const lit = (i: number, what: string) => {
          const a = e.args[i];
          if (a.kind !== 'int') throw new ScriptError(`lhist: invalid ${what} value (must be non-negative literal)`, a.loc);
          return Number(a.value);
        };
        const min = lit(1, 'min'), max = lit(2, 'max'), step = lit(3, 'step');
        if (step <= 0) throw new ScriptError('lhist() step must be >= 1', e.args[3].loc);
        if (min > max) throw new ScriptError('lhist() min must be less than max', e.args[1].loc);
        if ((max - min) / step > 1000) throw new ScriptError('lhist() too many buckets, must be <= 1000 (would need ' + Math.floor((max - min) / step) + ')', e.loc);
        return agg('lhist', false, { min, max, step });
      }
      case 'printf': case 'system': case 'cat': {
        if (e.args.length === 0 || e.args[0].kind !== 'str') throw new ScriptError(`${e.name}() expects a string literal as the first argument`, e.loc);
        const rest = e.args.slice(1).map((a) => this.typeOf(a, ctx, vars));
        let convs;
        try {
          convs = conversions(parseFormat(e.args[0].value));
        } catch (err) {
          if (err instanceof FormatError) throw new ScriptError(err.message, e.loc);
          throw err;
        }
        if (convs.length !== rest.length) {
          throw new ScriptError(`${e.name}: ${convs.length > rest.length ? 'Not enough' : 'Too many'} arguments for format string (${rest.length} supplied, ${convs.length} expected)`, e.loc);
        }
        convs.forEach((c, i) => {
          const t = rest[i];
          if (c.conv === 'r') {
            if (t.kind !== 'buffer') throw new ScriptError(`${e.name}: %r specifier expects a value of type buffer (${typeName(t)} supplied)`, e.loc);
            return;
          }
          const wantsStr = c.conv === 's';
          if (wantsStr && (t.kind === 'int' || t.kind === 'none')) throw new ScriptError(`${e.name}: %s specifier expects a value of type string (${t.kind === 'int' ? 'integer' : 'none'} supplied)`, e.loc);
          if (!wantsStr && !isIntLike(t)) throw new ScriptError(`${e.name}: %${c.conv} specifier expects a value of type integer (${typeName(t)} supplied)`, e.loc);
          if (t.kind === 'none' || t.kind === 'agg') throw new ScriptError(`${e.name}: argument ${i + 1} has type ${typeName(t)} that cannot be printed`, e.loc);
        });
        return NONE;
      }
      case 'print': {
        nargs(1, 3);
        const a = e.args[0];
        if (e.args.length > 1) {
          // print(@map, top, div): bpftrace takes only integer literals there.
          if (a.kind === 'map' && a.keys.length > 0) throw new ScriptError('The map passed to print() should not be indexed by a key', e.loc);
          for (const x of e.args.slice(1)) {
            if (x.kind !== 'int') throw new ScriptError(`print() expects a integer literal (${typeName(this.typeOf(x, ctx, vars))} provided)`, e.loc);
          }
        }
        if (a.kind === 'map' && a.keys.length === 0) {
          if (this.final && !this.maps.has(a.name)) throw new ScriptError(`Undefined map: ${a.name}`, mapArgLoc(a));
          const v = this.maps.get(a.name)?.value;
          if (this.final && e.args.length > 1 && v?.kind === 'agg' && v.agg === 'stats') {
            this.warnings.push({ message: "print()'s top and div arguments are ignored when used on stats() maps.", loc: e.loc });
          }
          return NONE;
        }
        const t = this.typeOf(a, ctx, vars);
        if (t.kind === 'none') throw new ScriptError('print() cannot print a value of type none', a.loc);
        return NONE;
      }
      case 'clear': case 'zero': {
        nargs(1);
        const a = e.args[0];
        if (a.kind !== 'map' || a.keys.length) throw new ScriptError(`${e.name}() expects a map to be provided`, e.loc);
        if (this.final && !this.maps.has(a.name)) throw new ScriptError(`Undefined map: ${a.name}`, mapArgLoc(a));
        return NONE;
      }
      case 'delete': {
        nargs(1);
        const a = e.args[0];
        if (a.kind !== 'map') throw new ScriptError('delete() expects a map to be provided', e.loc);
        if (a.keys.length) this.typeOf(a, ctx, vars);
        else if (this.final && !this.maps.has(a.name)) throw new ScriptError(`Undefined map: ${a.name}`, a.loc);
        return NONE;
      }
      case 'time': {
        nargs(0, 1);
        if (e.args.length && e.args[0].kind !== 'str') throw new ScriptError('time() expects a string literal', e.args[0].loc);
        return NONE;
      }
      case 'exit': nargs(0); return NONE;
      case 'str': {
        nargs(1, 2);
        const [t] = argTypes();
        if (!isIntLike(t) && t.kind !== 'string') throw new ScriptError(`str() expects an integer or a pointer type as first argument (${typeName(t)} provided)`, e.loc);
        let size = t.kind === 'string' ? t.size : STR_DEFAULT;
        if (e.args.length === 2) {
          const n = e.args[1];
          if (n.kind === 'int') size = Math.min(STR_DEFAULT, Math.max(1, Number(n.value) + 1));
          else this.typeOf(n, ctx, vars);
        }
        return { kind: 'string', size };
      }
      case 'buf': {
        // buf(ptr, len) or buf(array[, len]); at most 64 bytes, as bpftrace's default string size.
        nargs(1, 2);
        const t = this.typeOf(e.args[0], ctx, vars);
        if (!isIntLike(t) && t.kind !== 'string') throw new ScriptError(`buf() expects an integer, pointer or array as first argument (${typeName(t)} provided)`, e.args[0].loc);
        let size = t.kind === 'string' ? t.size : STR_DEFAULT;
        if (e.args.length === 2) {
          const n = e.args[1];
          const nt = this.typeOf(n, ctx, vars);
          if (!isIntLike(nt)) throw new ScriptError(`buf() expects an integer as second argument (${typeName(nt)} provided)`, n.loc);
          if (n.kind === 'int') {
            if (n.value < 1n) throw new ScriptError('buf() length must be greater than 0', n.loc);
            size = Math.min(size, Number(n.value));
          }
        } else if (t.kind !== 'string') throw new ScriptError('buf() requires a length argument for a pointer (buf(ptr, len))', e.loc);
        return { kind: 'buffer', size };
      }
      case 'join': {
        nargs(1, 2);
        const t = this.typeOf(e.args[0], ctx, vars);
        if (!isIntLike(t)) throw new ScriptError(`join() expects an array of strings (char **) as first argument (${typeName(t)} provided)`, e.loc);
        const sep = e.args[1];
        if (sep && sep.kind !== 'str') throw new ScriptError(`join() expects a string literal (${sep.kind === 'int' ? 'integer' : typeName(this.typeOf(sep, ctx, vars))} provided)`, e.loc);
        return NONE;
      }
      case 'reg': {
        nargs(1);
        const a = e.args[0];
        if (a.kind !== 'str') throw new ScriptError(`reg() expects a string literal (${a.kind === 'int' ? 'integer' : typeName(this.typeOf(a, ctx, vars))} provided)`, e.loc);
        if (!REG_PROVIDERS.has(ctx.spec.provider)) throw new ScriptError(`reg can not be used with "${ctx.spec.provider}" probes`, e.loc);
        if (PT_REGS_OFFSETS[a.value] === undefined) throw new ScriptError(`'${a.value}' is not a valid register on this architecture (x86_64)`, e.loc);
        return U64;
      }
      case 'ksym': nargs(1); argTypes(); return { kind: 'ksym' };
      case 'usym': nargs(1); argTypes(); return { kind: 'usym' };
      case 'kaddr': case 'uaddr':
        nargs(1);
        if (e.args[0].kind !== 'str') throw new ScriptError(`${e.name}() expects a string literal`, e.loc);
        return U64;
      case 'ntop': nargs(1, 2); argTypes(); return { kind: 'inet' };
      case 'strftime':
        nargs(2);
        if (e.args[0].kind !== 'str') throw new ScriptError('strftime() expects a string literal as the first argument', e.loc);
        this.typeOf(e.args[1], ctx, vars);
        return { kind: 'timestamp' };
      case 'signal': nargs(1); argTypes(); return NONE;
      case 'kstack': case 'ustack': {
        // kstack(), kstack(N), kstack(mode), kstack(mode, N); mode is bpftrace or perf (bpftrace 0.17's).
        nargs(0, 2);
        let limit: number | undefined;
        let mode = 'bpftrace' as 'bpftrace' | 'perf';
        const modeOf = (a: Expr): 'bpftrace' | 'perf' | undefined => {
          if (a.kind !== 'builtin') return undefined;
          if (a.name === 'perf' || a.name === 'bpftrace') return a.name;
          throw new ScriptError(`Unknown identifier: '${a.name}'`, a.loc);
        };
        const what = (a: Expr): string => (a.kind === 'int' ? 'integer' : a.kind === 'builtin' ? 'stack mode' : typeName(this.typeOf(a, ctx, vars)));
        e.args.forEach((a, i) => {
          const m = modeOf(a);
          if (e.args.length === 2 && i === 0) {
            if (!m) throw new ScriptError(`${e.name}() expects a stack mode literal (${what(a)} provided)`, e.loc);
            mode = m;
          } else if (m && e.args.length === 1) mode = m;
          else if (a.kind === 'int') limit = Number(a.value);
          else throw new ScriptError(`${e.name}() expects a integer literal (${what(a)} provided)`, e.loc);
        });
        if (limit !== undefined && (limit < 1 || limit > 127)) throw new ScriptError(`${e.name}: the number of frames must be between 1 and 127`, e.loc);
        return { kind: e.name, ...(limit !== undefined ? { limit } : {}), ...(mode === 'perf' ? { mode } : {}) };
      }
      case 'cgroupid': nargs(1); return U64;
      case 'sizeof': nargs(1); return U64;
      case 'strncmp': {
        nargs(3);
        const [a, b] = argTypes();
        if (a.kind !== 'string' || b.kind !== 'string') throw new ScriptError('strncmp() expects two strings', e.loc);
        if (e.args[2].kind !== 'int') throw new ScriptError('strncmp() expects an integer literal as third argument', e.args[2].loc);
        return U64;
      }
      default:
        throw new ScriptError(`${e.name}() is not supported by bpfkit yet`, e.loc);
    }
  }
}

export function isIntLike(t: TType): boolean {
  return t.kind === 'int' || t.kind === 'ptr';
}

export function isSigned(t: TType): boolean {
  return t.kind === 'int' && t.signed;
}
