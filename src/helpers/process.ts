import { StackTraceMap, STACKID_FLAG } from '../maps/index.js';
import { HelperArgumentError, type Helper } from '../vm/index.js';
import { bpfPrintf } from './format.js';
import type { HelperHost } from './host.js';
import { latin1, tryRead, tryReadString } from './memory.js';

const EFAULT = -14, EINVAL = -22, ERANGE = -34;

/**
 * Time, randomness, the current task and CPU (all from the host
 * environment), memory probes, printk-style output and string helpers.
 */
export function processHelpers(host: HelperHost): Record<string, Helper> {
  const env = host.env;
  const printf = (ctx: Parameters<Helper>[0], fmtAddr: number, fmtSize: number, args: bigint[]): string => {
    const raw = ctx.space.bytes.subarray(fmtAddr, fmtAddr + fmtSize);
    const nul = raw.indexOf(0);
    if (nul < 0) throw new HelperArgumentError('format string is not NUL-terminated');
    return bpfPrintf(
      latin1(raw.subarray(0, nul)),
      args,
      (a) => {
        const s = tryReadString(ctx, a, 1024);
        return s === undefined ? undefined : latin1(s);
      },
      (a, n) => tryRead(ctx, a, n),
    );
  };
  const argsFromArray = (ctx: Parameters<Helper>[0], dataArg: 3 | 4, lenArg: 4 | 5): bigint[] | number => {
    const len = ctx.argU32(lenArg);
    if (len % 8 !== 0 || len > 12 * 8) return EINVAL;
    if (len === 0) return [];
    const a = ctx.argAddr(dataArg, len, 'read');
    const out: bigint[] = [];
    for (let i = 0; i < len; i += 8) out.push(ctx.space.view.getBigUint64(a + i, true));
    return out;
  };
  const emit = (msg: string): void => {
    host.state.trace.push(msg.endsWith('\n') ? msg.slice(0, -1) : msg);
  };
  const probeRead = (ctx: Parameters<Helper>[0]): number => {
    const size = ctx.argU32(2);
    const dst = ctx.argAddr(1, size, 'write');
    const src = tryRead(ctx, ctx.arg(3), size);
    if (src === undefined) {
      ctx.space.bytes.fill(0, dst, dst + size);
      return EFAULT;
    }
    ctx.space.bytes.set(src, dst);
    return 0;
  };
  const probeReadStr = (ctx: Parameters<Helper>[0]): number => {
    const size = ctx.argU32(2);
    if (size === 0) return 0;
    const dst = ctx.argAddr(1, size, 'write');
    const s = tryReadString(ctx, ctx.arg(3), size - 1);
    if (s === undefined) {
      ctx.space.bytes[dst] = 0;
      return EFAULT;
    }
    ctx.space.bytes.set(s, dst);
    ctx.space.bytes[dst + s.length] = 0;
    return s.length + 1;
  };
  /** bpf_strtol / bpf_strtoul, as the kernel's __bpf_strtoull and kstrtox parse. */
  const strto = (signed: boolean): Helper => (ctx) => {
    const len = ctx.argU32(2);
    const flags = ctx.arg(3);
    if (len === 0) return EINVAL;
    const base0 = Number(flags & 0x1fn);
    if ((flags & ~0x1fn) !== 0n || (base0 !== 0 && base0 !== 8 && base0 !== 10 && base0 !== 16)) return EINVAL;
    const at = ctx.argAddr(1, len, 'read');
    const b = ctx.space.bytes;
    let i = 0;
    while (i < len && (b[at + i] === 32 || (b[at + i] >= 9 && b[at + i] <= 13) || b[at + i] === 0xa0)) i++;
    const neg = i < len && b[at + i] === 45;
    if (neg) i++;
    if (i >= len) return EINVAL;
    // The kernel copies at most 63 bytes into a NUL-terminated buffer.
    const str = b.slice(at + i, at + i + Math.min(len - i, 63));
    const ch = (k: number): number => (k < str.length ? str[k] : 0);
    const isHex = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
    let base = base0;
    let k = 0;
    if (base === 0) base = ch(0) === 48 ? ((ch(1) | 32) === 120 && isHex(ch(2)) ? 16 : 8) : 10;
    if (base === 16 && ch(0) === 48 && (ch(1) | 32) === 120) k = 2;
    let v = 0n, digits = 0, overflow = false;
    for (;; k++) {
      const c = ch(k);
      const d = c >= 48 && c <= 57 ? c - 48 : (c | 32) >= 97 && (c | 32) <= 102 ? (c | 32) - 87 : 99;
      if (d >= base) break;
      v = v * BigInt(base) + BigInt(d);
      if (v > 0xffffffffffffffffn) {
        overflow = true;
        v &= 0xffffffffffffffffn;
      }
      digits++;
    }
    if (overflow) return ERANGE;
    if (digits === 0) return EINVAL;
    let out: bigint;
    if (signed) {
      if (neg ? BigInt.asIntN(64, -v) > 0n : BigInt.asIntN(64, v) < 0n) return ERANGE;
      out = neg ? -v : v;
    } else {
      if (neg) return EINVAL;
      out = v;
    }
    ctx.space.view.setBigUint64(ctx.argAddr(4, 8, 'write'), BigInt.asUintN(64, out), true);
    return i + k;
  };
  return {
    ktime_get_ns: () => env.monotonicNs(),
    ktime_get_boot_ns: () => env.bootNs(),
    ktime_get_coarse_ns: () => env.monotonicNs(),
    ktime_get_tai_ns: () => env.realtimeNs(),
    jiffies64: () => env.jiffies(),
    get_prandom_u32: () => env.randomU32(),
    get_smp_processor_id: () => env.cpu,
    get_numa_node_id: () => 0,
    get_current_pid_tgid: () => (BigInt(env.tgid) << 32n) | BigInt(env.pid),
    get_current_uid_gid: () => (BigInt(env.gid) << 32n) | BigInt(env.uid),
    get_current_comm: (ctx) => {
      const size = ctx.argU32(2);
      const dst = ctx.argAddr(1, size, 'write');
      if (size === 0) return EINVAL;
      const name = env.comm.slice(0, Math.min(15, size - 1));
      ctx.space.bytes.fill(0, dst, dst + size);
      for (let i = 0; i < name.length; i++) ctx.space.bytes[dst + i] = name.charCodeAt(i) & 0xff;
      return 0;
    },
    probe_read: probeRead,
    probe_read_kernel: probeRead,
    probe_read_user: probeRead,
    probe_read_str: probeReadStr,
    probe_read_kernel_str: probeReadStr,
    probe_read_user_str: probeReadStr,
    trace_printk: (ctx) => {
      const size = ctx.argU32(2);
      const fmt = ctx.argAddr(1, size, 'read');
      const args: bigint[] = [];
      for (const n of [3, 4, 5] as const) args.push(ctx.arg(n));
      let msg: string;
      try {
        msg = printf(ctx, fmt, size, args);
      } catch {
        return EINVAL;
      }
      emit(msg);
      return msg.length;
    },
    trace_vprintk: (ctx) => {
      const size = ctx.argU32(2);
      const fmt = ctx.argAddr(1, size, 'read');
      const args = argsFromArray(ctx, 3, 4);
      if (typeof args === 'number') return args;
      let msg: string;
      try {
        msg = printf(ctx, fmt, size, args);
      } catch {
        return EINVAL;
      }
      emit(msg);
      return msg.length;
    },
    snprintf: (ctx) => {
      const size = ctx.argU32(2);
      const args = argsFromArray(ctx, 4, 5);
      if (typeof args === 'number') return args;
      const fmtAddr = Number(ctx.arg(3));
      const region = ctx.space.regionAt(fmtAddr);
      if (region === undefined) return EINVAL;
      let msg: string;
      try {
        msg = printf(ctx, fmtAddr, region.start + region.size - fmtAddr, args);
      } catch {
        return EINVAL;
      }
      if (size > 0) {
        const dst = ctx.argAddr(1, size, 'write');
        const n = Math.min(msg.length, size - 1);
        for (let i = 0; i < n; i++) ctx.space.bytes[dst + i] = msg.charCodeAt(i) & 0xff;
        ctx.space.bytes[dst + n] = 0;
      }
      return msg.length + 1;
    },
    strtol: strto(true),
    strtoul: strto(false),
    send_signal: (ctx) => {
      const sig = ctx.argU32(1);
      if (sig === 0 || sig > 64) return EINVAL;
      env.signals.push({ signal: sig, thread: false });
      return 0;
    },
    send_signal_thread: (ctx) => {
      const sig = ctx.argU32(1);
      if (sig === 0 || sig > 64) return EINVAL;
      env.signals.push({ signal: sig, thread: true });
      return 0;
    },
    get_stackid: (ctx) => {
      const map = host.mapAt(ctx.argU32(2));
      if (!(map instanceof StackTraceMap)) return EINVAL;
      const flags = ctx.argU32(3);
      if ((flags & ~0x7ff) !== 0) return EINVAL;
      const stack = ((flags & STACKID_FLAG.USER_STACK) !== 0 ? env.userStack : env.kernelStack) ?? [];
      return map.store(stack.slice(flags & STACKID_FLAG.SKIP_MASK), flags);
    },
    get_stack: (ctx) => {
      const size = ctx.argU32(3);
      const flags = ctx.argU32(4);
      if ((flags & ~0xfff) !== 0 || size % 8 !== 0) return EINVAL;
      const dst = ctx.argAddr(2, size, 'write');
      const stack = (((flags & STACKID_FLAG.USER_STACK) !== 0 ? env.userStack : env.kernelStack) ?? []).slice(flags & STACKID_FLAG.SKIP_MASK);
      const n = Math.min(stack.length, size / 8);
      ctx.space.bytes.fill(0, dst, dst + size);
      for (let i = 0; i < n; i++) ctx.space.view.setBigUint64(dst + 8 * i, stack[i], true);
      return n === 0 ? EFAULT : n * 8;
    },
  };
}
