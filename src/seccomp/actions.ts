/**
 * Seccomp return actions: the high 16 bits of a filter's return value pick
 * what the kernel does, the low 16 bits carry data (an errno, a trace or trap
 * value). When several filters are stacked the kernel keeps the action with
 * the highest precedence, comparing the action bits as signed 32-bit numbers
 * (smaller wins), which gives
 * KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > USER_NOTIF > TRACE > LOG > ALLOW.
 */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;

export type Action =
  | { readonly kind: 'kill_process' }
  | { readonly kind: 'kill_thread' }
  | { readonly kind: 'trap'; readonly data: number }
  | { readonly kind: 'errno'; readonly errno: number }
  | { readonly kind: 'user_notif' }
  | { readonly kind: 'trace'; readonly data: number }
  | { readonly kind: 'log' }
  | { readonly kind: 'allow' };

export type ActionKind = Action['kind'];

export const ACT = {
  killProcess: (): Action => ({ kind: 'kill_process' }),
  killThread: (): Action => ({ kind: 'kill_thread' }),
  trap: (data = 0): Action => ({ kind: 'trap', data: data & SECCOMP_RET_DATA }),
  errno: (errno: number): Action => ({ kind: 'errno', errno: errno & SECCOMP_RET_DATA }),
  userNotif: (): Action => ({ kind: 'user_notif' }),
  trace: (data = 0): Action => ({ kind: 'trace', data: data & SECCOMP_RET_DATA }),
  log: (): Action => ({ kind: 'log' }),
  allow: (): Action => ({ kind: 'allow' }),
} as const;

/** The 32-bit value a filter returns for `action`. */
export function actionToRet(action: Action): number {
  switch (action.kind) {
    case 'kill_process': return SECCOMP_RET.KILL_PROCESS;
    case 'kill_thread': return SECCOMP_RET.KILL_THREAD;
    case 'trap': return (SECCOMP_RET.TRAP | (action.data & SECCOMP_RET_DATA)) >>> 0;
    case 'errno': return (SECCOMP_RET.ERRNO | (action.errno & SECCOMP_RET_DATA)) >>> 0;
    case 'user_notif': return SECCOMP_RET.USER_NOTIF;
    case 'trace': return (SECCOMP_RET.TRACE | (action.data & SECCOMP_RET_DATA)) >>> 0;
    case 'log': return SECCOMP_RET.LOG;
    case 'allow': return SECCOMP_RET.ALLOW;
  }
}

/**
 * What the kernel does with a filter's return value. Action bits the kernel
 * does not know fall into its default branch, which kills the process.
 */
export function retToAction(ret: number): Action {
  const action = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  const data = ret & SECCOMP_RET_DATA;
  switch (action) {
    case SECCOMP_RET.KILL_THREAD: return ACT.killThread();
    case SECCOMP_RET.TRAP: return ACT.trap(data);
    case SECCOMP_RET.ERRNO: return ACT.errno(data);
    case SECCOMP_RET.USER_NOTIF: return ACT.userNotif();
    case SECCOMP_RET.TRACE: return ACT.trace(data);
    case SECCOMP_RET.LOG: return ACT.log();
    case SECCOMP_RET.ALLOW: return ACT.allow();
    default: return ACT.killProcess();
  }
}

/** Kernel precedence rank: a smaller rank wins (KILL_PROCESS is 0, ALLOW is 7). */
export function actionRank(action: Action): number {
  return RANK[action.kind];
}

const RANK: Record<ActionKind, number> = {
  kill_process: 0, kill_thread: 1, trap: 2, errno: 3, user_notif: 4, trace: 5, log: 6, allow: 7,
};

/** True when both actions produce the same return value. */
export function sameAction(a: Action, b: Action): boolean {
  return actionToRet(a) === actionToRet(b);
}

/** `ERRNO(1)`, `ALLOW`, `TRACE(7)`: how explain and the CLI print an action. */
export function formatAction(action: Action): string {
  switch (action.kind) {
    case 'errno': return `ERRNO(${action.errno})`;
    case 'trap': return `TRAP(${action.data})`;
    case 'trace': return `TRACE(${action.data})`;
    default: return action.kind.toUpperCase();
  }
}

/**
 * libseccomp's action names as used by OCI and Docker profiles. SCMP_ACT_KILL
 * is libseccomp's historical name for KILL_THREAD. `data` is errnoRet (ERRNO,
 * TRACE, TRAP); ERRNO defaults to EPERM as runc does.
 */
export function parseScmpAction(name: string, data: number | undefined): Action | undefined {
  switch (name) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return ACT.killThread();
    case 'SCMP_ACT_KILL_PROCESS': return ACT.killProcess();
    case 'SCMP_ACT_TRAP': return ACT.trap(data ?? 0);
    case 'SCMP_ACT_ERRNO': return ACT.errno(data ?? 1);
    case 'SCMP_ACT_NOTIFY': return ACT.userNotif();
    case 'SCMP_ACT_TRACE': return ACT.trace(data ?? 0);
    case 'SCMP_ACT_LOG': return ACT.log();
    case 'SCMP_ACT_ALLOW': return ACT.allow();
    default: return undefined;
  }
}
