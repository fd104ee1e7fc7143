/**
 * A classic BPF interpreter with libpcap's semantics (bpf_filter.c): a load
 * outside the captured bytes makes the filter return 0, division by a zero X
 * returns 0, `ld #len` is the wire length. Linux's ancillary loads
 * (SKF_AD_*) read the optional skb metadata.
 *
 * The two dialects differ only where C leaves room: libpcap gives 0 for
 * shifts of 32 or more, Linux (which runs cBPF as 32-bit eBPF) shifts by the
 * count modulo 32; Linux lets X + k wrap around and maps the negative
 * SKF_NET_OFF / SKF_LL_OFF offsets onto the network and link headers.
 * libpcap reads the `ja` offset as signed (its protochain code loops with
 * backward jumps), so in that dialect backward jumps run, within a budget of
 * jumps per packet; Linux's checker refuses them.
 *
 * A filter is first lowered to flat typed arrays with absolute jump targets
 * (once per filter: `prepareCbpf`, or cached by array identity in
 * `runCbpf`), and runs on a packet anywhere inside a larger buffer, so a
 * capture can be filtered in place without a view per packet.
 */
import { SKF_AD_OFF, SKF_LL_OFF, SKF_NET_OFF, ancillaryField, type AncillaryField } from './ancillary.js';
import { CbpfError, CbpfLoopError } from './errors.js';
import { BPF_MEMWORDS, type SockFilter } from './insn.js';
import { compileCbpfToJs, type CompiledCbpf } from './compile-js.js';

/** What the socket buffer knows about a packet besides its bytes (Linux's skb fields). */
export interface SkbMeta {
  /** skb->protocol as a host-order EtherType (0x0800 for IPv4). */
  readonly protocol?: number;
  /** PACKET_HOST (0), PACKET_BROADCAST (1), PACKET_MULTICAST (2), PACKET_OTHERHOST (3), PACKET_OUTGOING (4). */
  readonly pkttype?: number;
  readonly ifindex?: number;
  readonly mark?: number;
  readonly queue?: number;
  /** dev->type, an ARPHRD_* value (1: Ethernet, 772: loopback). */
  readonly hatype?: number;
  readonly rxhash?: number;
  readonly cpu?: number;
  readonly vlanTci?: number;
  readonly vlanPresent?: boolean;
  readonly vlanTpid?: number;
  /** Offset of the transport payload (SKF_AD_PAY_OFFSET). */
  readonly payOffset?: number;
  /** Offsets of the network and link headers, for SKF_NET_OFF and SKF_LL_OFF loads. */
  readonly networkOffset?: number;
  readonly macOffset?: number;
  /** Source of SKF_AD_RANDOM; defaults to Math.random. */
  readonly random?: () => number;
}

export interface CbpfPrepareOptions {
  readonly skb?: SkbMeta;
  /** 'libpcap' (default) or 'linux'; see the module comment. */
  readonly dialect?: 'libpcap' | 'linux';
  /** Backward jumps allowed per run before CbpfLoopError (libpcap dialect; default 65536). */
  readonly loopBudget?: number;
}

export interface PrepareCbpfOptions extends CbpfPrepareOptions {
  /** Compile the filter to a JavaScript function when possible (libpcap dialect; default true). */
  readonly compile?: boolean;
}

export interface CbpfRunOptions extends CbpfPrepareOptions {
  /** Length of the packet on the wire (`ld #len`); defaults to the captured length. */
  readonly wirelen?: number;
}

/** Default number of backward jumps a run may take: protochain needs one per extension header. */
export const CBPF_LOOP_BUDGET = 65536;

/** Internal opcodes beside the classic ones (which keep their values). */
const OP_ANC = 0x1000; // ancillary load: k is an index into ANC_FIELDS
const OP_NEG_LD = 0x1001; // Linux negative-offset absolute load: k is the offset, jt the size
const OP_JA_BACK = 0x1002; // backward ja: counts against the loop budget
const OP_FAIL = 0x1003; // throws errors[pc]
const OP_RET0 = 0x1004; // a load that can never succeed (libpcap and negative offsets)

const ANC_FIELDS: readonly AncillaryField[] = [
  'protocol', 'pkttype', 'ifindex', 'nlattr', 'nlattr_nest', 'mark', 'queue', 'hatype', 'rxhash', 'cpu', 'alu_xor_x',
  'vlan_tag', 'vlan_tag_present', 'pay_offset', 'random', 'vlan_tpid',
];

/** A filter lowered for fast runs: jt/jf hold absolute targets; slot `length` is "ran past the end". */
interface Lowered {
  readonly code: Uint16Array;
  readonly k: Uint32Array;
  readonly jt: Int32Array;
  readonly jf: Int32Array;
  readonly errors: Map<number, CbpfError>;
}

const MEM_OPS = new Set([0x60, 0x61, 0x02, 0x03]);
const KNOWN = new Set([
  0x06, 0x16, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x80, 0x81, 0x00, 0x01, 0x60, 0x61, 0x02, 0x03, 0xb1, 0x05,
  0x15, 0x25, 0x35, 0x45, 0x1d, 0x2d, 0x3d, 0x4d, 0x04, 0x14, 0x24, 0x34, 0x94, 0x54, 0x44, 0xa4, 0x64, 0x74,
  0x0c, 0x1c, 0x2c, 0x3c, 0x9c, 0x5c, 0x4c, 0xac, 0x6c, 0x7c, 0x84, 0x07, 0x87,
]);

function lower(filter: readonly SockFilter[], linux: boolean): Lowered {
  const n = filter.length;
  const code = new Uint16Array(n + 1);
  const k = new Uint32Array(n + 1);
  const jt = new Int32Array(n + 1);
  const jf = new Int32Array(n + 1);
  const errors = new Map<number, CbpfError>();
  const fail = (pc: number, e: CbpfError) => {
    code[pc] = OP_FAIL;
    errors.set(pc, e);
  };
  fail(n, new CbpfError('execution ran past the last instruction', n));
  for (let pc = 0; pc < n; pc++) {
    const f = filter[pc];
    const kk = f.k >>> 0;
    code[pc] = f.code;
    k[pc] = kk;
    // Targets past the end land on the "ran past" slot, as running off the program would.
    jt[pc] = Math.min(pc + 1 + f.jt, n);
    jf[pc] = Math.min(pc + 1 + f.jf, n);
    if (!KNOWN.has(f.code)) {
      fail(pc, new CbpfError(`opcode 0x${f.code.toString(16)} is not a classic BPF instruction`, pc));
    } else if (MEM_OPS.has(f.code) && kk >= BPF_MEMWORDS) {
      fail(pc, new CbpfError(`scratch memory index ${kk} out of range`, pc));
    } else if (f.code === 0x05) {
      const target = pc + 1 + (linux ? kk : kk | 0);
      if (target < 0 || target >= n) fail(pc, new CbpfError(`jump by ${linux ? kk : kk | 0} goes past the end of the program`, pc));
      else {
        jt[pc] = target;
        if (target <= pc) code[pc] = OP_JA_BACK;
      }
    } else if ((f.code === 0x20 || f.code === 0x28 || f.code === 0x30) && kk >= 0x80000000) {
      const field = kk >= SKF_AD_OFF ? ancillaryField(kk) : undefined;
      if (field !== undefined) {
        code[pc] = OP_ANC;
        k[pc] = ANC_FIELDS.indexOf(field);
      } else if (linux && kk >= SKF_LL_OFF && kk < SKF_AD_OFF) {
        code[pc] = OP_NEG_LD;
        jt[pc] = f.code === 0x20 ? 4 : f.code === 0x28 ? 2 : 1;
      } else code[pc] = OP_RET0;
    } else if (f.code === 0xb1 && kk >= 0x80000000) {
      if (linux && kk >= SKF_LL_OFF && kk < SKF_AD_OFF) {
        code[pc] = OP_NEG_LD;
        jt[pc] = 0; // size 0 marks the ldxb 4*([k]&0xf) form
      } else code[pc] = OP_RET0;
    }
  }
  return { code, k, jt, jf, errors };
}

/** Map a Linux negative offset onto the packet, or -1 when nothing is there. */
function negativeOffset(off: number, skb: SkbMeta): number {
  if (off >= SKF_NET_OFF && off < SKF_AD_OFF) return skb.networkOffset === undefined ? -1 : off - SKF_NET_OFF + skb.networkOffset;
  if (off >= SKF_LL_OFF && off < SKF_NET_OFF) return off - SKF_LL_OFF + (skb.macOffset ?? 0);
  return -1;
}

/** Big-endian load of size bytes at off of the packet at buf[start..start+caplen), or -1 when out of bounds. */
function load(buf: Uint8Array, start: number, caplen: number, off: number, size: number): number {
  if (off < 0 || off + size > caplen) return -1;
  const p = start + off;
  if (size === 1) return buf[p];
  if (size === 2) return (buf[p] << 8) | buf[p + 1];
  return ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
}

function ancillary(field: AncillaryField, skb: SkbMeta, buf: Uint8Array, start: number, caplen: number, A: number, X: number): number {
  switch (field) {
    case 'protocol': return (skb.protocol ?? 0) & 0xffff;
    case 'pkttype': return (skb.pkttype ?? 0) & 7;
    case 'ifindex': return (skb.ifindex ?? 0) >>> 0;
    case 'mark': return (skb.mark ?? 0) >>> 0;
    case 'queue': return (skb.queue ?? 0) & 0xffff;
    case 'hatype': return (skb.hatype ?? 0) & 0xffff;
    case 'rxhash': return (skb.rxhash ?? 0) >>> 0;
    case 'cpu': return (skb.cpu ?? 0) >>> 0;
    case 'alu_xor_x': return (A ^ X) >>> 0;
    case 'vlan_tag': return (skb.vlanTci ?? 0) & 0xffff;
    case 'vlan_tag_present': return skb.vlanPresent ? 1 : 0;
    case 'vlan_tpid': return (skb.vlanTpid ?? 0) & 0xffff;
    case 'pay_offset': return (skb.payOffset ?? 0) >>> 0;
    case 'random': return Math.floor((skb.random ?? Math.random)() * 0x100000000) >>> 0;
    case 'nlattr': case 'nlattr_nest': return netlinkAttr(buf.subarray(start, start + caplen), A, X, field === 'nlattr_nest');
  }
}

/** Scratch memory, reused across runs (runs never nest: nothing here calls back into a filter). */
const mem = new Uint32Array(BPF_MEMWORDS);

function execute(
  p: Lowered, buf: Uint8Array, start: number, caplen: number, wirelen: number, skb: SkbMeta, linux: boolean, budget: number,
): number {
  const { code, k: ks, jt, jf } = p;
  mem.fill(0);
  let A = 0;
  let X = 0;
  let pc = 0;
  let v = 0;
  for (;;) {
    const k = ks[pc];
    switch (code[pc]) {
      case 0x06: return k;
      case 0x16: return A;
      case 0x20:
        if (k > caplen - 4) return 0;
        v = start + k;
        A = ((buf[v] << 24) | (buf[v + 1] << 16) | (buf[v + 2] << 8) | buf[v + 3]) >>> 0;
        break;
      case 0x28:
        if (k > caplen - 2) return 0;
        v = start + k;
        A = (buf[v] << 8) | buf[v + 1];
        break;
      case 0x30:
        if (k >= caplen) return 0;
        A = buf[start + k];
        break;
      case 0x40: case 0x48: case 0x50: {
        const size = code[pc] === 0x40 ? 4 : code[pc] === 0x48 ? 2 : 1;
        let off = X + k;
        if (linux) {
          off >>>= 0;
          if (off >= 0x80000000) off = negativeOffset(off, skb);
        }
        v = load(buf, start, caplen, off, size);
        if (v < 0) return 0;
        A = v;
        break;
      }
      case 0xb1:
        if (k >= caplen) return 0;
        X = (buf[start + k] & 0xf) << 2;
        break;
      case OP_NEG_LD: {
        const size = jt[pc];
        v = load(buf, start, caplen, negativeOffset(k, skb), size === 0 ? 1 : size);
        if (v < 0) return 0;
        if (size === 0) X = (v & 0xf) << 2;
        else A = v;
        break;
      }
      case OP_ANC:
        v = ancillary(ANC_FIELDS[k], skb, buf, start, caplen, A, X);
        A = v;
        break;
      case OP_RET0: return 0;
      case 0x80: A = wirelen >>> 0; break;
      case 0x81: X = wirelen >>> 0; break;
      case 0x00: A = k; break;
      case 0x01: X = k; break;
      case 0x60: A = mem[k]; break;
      case 0x61: X = mem[k]; break;
      case 0x02: mem[k] = A; break;
      case 0x03: mem[k] = X; break;
      case 0x05: pc = jt[pc]; continue;
      case OP_JA_BACK:
        if (--budget < 0) throw new CbpfLoopError('the program jumps backwards more than its loop budget allows (it loops)', pc);
        pc = jt[pc];
        continue;
      case 0x15: pc = A === k ? jt[pc] : jf[pc]; continue;
      case 0x25: pc = A > k ? jt[pc] : jf[pc]; continue;
      case 0x35: pc = A >= k ? jt[pc] : jf[pc]; continue;
      case 0x45: pc = (A & k) !== 0 ? jt[pc] : jf[pc]; continue;
      case 0x1d: pc = A === X ? jt[pc] : jf[pc]; continue;
      case 0x2d: pc = A > X ? jt[pc] : jf[pc]; continue;
      case 0x3d: pc = A >= X ? jt[pc] : jf[pc]; continue;
      case 0x4d: pc = (A & X) !== 0 ? jt[pc] : jf[pc]; continue;
      case 0x04: A = (A + k) >>> 0; break;
      case 0x14: A = (A - k) >>> 0; break;
      case 0x24: A = Math.imul(A, k) >>> 0; break;
      case 0x34: if (k === 0) return 0; A = Math.floor(A / k) >>> 0; break;
      case 0x94: if (k === 0) return 0; A = (A % k) >>> 0; break;
      case 0x54: A = (A & k) >>> 0; break;
      case 0x44: A = (A | k) >>> 0; break;
      case 0xa4: A = (A ^ k) >>> 0; break;
      case 0x64: A = k >= 32 ? (linux ? (A << (k & 31)) >>> 0 : 0) : (A << k) >>> 0; break;
      case 0x74: A = k >= 32 ? (linux ? A >>> (k & 31) : 0) : A >>> k; break;
      case 0x0c: A = (A + X) >>> 0; break;
      case 0x1c: A = (A - X) >>> 0; break;
      case 0x2c: A = Math.imul(A, X) >>> 0; break;
      case 0x3c: if (X === 0) return 0; A = Math.floor(A / X) >>> 0; break;
      case 0x9c: if (X === 0) return 0; A = (A % X) >>> 0; break;
      case 0x5c: A = (A & X) >>> 0; break;
      case 0x4c: A = (A | X) >>> 0; break;
      case 0xac: A = (A ^ X) >>> 0; break;
      case 0x6c: A = X >= 32 ? (linux ? (A << (X & 31)) >>> 0 : 0) : (A << X) >>> 0; break;
      case 0x7c: A = X >= 32 ? (linux ? A >>> (X & 31) : 0) : A >>> X; break;
      case 0x84: A = -A >>> 0; break;
      case 0x07: X = A; break;
      case 0x87: A = X; break;
      default:
        throw p.errors.get(pc) ?? new CbpfError(`opcode 0x${code[pc].toString(16)} is not a classic BPF instruction`, pc);
    }
    pc++;
  }
}

const NO_SKB: SkbMeta = {};
const NO_OPTIONS: CbpfRunOptions = {};

/** A filter prepared for many runs with fixed options. */
export class PreparedCbpf {
  readonly #lowered: Lowered;
  readonly #skb: SkbMeta;
  readonly #linux: boolean;
  readonly #budget: number;
  readonly #compiled: CompiledCbpf | undefined;

  constructor(filter: readonly SockFilter[], opts: PrepareCbpfOptions = NO_OPTIONS) {
    this.#linux = opts.dialect === 'linux';
    this.#lowered = lower(filter, this.#linux);
    this.#skb = opts.skb ?? NO_SKB;
    this.#budget = opts.loopBudget ?? CBPF_LOOP_BUDGET;
    this.#compiled = this.#linux || opts.compile === false ? undefined : compileCbpfToJs(filter, this.#budget);
  }

  /** Whether runs use the filter compiled to JavaScript (else the interpreter). */
  get compiled(): boolean {
    return this.#compiled !== undefined;
  }

  /** `run` as a plain function (the compiled one itself when there is one): the cheapest thing to call in a loop. */
  asFunction(): CompiledCbpf {
    if (this.#compiled !== undefined) return this.#compiled;
    const { lowered, skb, linux, budget } = { lowered: this.#lowered, skb: this.#skb, linux: this.#linux, budget: this.#budget };
    return (buf, start, caplen, wirelen) => execute(lowered, buf, start, caplen, wirelen, skb, linux, budget);
  }

  /** Run on the caplen bytes of buf from start: 0 rejects the packet, anything else is the snap length to keep. */
  run(buf: Uint8Array, start = 0, caplen = buf.length - start, wirelen = caplen): number {
    if (this.#compiled !== undefined) return this.#compiled(buf, start, caplen, wirelen);
    return execute(this.#lowered, buf, start, caplen, wirelen, this.#skb, this.#linux, this.#budget);
  }
}

export function prepareCbpf(filter: readonly SockFilter[], opts: PrepareCbpfOptions = NO_OPTIONS): PreparedCbpf {
  return new PreparedCbpf(filter, opts);
}

/** runCbpf's per-filter state: the lowered form, and the compiled function once the filter has run often. */
interface CacheEntry {
  readonly lowered: Lowered;
  runs: number;
  /** undefined: not tried yet; null: cannot be compiled. */
  compiled: CompiledCbpf | null | undefined;
}

/** Runs after which runCbpf compiles a (libpcap-dialect) filter: one-off runs stay cheap, repeated ones get fast. */
const COMPILE_AFTER = 64;

/** Lowered filters by array identity and dialect: filters are read-only, so runCbpf lowers each once. */
const cache: [WeakMap<readonly SockFilter[], CacheEntry>, WeakMap<readonly SockFilter[], CacheEntry>] = [new WeakMap(), new WeakMap()];

/**
 * Run a filter on one packet: 0 rejects it, anything else is the snap length
 * to keep. The lowered form (and, for a filter run many times in the libpcap
 * dialect, its compiled form) is cached by the array's identity: do not
 * change a filter array after running it (prepareCbpf gives explicit control).
 */
export function runCbpf(filter: readonly SockFilter[], packet: Uint8Array, opts: CbpfRunOptions = NO_OPTIONS): number {
  const linux = opts.dialect === 'linux';
  const byFilter = cache[linux ? 1 : 0];
  let entry = byFilter.get(filter);
  if (entry === undefined) {
    entry = { lowered: lower(filter, linux), runs: 0, compiled: linux ? null : undefined };
    byFilter.set(filter, entry);
  }
  const wirelen = opts.wirelen ?? packet.length;
  const budget = opts.loopBudget ?? CBPF_LOOP_BUDGET;
  if (entry.compiled !== null && budget === CBPF_LOOP_BUDGET) {
    if (entry.compiled !== undefined) return entry.compiled(packet, 0, packet.length, wirelen);
    if (++entry.runs >= COMPILE_AFTER) entry.compiled = compileCbpfToJs(filter, CBPF_LOOP_BUDGET) ?? null;
  }
  return execute(entry.lowered, packet, 0, packet.length, wirelen, opts.skb ?? NO_SKB, linux, budget);
}

const rd16le = (p: Uint8Array, o: number): number => p[o] | (p[o + 1] << 8);

/**
 * SKF_AD_NLATTR(_NEST): offset of the netlink attribute of type X in the
 * attribute stream at offset A (or nested inside the attribute at A), 0 if absent.
 */
function netlinkAttr(p: Uint8Array, a: number, x: number, nested: boolean): number {
  if (p.length < 4 || a > p.length - 4) return 0;
  let start = a;
  let end = p.length;
  if (nested) {
    const len = rd16le(p, a);
    if (len < 4 || len > p.length - a) return 0;
    start = a + 4;
    end = a + len;
  }
  for (let o = start; o + 4 <= end; ) {
    const len = rd16le(p, o);
    if (len < 4 || len > end - o) return 0;
    if ((rd16le(p, o + 2) & 0x3fff) === x) return o;
    o += (len + 3) & ~3;
  }
  return 0;
}
