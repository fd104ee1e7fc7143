/**
 * A bpftrace-compatible tracing language compiled straight to eBPF, with no
 * LLVM: lexer and parser (errors rendered with bpftrace's caret display),
 * type checking, code generation to `Insn[]`, and the user-space half that
 * prints events and maps exactly as bpftrace 0.17 does (text and JSON).
 * Running on the kernel lives in ./kernel (Linux only); everything exported
 * here is portable.
 * See https://github.com/bpftrace/bpftrace/blob/v0.17.0/docs/reference_guide.md
 */
export { ScriptError, TraceLoadError, renderDiagnostic, type Loc } from './errors.js';
export { parse, stripPreprocessor } from './parser.js';
export type { Script, Probe, Stmt, Expr } from './ast.js';
export { compile, type CompileOptions } from './compile.js';
export type { CompiledScript, MapPrint, TraceMap, TraceProgram, PrintfSpec, EventKind, StackMapSpec, StackMode } from './compiled.js';
export { EVENT_KIND, DEFAULT_STACK_DEPTH } from './compiled.js';
export { expandAttachPoint, parseAttachPoint, wildcardToRegExp, type ProbeCatalog, type ProbeSpec, type Provider } from './probes.js';
export { parseTracepointFormat, type TracepointFormat, type TracepointField } from './tracepoint-format.js';
export { formatMap, histToString, lhistToString, valueToString, type MapEntry, type OutputMode, type PrintLimits, type Resolver, type StackTType } from './output.js';
export { parseFormat, formatPrintf } from './printf-format.js';
export { TraceSession, basicResolver, type MapAccess, type SessionHooks } from './session.js';
export type { TType } from './types.js';
export { UserSymbolizer, parseMaps, hexPointer, type UserSymbolHost, type UserSymbol, type Mapping } from './user-symbols.js';
export { readNativeLayout, readRawSymbols, NativeLayoutError, type NativeLayout, type LoadSegment, type RawSymbol } from './native-elf.js';
export { stdSort } from './std-sort.js';
