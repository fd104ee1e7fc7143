/**
 * Links: a program attached to a hook. Every attach function returns a
 * `Link`; closing it detaches the program. Live links are tracked and
 * closed when the process exits, and on SIGINT/SIGTERM (the handler closes
 * them, then re-raises the signal when nobody else listens for it), so an
 * interrupted tool leaves nothing attached.
 */
import { LINK_INFO, readU32 } from '../attr.js';
import { KernelFd } from '../fd.js';
import { objectInfo } from '../object.js';
import { nativeSys } from '../native.js';
import type { Sys } from '../sys.js';

export type LinkKind =
  | 'tracepoint' | 'raw_tracepoint' | 'tracing' | 'lsm' | 'kprobe' | 'uprobe' | 'perf_event'
  | 'xdp' | 'tcx' | 'socket_filter' | 'cgroup';

export interface Link extends Disposable {
  readonly kind: LinkKind;
  /** What the program is attached to: "syscalls:sys_enter_openat", "xdp on ifindex 3". */
  readonly target: string;
  readonly closed: boolean;
  close(): void;
}

const live = new Set<Link>();
let handlersInstalled = false;

function closeAll(): void {
  for (const l of [...live]) {
    try {
      l.close();
    } catch {
      // Exiting: nothing more useful to do with a failed close.
    }
  }
}

function onSignal(sig: NodeJS.Signals): void {
  closeAll();
  process.removeListener(sig, onSignal);
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', closeAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Links not closed yet. */
export function liveLinks(): Link[] {
  return [...live];
}

/** Register a link for closing at exit; attach functions call this. */
export function track<L extends Link>(link: L): L {
  installHandlers();
  live.add(link);
  return link;
}

/** A link held by kernel fds (a bpf_link, a perf event...), released in reverse order of opening. */
export class FdLink implements Link {
  readonly #fds: KernelFd[];
  #closed = false;

  constructor(
    readonly kind: LinkKind,
    readonly target: string,
    fds: readonly number[],
    private readonly sys: Sys = nativeSys,
    /** Work to do before the fds close (detaching a socket filter). */
    private readonly beforeClose?: () => void,
  ) {
    this.#fds = fds.map((fd) => new KernelFd(fd, `link ${kind} ${target}`, sys));
  }

  /** The bpf_link fd (the last fd opened), for pinning or info. */
  get fd(): number {
    return this.#fds[this.#fds.length - 1].fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The kernel's bpf_link id and program id (BPF_OBJ_GET_INFO_BY_FD); only for links that are bpf_links. */
  info(): { id: number; progId: number } {
    const b = objectInfo(this.fd, LINK_INFO.size, this.sys);
    return { id: readU32(b, LINK_INFO.fields.id), progId: readU32(b, LINK_INFO.fields.prog_id) };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    live.delete(this);
    let first: unknown;
    try {
      this.beforeClose?.();
    } catch (e) {
      first = e;
    }
    for (const f of [...this.#fds].reverse()) {
      try {
        f.close();
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Several links closed as one (a perf event program on every CPU). */
export class MultiLink implements Link {
  #closed = false;
  constructor(readonly kind: LinkKind, readonly target: string, readonly links: readonly Link[]) {}

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    live.delete(this);
    let first: unknown;
    for (const l of this.links) {
      try {
        l.close();
      } catch (e) {
        first ??= e;
      }
    }
    if (first) throw first;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
