import { BpfkitError } from '../errors/index.js';
import { errnoName } from './errno.js';

/**
 * The kernel's verifier refused a program. `.log` holds the whole verifier
 * log; `.message` only its last meaningful line, with the instruction it
 * refers to when the log names one (`.insnIndex`).
 */
export class VerifierError extends BpfkitError {
  readonly code = 'VERIFIER_REJECTED';
  readonly errnoName: string;
  /** Index (in 8-byte slots) of the instruction the last log lines point at. */
  readonly insnIndex: number | undefined;

  constructor(
    readonly errno: number,
    readonly log: string,
    /** The log did not fit in the largest buffer tried. */
    readonly truncated: boolean,
    what: string,
    options?: ErrorOptions,
  ) {
    const { summary, insnIndex } = summarizeLog(log);
    super(`${what}: verifier refused the program (${errnoName(errno)}): ${summary}`, options);
    this.errnoName = errnoName(errno);
    this.insnIndex = insnIndex;
  }
}

/** Log lines that close every log and say nothing about why it failed. */
const TRAILER = /^(processed \d+ insns|verification time|stack depth|-- END PROG LOAD LOG --|mark_precise)/;
const INSN_LINE = /^(\d+): \(/;

function summarizeLog(log: string): { summary: string; insnIndex: number | undefined } {
  const lines = log.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  while (lines.length > 0 && TRAILER.test(lines[lines.length - 1])) lines.pop();
  const last = lines[lines.length - 1];
  if (last === undefined) return { summary: '(empty log)', insnIndex: undefined };
  // The failing instruction is usually printed just before the complaint.
  for (let i = lines.length - 1; i >= Math.max(0, lines.length - 3); i--) {
    const m = INSN_LINE.exec(lines[i]);
    if (m) {
      return { summary: i === lines.length - 1 ? last : `${last} (at ${lines[i]})`, insnIndex: Number(m[1]) };
    }
  }
  return { summary: last, insnIndex: undefined };
}

/** An argument bpfkit can tell is wrong before asking the kernel (a key of the wrong size). */
export class KernelArgumentError extends BpfkitError {
  readonly code = 'KERNEL_ARGUMENT';
}
