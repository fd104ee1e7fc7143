/** The syntax tree of a tracing script. Every node keeps its span for errors. */
import type { Loc } from './errors.js';

export type BinaryOp =
  | '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>'
  | '==' | '!=' | '<' | '<=' | '>' | '>=' | '&&' | '||';

export type UnaryOp = '!' | '~' | '-' | '*' | '&';

/** A C type named in a cast or a field declaration. */
export interface TypeName {
  readonly name: string; // "uint8", "int64", "struct task_struct"
  readonly pointer: number; // number of '*'
}

export type Expr =
  | { readonly kind: 'int'; readonly value: bigint; readonly loc: Loc }
  | { readonly kind: 'str'; readonly value: string; readonly loc: Loc }
  | { readonly kind: 'builtin'; readonly name: string; readonly loc: Loc }
  | { readonly kind: 'param'; readonly index: number; readonly loc: Loc }
  | { readonly kind: 'var'; readonly name: string; readonly loc: Loc }
  | { readonly kind: 'map'; readonly name: string; readonly keys: readonly Expr[]; readonly loc: Loc }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly loc: Loc }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly loc: Loc }
  | { readonly kind: 'unary'; readonly op: UnaryOp; readonly operand: Expr; readonly loc: Loc }
  | { readonly kind: 'ternary'; readonly cond: Expr; readonly then: Expr; readonly else: Expr; readonly loc: Loc }
  | { readonly kind: 'field'; readonly base: Expr; readonly field: string; readonly arrow: boolean; readonly loc: Loc }
  | { readonly kind: 'index'; readonly base: Expr; readonly index: Expr; readonly loc: Loc }
  | { readonly kind: 'cast'; readonly type: TypeName; readonly expr: Expr; readonly loc: Loc }
  | { readonly kind: 'tuple'; readonly elems: readonly Expr[]; readonly loc: Loc }
  | { readonly kind: 'incdec'; readonly op: '++' | '--'; readonly prefix: boolean; readonly target: Expr; readonly loc: Loc };

export type MapExpr = Extract<Expr, { kind: 'map' }>;
export type VarExpr = Extract<Expr, { kind: 'var' }>;

export type Stmt =
  | { readonly kind: 'expr'; readonly expr: Expr; readonly loc: Loc }
  | { readonly kind: 'assign'; readonly target: MapExpr | VarExpr; readonly value: Expr; readonly loc: Loc; readonly opLoc: Loc }
  | { readonly kind: 'if'; readonly cond: Expr; readonly then: readonly Stmt[]; readonly else: readonly Stmt[] | undefined; readonly loc: Loc }
  | { readonly kind: 'unroll'; readonly count: number; readonly body: readonly Stmt[]; readonly loc: Loc }
  | { readonly kind: 'while'; readonly cond: Expr; readonly body: readonly Stmt[]; readonly loc: Loc }
  | { readonly kind: 'for'; readonly variable: string; readonly map: MapExpr; readonly body: readonly Stmt[]; readonly loc: Loc }
  | { readonly kind: 'jump'; readonly which: 'return' | 'break' | 'continue'; readonly loc: Loc };

export interface AttachPoint {
  readonly text: string;
  readonly loc: Loc;
}

export interface Probe {
  readonly attachPoints: readonly AttachPoint[];
  readonly predicate: Expr | undefined;
  readonly body: readonly Stmt[];
  readonly loc: Loc;
}

export interface Script {
  readonly probes: readonly Probe[];
}
