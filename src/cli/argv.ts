/**
 * A command's arguments, one at a time, as bpftool and the GNU tools take
 * them: `--flag value` or `--flag=value` (the second form only for long
 * options), anything else as it stands.
 */
import { UsageError } from './io.js';

export class ArgvReader {
  private i = -1;
  private inline: string | undefined;
  /** The current argument, whole. */
  arg = '';
  /** The current argument without an `=value` part. */
  flag = '';

  constructor(private readonly argv: readonly string[]) {}

  /** Move to the next argument; false at the end. */
  next(): boolean {
    if (++this.i >= this.argv.length) return false;
    const a = this.argv[this.i];
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    this.arg = a;
    this.flag = eq > 0 ? a.slice(0, eq) : a;
    this.inline = eq > 0 ? a.slice(eq + 1) : undefined;
    return true;
  }

  /** The current flag's value: its `=value`, or the next argument. */
  value(): string {
    const v = this.inline ?? this.argv[++this.i];
    if (v === undefined) throw new UsageError(`${this.flag} needs a value`);
    this.inline = undefined;
    return v;
  }
}
