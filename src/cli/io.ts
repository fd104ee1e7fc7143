/** What a command may touch: its arguments and the process's standard streams. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Raw standard input, read to the end (only for commands that take a program on stdin). */
  readonly readStdin: () => Promise<Uint8Array>;
}

/** A subcommand module under src/cli/commands: `export default async function (argv, io): Promise<exitCode>`. */
export type Command = (argv: string[], io: CommandIo) => Promise<number>;

/** A mistake in the command line: printed with the usage hint, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
