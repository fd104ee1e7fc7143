import { BpfkitError } from '../errors/index.js';

/** A span in the script: 1-based line and columns, `endCol` exclusive, as bpftrace reports them. */
export interface Loc {
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

/**
 * A mistake in a tracing script (syntax, types, unknown probe). `render`
 * prints it the way bpftrace 0.17 does: `stdin:1:9-23: ERROR: ...`, the
 * source line, and `~` under the span.
 */
export class ScriptError extends BpfkitError {
  readonly code = 'TRACE_SCRIPT';
  constructor(readonly detail: string, readonly loc: Loc | undefined, options?: ErrorOptions) {
    super(loc ? `${loc.line}:${loc.col}-${loc.endCol}: ${detail}` : detail, options);
  }

  /** bpftrace's rendering; `file` is "stdin" for -e programs. */
  render(source: string, file = 'stdin'): string {
    return renderDiagnostic('ERROR', this.detail, this.loc, source, file);
  }
}

/** The kernel refused a generated program: the log, with the script line it came from. */
export class TraceLoadError extends BpfkitError {
  readonly code = 'TRACE_LOAD';
  constructor(message: string, readonly log: string, readonly loc: Loc | undefined, options?: ErrorOptions) {
    super(message, options);
  }
}

export function renderDiagnostic(kind: 'ERROR' | 'WARNING', msg: string, loc: Loc | undefined, source: string, file: string): string {
  if (!loc) return `${file}: ${kind}: ${msg}\n`;
  if (loc.line < loc.endLine) return `${file}:${loc.line}-${loc.endLine}: ${kind}: ${msg}\n`;
  let out = `${file}:${loc.line}:${loc.col}-${loc.endCol}: ${kind}: ${msg}\n`;
  const src = source.split('\n')[loc.line - 1] ?? '';
  if (src === '') return out;
  out += src.replace(/\t/g, '    ') + '\n';
  let marks = '';
  for (let x = 0; x < src.length && x < loc.endCol - 1; x++) {
    const m = x < loc.col - 1 ? ' ' : '~';
    marks += src[x] === '\t' ? m.repeat(4) : m;
  }
  return out + marks + '\n';
}
