import { BpfkitError } from '../errors/index.js';

/** Architectures whose register layout kprobe and perf event programs see. */
export type RegsArch = 'x86_64' | 'arm64';

/**
 * struct pt_regs on x86-64 (what bpf_user_pt_regs_t is there): 21
 * u64 registers in this order.
 */
export const X86_64_PT_REGS = [
  'r15', 'r14', 'r13', 'r12', 'bp', 'bx', 'r11', 'r10', 'r9', 'r8', 'ax', 'cx', 'dx', 'si', 'di', 'orig_ax', 'ip', 'cs', 'flags', 'sp', 'ss',
] as const;

/** struct user_pt_regs on arm64: regs[31], sp, pc, pstate. */
export const ARM64_PT_REGS_SIZE = 34 * 8;

/** Function arguments in registers, as PT_REGS_PARM1..6 read them. */
const X86_64_ARGS = ['di', 'si', 'dx', 'cx', 'r8', 'r9'] as const;

export interface RegsValues {
  /** Function arguments 1..6 (x86-64) or 1..8 (arm64). */
  readonly args?: readonly (number | bigint)[];
  /** Return value (PT_REGS_RC). */
  readonly ret?: number | bigint;
  readonly ip?: number | bigint;
  readonly sp?: number | bigint;
  /** Any x86-64 register by name ("ax", "r12", ...). */
  readonly regs?: Readonly<Partial<Record<(typeof X86_64_PT_REGS)[number], number | bigint>>>;
}

export class RegsError extends BpfkitError {
  readonly code = 'PT_REGS';
}

export function ptRegsSize(arch: RegsArch): number {
  return arch === 'x86_64' ? X86_64_PT_REGS.length * 8 : ARM64_PT_REGS_SIZE;
}

/** The bytes of a kprobe program's context (struct pt_regs) with the given registers. */
export function encodePtRegs(arch: RegsArch, v: RegsValues): Uint8Array {
  const out = new Uint8Array(ptRegsSize(arch));
  const dv = new DataView(out.buffer);
  const put = (slot: number, x: number | bigint | undefined): void => {
    if (x !== undefined) dv.setBigUint64(slot * 8, BigInt.asUintN(64, BigInt(x)), true);
  };
  const args = v.args ?? [];
  if (arch === 'x86_64') {
    if (args.length > 6) throw new RegsError(`x86-64 passes 6 arguments in registers, not ${args.length}`);
    const slot = (r: (typeof X86_64_PT_REGS)[number]) => X86_64_PT_REGS.indexOf(r);
    for (const [name, x] of Object.entries(v.regs ?? {})) put(slot(name as (typeof X86_64_PT_REGS)[number]), x);
    args.forEach((a, i) => put(slot(X86_64_ARGS[i]), a));
    put(slot('ax'), v.ret);
    put(slot('ip'), v.ip);
    put(slot('sp'), v.sp);
  } else {
    if (args.length > 8) throw new RegsError(`arm64 passes 8 arguments in registers, not ${args.length}`);
    if (v.regs !== undefined) throw new RegsError('named registers are x86-64 ones; use args/ret/ip/sp on arm64');
    args.forEach((a, i) => put(i, a));
    put(0, v.ret ?? args[0]);
    put(31, v.sp);
    put(32, v.ip);
  }
  return out;
}

/** struct bpf_perf_event_data: the registers, then sample_period and addr. */
export function encodePerfEventData(arch: RegsArch, regs: RegsValues, samplePeriod: number | bigint, addr: number | bigint = 0): Uint8Array {
  const r = encodePtRegs(arch, regs);
  const out = new Uint8Array(r.length + 16);
  out.set(r);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(r.length, BigInt.asUintN(64, BigInt(samplePeriod)), true);
  dv.setBigUint64(r.length + 8, BigInt.asUintN(64, BigInt(addr)), true);
  return out;
}

/** struct bpf_raw_tracepoint_args: the tracepoint's arguments as u64s. */
export function encodeRawTracepointArgs(args: readonly (number | bigint)[]): Uint8Array {
  const out = new Uint8Array(Math.max(1, args.length) * 8);
  const dv = new DataView(out.buffer);
  args.forEach((a, i) => dv.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(a)), true));
  return out;
}
