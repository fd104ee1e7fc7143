/**
 * Programs in the kernel: BPF_PROG_LOAD and BPF_PROG_TEST_RUN.
 */
import { encode, type Insn } from '../isa/index.js';
import { AttrWriter, PROG_INFO, PROG_LOAD_ATTR, PROG_TEST_RUN_ATTR, readName, readU32, readU64 } from './attr.js';
import { PROG_TYPE, progTypeName, type ProgType } from './constants.js';
import { ERRNO } from './errno.js';
import { KernelArgumentError, VerifierError } from './errors.js';
import { KernelFd } from './fd.js';
import { addressOf, nativeSys } from './native.js';
import { objectInfo, objGet, objPin } from './object.js';
import { SyscallError, type Sys } from './sys.js';

export interface ProgramLoadOptions {
  readonly type: ProgType;
  /** The program, as instructions or as wire bytes (a multiple of 8). */
  readonly insns: readonly Insn[] | Uint8Array;
  /** Default "GPL" (GPL-only helpers are then usable). */
  readonly license?: string;
  /** Up to 15 bytes are kept, as the kernel allows. */
  readonly name?: string;
  readonly expectedAttachType?: number;
  /** BTF id of the attach target (fentry/fexit, tp_btf, LSM) in vmlinux's BTF. */
  readonly attachBtfId?: number;
  /** BTF the func and line info refer to (a BPF_BTF_LOAD fd). */
  readonly btf?: {
    readonly fd: number;
    /** bpf_func_info records (8 bytes each: insn_off, type_id). */
    readonly funcInfo?: Uint8Array;
    /** bpf_line_info records (16 bytes each). */
    readonly lineInfo?: Uint8Array;
  };
  /** BPF_F_* program flags (BPF_F_STRICT_ALIGNMENT = 1, ...). */
  readonly flags?: number;
  /**
   * Verifier log level for a successful load: 0 (default) asks for no log,
   * 1 or 2 keep it on `Program.log`. A refused load is always retried with
   * at least level 1 so the error carries the log.
   */
  readonly logLevel?: 0 | 1 | 2 | 4 | 5 | 6;
  /** First log buffer size; it grows as needed. Default 64 KiB. */
  readonly logSize?: number;
  readonly sys?: Sys;
}

export interface TestRunOptions {
  /** Packet (or other input data) the program sees. */
  readonly data?: Uint8Array;
  /** Bytes reserved for the data the program leaves; default data's length, 0 for none. */
  readonly dataOutSize?: number;
  /** Context passed in (struct __sk_buff, xdp_md, ...), for types that accept one. */
  readonly ctx?: Uint8Array;
  /** Bytes reserved for the context the program leaves; default 0. */
  readonly ctxOutSize?: number;
  /** Run this many times; `duration` is then the mean. Default: once (sent as 0, which raw tracepoints require). */
  readonly repeat?: number;
  readonly flags?: number;
  readonly cpu?: number;
}

export interface TestRunResult {
  /** The program's return value, truncated to 32 bits by the kernel. */
  readonly retval: number;
  /** Mean nanoseconds per run, as the kernel measured it. */
  readonly duration: number;
  /** Data after the run, when dataOutSize > 0. */
  readonly data?: Uint8Array;
  /** Context after the run, when ctxOutSize > 0. */
  readonly ctx?: Uint8Array;
}

const DEFAULT_LOG_SIZE = 64 * 1024;
/** The kernel refuses log_size above UINT_MAX >> 2. */
const MAX_LOG_SIZE = 0x3fffffff;
const MAX_EAGAIN_RETRIES = 5;

/** A loaded program, owning its fd. */
export class Program implements Disposable {
  readonly #fd: KernelFd;

  constructor(
    fd: number,
    readonly type: ProgType,
    /** Number of 8-byte slots. */
    readonly insnCount: number,
    /** Verifier log of the load, when a log level was asked for. */
    readonly log: string | undefined,
    private readonly sys: Sys,
    /** Whether the kernel took the program with BTF func info (and line info, when given). */
    readonly hasBtf: boolean = false,
  ) {
    this.#fd = new KernelFd(fd, `prog ${type}`, sys);
  }

  get fd(): number {
    return this.#fd.fd;
  }

  /** BPF_PROG_TEST_RUN: run the program once (or `repeat` times) on the given input. */
  testRun(opts: TestRunOptions = {}): TestRunResult {
    const dataOutSize = opts.dataOutSize ?? opts.data?.length ?? 0;
    const ctxOutSize = opts.ctxOutSize ?? 0;
    const dataOut = dataOutSize > 0 ? new Uint8Array(dataOutSize) : undefined;
    const ctxOut = ctxOutSize > 0 ? new Uint8Array(ctxOutSize) : undefined;
    const w = new AttrWriter(PROG_TEST_RUN_ATTR)
      .u32('prog_fd', this.fd)
      .u32('data_size_in', opts.data?.length ?? 0)
      .u32('data_size_out', dataOutSize)
      .ptr('data_in', opts.data)
      .ptr('data_out', dataOut)
      // 0 means once; raw tracepoint test runs refuse any other value.
      .u32('repeat', opts.repeat ?? 0)
      .u32('ctx_size_in', opts.ctx?.length ?? 0)
      .u32('ctx_size_out', ctxOutSize)
      .ptr('ctx_in', opts.ctx)
      .ptr('ctx_out', ctxOut)
      .u32('flags', opts.flags ?? 0)
      .u32('cpu', opts.cpu ?? 0);
    this.sys.call(w.syscall('prog_test_run'));
    const f = PROG_TEST_RUN_ATTR.fields;
    const result: { retval: number; duration: number; data?: Uint8Array; ctx?: Uint8Array } = {
      retval: readU32(w.attr, f.retval),
      duration: readU32(w.attr, f.duration),
    };
    if (dataOut) result.data = dataOut.subarray(0, Math.min(dataOutSize, readU32(w.attr, f.data_size_out)));
    if (ctxOut) result.ctx = ctxOut.subarray(0, Math.min(ctxOutSize, readU32(w.attr, f.ctx_size_out)));
    return result;
  }

  /** BPF_OBJ_PIN at `path` under a bpffs mount. */
  pin(path: string): void {
    objPin(this.fd, path, this.sys);
  }

  /** BPF_OBJ_GET_INFO_BY_FD. */
  info(): ProgramInfo {
    return programInfo(this.fd, this.sys);
  }

  close(): void {
    this.#fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** What BPF_OBJ_GET_INFO_BY_FD says about a program. */
export interface ProgramInfo {
  readonly id: number;
  readonly type: ProgType | number;
  readonly name: string;
  /** The program's tag, 16 hex digits, as bpftool prints it. */
  readonly tag: string;
  readonly xlatedLength: number;
  readonly jitedLength: number;
  /** Seconds since boot (load_time is in ns of the boot clock). */
  readonly loadTimeNs: bigint;
  readonly uid: number;
  readonly mapIds: number[];
  readonly btfId: number;
  /** Number of bpf_func_info and bpf_line_info records the program was loaded with. */
  readonly funcInfoCount: number;
  readonly lineInfoCount: number;
  readonly verifiedInsns: number;
  readonly runTimeNs: bigint;
  readonly runCount: bigint;
}

/** BPF_OBJ_GET_INFO_BY_FD on a program fd, with its map ids. */
export function programInfo(fd: number, sys: Sys = nativeSys): ProgramInfo {
  const f = PROG_INFO.fields;
  const first = objectInfo(fd, PROG_INFO.size, sys);
  const nMaps = readU32(first, f.nr_map_ids);
  const mapIds = new Uint8Array(nMaps * 4);
  if (nMaps > 0) {
    const second = objectInfo(fd, PROG_INFO.size, sys, (info) => {
      const v = new DataView(info.buffer);
      v.setUint32(f.nr_map_ids.offset, nMaps, true);
      v.setBigUint64(f.map_ids.offset, addressOf(mapIds), true);
    });
    void second;
  }
  const ids = new DataView(mapIds.buffer);
  return {
    id: readU32(first, f.id),
    type: progTypeName(readU32(first, f.type)),
    name: readName(first, f.name),
    tag: [...first.subarray(f.tag.offset, f.tag.offset + 8)].map((b) => b.toString(16).padStart(2, '0')).join(''),
    xlatedLength: readU32(first, f.xlated_prog_len),
    jitedLength: readU32(first, f.jited_prog_len),
    loadTimeNs: readU64(first, f.load_time),
    uid: readU32(first, f.created_by_uid),
    mapIds: Array.from({ length: nMaps }, (_, i) => ids.getUint32(i * 4, true)),
    btfId: readU32(first, f.btf_id),
    funcInfoCount: readU32(first, f.nr_func_info),
    lineInfoCount: readU32(first, f.nr_line_info),
    verifiedInsns: readU32(first, f.verified_insns),
    runTimeNs: readU64(first, f.run_time_ns),
    runCount: readU64(first, f.run_cnt),
  };
}

/** The program as the kernel rewrote it (BPF_OBJ_GET_INFO_BY_FD's xlated_prog_insns) and its JIT image. */
export function programCode(fd: number, which: 'xlated' | 'jited', sys: Sys = nativeSys): Uint8Array {
  const f = PROG_INFO.fields;
  const first = objectInfo(fd, PROG_INFO.size, sys);
  const len = readU32(first, which === 'xlated' ? f.xlated_prog_len : f.jited_prog_len);
  const buf = new Uint8Array(len);
  if (len === 0) return buf;
  objectInfo(fd, PROG_INFO.size, sys, (info) => {
    const v = new DataView(info.buffer);
    v.setUint32((which === 'xlated' ? f.xlated_prog_len : f.jited_prog_len).offset, len, true);
    v.setBigUint64((which === 'xlated' ? f.xlated_prog_insns : f.jited_prog_insns).offset, addressOf(buf), true);
  });
  return buf;
}

/** A program already in the kernel, from its fd (taking ownership). */
export function programFromFd(fd: number, sys: Sys = nativeSys): Program {
  let info: ProgramInfo;
  try {
    info = programInfo(fd, sys);
  } catch (e) {
    sys.call({ kind: 'close', fd });
    throw e;
  }
  return new Program(fd, typeof info.type === 'number' ? 'unspec' : info.type, info.xlatedLength / 8, undefined, sys, info.funcInfoCount > 0);
}

/** BPF_OBJ_GET: a program pinned at `path`. */
export function openPinnedProgram(path: string, sys: Sys = nativeSys): Program {
  return programFromFd(objGet(path, sys), sys);
}

/**
 * BPF_PROG_LOAD. Returns the loaded program, or throws `VerifierError`
 * (with the whole log) when the verifier refuses it, `SyscallError` for
 * other failures, `NotSupportedError` where bpf(2) cannot be used.
 */
export function loadProgram(opts: ProgramLoadOptions): Program {
  const sys = opts.sys ?? nativeSys;
  const bytes = opts.insns instanceof Uint8Array ? opts.insns : encode(opts.insns);
  if (bytes.length === 0 || bytes.length % 8 !== 0) {
    throw new KernelArgumentError(`program is ${bytes.length} bytes; expected a non-zero multiple of 8`);
  }
  const license = new TextEncoder().encode(`${opts.license ?? 'GPL'}\0`);
  const what = `load ${opts.type} program${opts.name ? ` '${opts.name}'` : ''}`;
  let level: number = opts.logLevel ?? 0;
  let size = level > 0 ? (opts.logSize ?? DEFAULT_LOG_SIZE) : 0;
  let eagainRetries = 0;
  for (;;) {
    const log = size > 0 ? new Uint8Array(size) : undefined;
    const w = new AttrWriter(PROG_LOAD_ATTR)
      .u32('prog_type', PROG_TYPE[opts.type])
      .u32('insn_cnt', bytes.length / 8)
      .ptr('insns', bytes)
      .ptr('license', license)
      .u32('log_level', level)
      .u32('log_size', size)
      .ptr('log_buf', log)
      .u32('prog_flags', opts.flags ?? 0)
      .u32('expected_attach_type', opts.expectedAttachType ?? 0)
      .u32('attach_btf_id', opts.attachBtfId ?? 0);
    if (opts.name) w.name('prog_name', opts.name);
    if (opts.btf) {
      w.u32('prog_btf_fd', opts.btf.fd);
      if (opts.btf.funcInfo?.length) {
        w.u32('func_info_rec_size', 8).ptr('func_info', opts.btf.funcInfo).u32('func_info_cnt', opts.btf.funcInfo.length / 8);
      }
      if (opts.btf.lineInfo?.length) {
        w.u32('line_info_rec_size', 16).ptr('line_info', opts.btf.lineInfo).u32('line_info_cnt', opts.btf.lineInfo.length / 16);
      }
    }
    try {
      const fd = sys.call(w.syscall('prog_load'));
      return new Program(fd, opts.type, bytes.length / 8, log && cString(log), sys, (opts.btf?.funcInfo?.length ?? 0) > 0);
    } catch (e) {
      if (!(e instanceof SyscallError)) throw e;
      // The verifier gives up with EAGAIN when a signal is pending (a profiler's
      // SIGPROF, a busy machine); libbpf retries the load a few times too.
      if (e.errno === ERRNO.EAGAIN && eagainRetries++ < MAX_EAGAIN_RETRIES) continue;
      if (e.errno === ERRNO.ENOSPC && level > 0 && size < MAX_LOG_SIZE) {
        // Linux >= 6.4 reports the size the whole log needs (NUL included); older kernels do not.
        const needed = readU32(w.attr, PROG_LOAD_ATTR.fields.log_true_size);
        size = Math.min(MAX_LOG_SIZE, needed > size ? needed : size * 4);
        continue;
      }
      if (level === 0) {
        level = 1;
        size = opts.logSize ?? DEFAULT_LOG_SIZE;
        continue;
      }
      const text = log ? cString(log) : '';
      if (text.trim() === '') throw e;
      throw new VerifierError(e.errno, text, e.errno === ERRNO.ENOSPC, what, { cause: e });
    }
  }
}

function cString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
}
