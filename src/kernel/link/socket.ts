/**
 * Socket filters: SO_ATTACH_BPF on a socket fd the caller owns; closing
 * the link detaches it (SO_DETACH_BPF), the socket stays open.
 */
import { nativeSys } from '../native.js';
import type { Program } from '../program.js';
import type { Sys } from '../sys.js';
import type { Link } from './link.js';
import { track } from './link.js';

const SOL_SOCKET = 1;
const SO_ATTACH_BPF = 50;
const SO_DETACH_BPF = 27;

class SocketFilterLink implements Link {
  readonly kind = 'socket_filter' as const;
  #closed = false;
  constructor(readonly socketFd: number, private readonly sys: Sys) {}
  get target(): string {
    return `socket fd ${this.socketFd}`;
  }
  get closed(): boolean {
    return this.#closed;
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.sys.call({ kind: 'setsockopt', fd: this.socketFd, level: SOL_SOCKET, name: SO_DETACH_BPF, value: new Uint8Array(4) });
  }
  [Symbol.dispose](): void {
    this.close();
  }
}

export function attachSocketFilter(prog: Program, socketFd: number, opts: { sys?: Sys } = {}): Link {
  const sys = opts.sys ?? nativeSys;
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, prog.fd, true);
  sys.call({ kind: 'setsockopt', fd: socketFd, level: SOL_SOCKET, name: SO_ATTACH_BPF, value: v });
  return track(new SocketFilterLink(socketFd, sys));
}
