/**
 * File descriptors of kernel objects, and the registry of those still open.
 *
 * Every object that holds an fd registers it with where it was opened (a
 * stack trace), so tests can assert after a run that nothing leaked and say
 * which call opened whatever did.
 */
import type { Sys } from './sys.js';

export interface OpenFd {
  readonly fd: number;
  /** What the fd refers to: "map array 'r0'", "prog xdp". */
  readonly what: string;
  /** Stack trace of the call that opened it. */
  readonly openedAt: string;
}

const open = new Map<number, OpenFd>();

/** Every fd bpfkit opened and has not closed yet, oldest first. */
export function openFds(): OpenFd[] {
  return [...open.values()];
}

/** An owned kernel fd: closing is idempotent, and `using` closes it at scope end. */
export class KernelFd implements Disposable {
  #fd: number;

  constructor(fd: number, readonly what: string, private readonly sys: Sys) {
    this.#fd = fd;
    const trace: { stack?: string } = {};
    Error.captureStackTrace(trace, KernelFd);
    open.set(fd, { fd, what, openedAt: (trace.stack ?? '').split('\n').slice(1).join('\n') });
  }

  /** The descriptor number; throws once closed. */
  get fd(): number {
    if (this.#fd < 0) throw new RangeError(`${this.what}: file descriptor already closed`);
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  close(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    open.delete(fd);
    this.sys.call({ kind: 'close', fd });
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
