/**
 * compileFilter: expression text -> classic BPF, the way pcap_compile does it:
 * parse, generate blocks, optimize (unless disabled or protochain is used),
 * then lay out the program.
 */
import type { SockFilter } from '../../cbpf/insn.js';
import { assemble } from './assemble.js';
import { FilterError } from './errors.js';
import {
  ADD, AND, type Arth, CodeGen, DIV, JEQ, JGE, JGT, LSH, type LinkType, MOD, MUL, OR, type Qual, RSH, SUB, XOR,
} from './gencode.js';
import { type Block, genAnd, genNot, genOr } from './ir.js';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, PROTO_UNDEF, nameToEtherProto, nameToPort, nameToPortRange, nameToProto } from './names.js';
import { optimizeIcode } from './optimize.js';
import { genGeneve, genMpls, genPppoed, genPppoes, genVlan } from './encap.js';
import { SKF_AD_OFF } from '../../cbpf/ancillary.js';

const SKF_AD_PKTTYPE = 4;
const SKF_AD_IFINDEX = 8;
import { type ArthNode, type FilterNode, FilterSyntaxError, parseFilter } from './parser.js';

export interface CompileOptions {
  /** Link-layer header type of the packets (default Ethernet). */
  readonly linkType?: LinkType;
  /** Run libpcap's optimizer (tcpdump without -O). Default true. */
  readonly optimize?: boolean;
  /** Value returned for accepted packets. Default 262144. */
  readonly snaplen?: number;
  /**
   * IPv4 netmask for `ip broadcast`. Default 0, what tcpdump passes when
   * reading a capture file; 'unknown' makes `ip broadcast` an error.
   */
  readonly netmask?: number | 'unknown';
  /**
   * Compile for a live Linux capture, as `tcpdump -i IFACE -d` does, instead
   * of for a capture file: the first `vlan` also matches tags the kernel
   * stripped into skb metadata, and `inbound`/`outbound`/`ifindex` read the
   * packet type and interface from SKF_AD_* ancillary data. Use this for
   * filters attached to AF_PACKET sockets.
   */
  readonly live?: boolean;
}

const ARITH_CODE: Record<string, number> = {
  '+': ADD, '-': SUB, '*': MUL, '/': DIV, '%': MOD, '&': AND, '|': OR, '^': XOR, '<<': LSH, '>>': RSH,
};

/** __pcap_atoin: dotted decimal -> value and number of bits given (-1 if malformed). */
function atoin(s: string): { v: number; len: number } {
  let v = 0;
  let len = 0;
  for (const part of s.split('.')) {
    let n = 0;
    for (const c of part) {
      if (n > 25) return { v: 0, len: -1 };
      n = n * 10 + (c.charCodeAt(0) - 48);
    }
    if (n > 255) return { v: 0, len: -1 };
    v = ((v << 8) | n) >>> 0;
    len += 8;
  }
  return { v, len };
}

function etherAton(s: string): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ':' || s[i] === '.' || s[i] === '-') i++;
    let d = parseInt(s[i]!, 16);
    i++;
    if (i < s.length && /[0-9A-Fa-f]/.test(s[i]!)) {
      d = d * 16 + parseInt(s[i]!, 16);
      i++;
    }
    out.push(d);
  }
  return out;
}

/** Parse an IPv6 address into four big-endian 32-bit words (undefined if malformed). */
function parseIpv6(s: string): number[] | undefined {
  let head = s;
  let v4: number[] = [];
  const m = /^(.*:)([0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)$/.exec(s);
  if (m) {
    const a = atoin(m[2]!);
    if (a.len !== 32) return undefined;
    v4 = [a.v >>> 16, a.v & 0xffff];
    head = m[1]!.endsWith('::') ? m[1]! : m[1]!.slice(0, -1);
  }
  const groups: number[] = [];
  const dbl = head.indexOf('::');
  const parse = (x: string): number[] | undefined => {
    if (x === '') return [];
    const out: number[] = [];
    for (const g of x.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  if (dbl >= 0) {
    const l = parse(head.slice(0, dbl));
    const r = parse(head.slice(dbl + 2));
    if (!l || !r) return undefined;
    const fill = 8 - l.length - r.length - v4.length;
    if (fill < 1) return undefined;
    groups.push(...l, ...new Array<number>(fill).fill(0), ...r, ...v4);
  } else {
    const g = parse(head);
    if (!g) return undefined;
    groups.push(...g, ...v4);
  }
  if (groups.length !== 8) return undefined;
  return [0, 1, 2, 3].map((i) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0);
}

class Compiler {
  constructor(readonly g: CodeGen) {}

  arth(a: ArthNode): Arth {
    switch (a.k) {
      case 'num':
        return this.g.loadI(a.v);
      case 'len':
        return this.g.loadLen();
      case 'neg':
        return this.g.neg(this.arth(a.a));
      case 'load':
        return this.at(a.pos, () => this.g.load(a.proto, this.arth(a.idx), a.size));
      case 'bin': {
        const l = this.arth(a.l);
        const r = this.arth(a.r);
        return this.at(a.pos, () => this.g.arth(ARITH_CODE[a.op]!, l, r));
      }
    }
  }

  /** Attach a position to errors raised without one. */
  private at<T>(pos: number, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof FilterError && e.position === undefined) throw new FilterError(e.reason, pos);
      throw e;
    }
  }

  node(n: FilterNode): Block {
    switch (n.k) {
      case 'and':
      case 'or': {
        // `a or b or c ...` parses left-deep: walk that spine with a loop, not
        // recursion (thousands of alternatives), in the recursive order: left, right, join.
        const spine: FilterNode[] = [];
        let leftmost: FilterNode = n;
        while (leftmost.k === 'and' || leftmost.k === 'or') {
          spine.push(leftmost);
          leftmost = leftmost.l;
        }
        let b = this.node(leftmost);
        for (let i = spine.length - 1; i >= 0; i--) {
          const m = spine[i] as Extract<FilterNode, { k: 'and' | 'or' }>;
          const r = this.node(m.r);
          if (m.k === 'and') genAnd(b, r);
          else genOr(b, r);
          b = r;
        }
        return b;
      }
      case 'not': {
        const b = this.node(n.e);
        genNot(b);
        return b;
      }
      case 'abbrev':
        return this.at(n.pos, () => this.g.protoAbbrev(n.proto));
      case 'rel': {
        const a0 = this.arth(n.a0);
        const a1 = this.arth(n.a1);
        const [code, rev] = ({ '>': [JGT, false], '>=': [JGE, false], '=': [JEQ, false], '<=': [JGT, true], '<': [JGE, true], '!=': [JEQ, true] } as Record<string, [number, boolean]>)[n.op]!;
        return this.at(n.pos, () => this.g.relation(code, a0, a1, rev));
      }
      case 'ncode':
        return this.at(n.pos, () => this.ncode(n.text, n.v, n.q));
      case 'scode':
        return this.at(n.pos, () => this.scode(n.name, n.q));
      case 'mcode':
        return this.at(n.pos, () => this.mcode(n.s1, n.s2, n.masklen, n.q));
      case 'mcode6':
        return this.at(n.pos, () => this.mcode6(n.s1, n.masklen, n.q));
      case 'ecode':
        return this.at(n.pos, () => this.ecode(n.s, n.q));
      case 'fail':
        throw new FilterError(n.msg, n.pos);
      case 'other':
        return this.at(n.pos, () => this.other(n));
    }
  }

  private other(n: Extract<FilterNode, { k: 'other' }>): Block {
    const g = this.g;
    switch (n.what) {
      case 'less': return g.less(n.n);
      case 'greater': return g.greater(n.n);
      case 'byte': return g.byteop(n.op, n.n, n.n2);
      case 'broadcast': return g.broadcast(n.proto);
      case 'multicast': return g.multicast(n.proto);
      case 'vlan': return genVlan(g, n.n, n.has);
      case 'mpls': return genMpls(g, n.n, n.has);
      case 'pppoed': return genPppoed(g);
      case 'pppoes': return genPppoes(g, n.n, n.has);
      case 'inbound':
      case 'outbound': {
        const out = n.what === 'outbound';
        if (g.linktype === 'LINUX_SLL' || g.linktype === 'LINUX_SLL2') {
          const b = g.linktype === 'LINUX_SLL' ? g.cmp('linkhdr', 0, 0x08, 4) : g.cmp('linkhdr', 10, 0x10, 4);
          if (!out) genNot(b);
          return b;
        }
        if (g.live) {
          // PACKET_OUTGOING in the skb's pkt_type.
          const b = g.cmp('linkhdr', SKF_AD_OFF + SKF_AD_PKTTYPE, 0x08, 4);
          if (!out) genNot(b);
          return b;
        }
        return g.error(`inbound/outbound not supported on ${g.description()} when reading savefiles`);
      }
      case 'llc':
        return this.llc(n.has ? n.op : '');
      case 'ifindex':
        if (g.linktype === 'LINUX_SLL2') return g.cmp('linkhdr', 4, 0x00, n.n);
        if (g.live) return g.cmp('linkhdr', SKF_AD_OFF + SKF_AD_IFINDEX, 0x00, n.n);
        return g.error(`ifindex not supported on ${g.description()} when reading savefiles`);
      case 'geneve':
        return genGeneve(g, n.n, n.has);
    }
    return g.error("can't parse filter expression: syntax error");
  }

  private llc(kind: string): Block {
    const g = this.g;
    const name = kind.toLowerCase();
    const S: Record<string, number> = { rr: 0x01, rnr: 0x05, rej: 0x09 };
    const U: Record<string, number> = { ui: 0x03, ua: 0x63, disc: 0x43, dm: 0x0f, sabme: 0x6f, test: 0xe3, xid: 0xaf, frmr: 0x87 };
    if (kind !== '' && !['i', 's', 'u'].includes(name) && !Object.hasOwn(S, name) && !Object.hasOwn(U, name)) {
      g.error(`unknown LLC type name "${kind}"`);
    }
    if (g.linktype !== 'EN10MB') g.error(`'llc' not supported for ${g.description()}`);
    // An 802.3 frame (length, not type) that is not Novell "raw" 802.3.
    const b0 = g.cmpGt('linktype', 0, 0x08, 1500);
    genNot(b0);
    let b1 = g.cmp('llc', 0, 0x08, 0xffff);
    genNot(b1);
    genAnd(b0, b1);
    if (kind === '') return b1;
    const base = b1;
    if (name === 'i') {
      b1 = g.jsetBlock(g.loadA('llc', 2, 0x10), 0x01);
      genNot(b1);
    } else if (name === 's') b1 = g.mcmp('llc', 2, 0x10, 1, 0x03);
    else if (name === 'u') b1 = g.mcmp('llc', 2, 0x10, 3, 0x03);
    else if (Object.hasOwn(S, name)) b1 = g.mcmp('llc', 2, 0x10, S[name]!, 0x0f);
    else b1 = g.mcmp('llc', 2, 0x10, U[name]!, 0xef);
    genAnd(base, b1);
    return b1;
  }

  private portProto(q: Qual, what: 'port' | 'portrange'): number {
    switch (q.proto) {
      case 'udp': return IPPROTO_UDP;
      case 'tcp': return IPPROTO_TCP;
      case 'sctp': return IPPROTO_SCTP;
      case 'default': return PROTO_UNDEF;
      default: return this.g.error(`illegal qualifier of '${what}'`);
    }
  }

  private ncode(s: string | null, v: number, q: Qual): Block {
    const g = this.g;
    let vlen = 32;
    if (s !== null && q.proto === 'decnet') {
      // __pcap_atodn: "area.node".
      const m = /^(-?[0-9]+)\.(-?[0-9]+)/.exec(s);
      if (!m) g.error(`malformed decnet address '${s}'`);
      v = (((Number(m![1]) << 10) & 0xfc00) | (Number(m![2]) & 0x3ff)) >>> 0;
    } else if (s !== null) {
      const a = atoin(s);
      if (a.len < 0) g.error(`invalid IPv4 address '${s}'`);
      v = a.v;
      vlen = a.len;
    }
    switch (q.addr) {
      case 'default':
      case 'host':
      case 'net': {
        if (q.proto === 'decnet') return g.host(v, 0, q.proto, q.dir, q.addr === 'net');
        if (q.proto === 'link') g.error('illegal link layer address');
        let mask = 0xffffffff;
        if (s === null && q.addr === 'net') {
          while (v && (v & 0xff000000) === 0) {
            v = (v << 8) >>> 0;
            mask = (mask << 8) >>> 0;
          }
        } else if (vlen < 32) {
          v = (v << (32 - vlen)) >>> 0;
          mask = (mask << (32 - vlen)) >>> 0;
        }
        return g.host(v, mask, q.proto, q.dir, q.addr === 'net');
      }
      case 'port': {
        const proto = this.portProto(q, 'port');
        if (v > 65535) g.error(`illegal port number ${v} > 65535`);
        return g.port(v, proto, q.dir);
      }
      case 'portrange': {
        const proto = this.portProto(q, 'portrange');
        if (v > 65535) g.error(`illegal port number ${v} > 65535`);
        return g.portrange(v, v, proto, q.dir);
      }
      case 'gateway':
        return g.error("'gateway' requires a name");
      case 'proto':
        return g.proto(v, q.proto, q.dir);
      case 'protochain':
        return g.protochain(v, q.proto);
      case 'undef':
        return g.error('syntax error in filter expression');
    }
  }

  private lookupProto(name: string, proto: Qual['proto']): number {
    switch (proto) {
      case 'default':
      case 'ip':
      case 'ip6': {
        const v = nameToProto(name);
        if (v === undefined) this.g.error(`unknown ip proto '${name}'`);
        return v;
      }
      case 'link': {
        const v = nameToEtherProto(name);
        if (v === undefined) this.g.error(`unknown ether proto '${name}'`);
        return v;
      }
      case 'iso':
        if (name === 'esis') return 0x82;
        if (name === 'isis') return 0x83;
        if (name === 'clnp') return 0x81;
        return this.g.error(`unknown osi proto '${name}'`);
      default:
        return PROTO_UNDEF;
    }
  }

  private checkPortProto(q: Qual, real: number, name: string, what: string): number {
    const g = this.g;
    const other = (p: number): string => (p === IPPROTO_TCP ? 'tcp' : p === IPPROTO_UDP ? 'udp' : 'sctp');
    const want = q.proto === 'udp' ? IPPROTO_UDP : q.proto === 'tcp' ? IPPROTO_TCP : q.proto === 'sctp' ? IPPROTO_SCTP : PROTO_UNDEF;
    if (want === PROTO_UNDEF) return real;
    if (real !== PROTO_UNDEF && real !== want) g.error(`${what} '${name}' is ${other(real)}`);
    return want;
  }

  private scode(name: string, q: Qual): Block {
    const g = this.g;
    switch (q.addr) {
      case 'net':
        return g.error(`unknown network '${name}'`);
      case 'default':
      case 'host':
        if (q.proto === 'link') g.error(`unknown ether host '${name}'`);
        if (q.proto === 'decnet') g.error(`decnet name support not included, '${name}' cannot be translated`);
        return g.error(`unknown host '${name}'`);
      case 'port': {
        if (q.proto !== 'default' && q.proto !== 'udp' && q.proto !== 'tcp' && q.proto !== 'sctp') g.error("illegal qualifier of 'port'");
        const p = nameToPort(name);
        if (!p) return g.error(`unknown port '${name}'`);
        const real = this.checkPortProto(q, p.proto, name, 'port');
        if (p.port > 65535) g.error(`illegal port number ${p.port} > 65535`);
        return g.port(p.port, real, q.dir);
      }
      case 'portrange': {
        if (q.proto !== 'default' && q.proto !== 'udp' && q.proto !== 'tcp' && q.proto !== 'sctp') g.error("illegal qualifier of 'portrange'");
        const r = nameToPortRange(name);
        if (!r) return g.error(`unknown port in range '${name}'`);
        const real = this.checkPortProto(q, r.proto, name, 'port in range');
        for (const p of [r.port1, r.port2]) {
          if (p < 0) g.error(`illegal port number ${p} < 0`);
          if (p > 65535) g.error(`illegal port number ${p} > 65535`);
        }
        return g.portrange(r.port1, r.port2, real, q.dir);
      }
      case 'gateway':
        return g.error("'gateway' not supported in this configuration");
      case 'proto':
      case 'protochain': {
        const real = this.lookupProto(name, q.proto);
        if (real < 0) g.error(`unknown protocol: ${name}`);
        return q.addr === 'proto' ? g.proto(real, q.proto, q.dir) : g.protochain(real, q.proto);
      }
      case 'undef':
        return g.error('syntax error in filter expression');
    }
  }

  private mcode(s1: string, s2: string | null, masklen: number, q: Qual): Block {
    const g = this.g;
    const a = atoin(s1);
    if (a.len < 0) g.error(`invalid IPv4 address '${s1}'`);
    const n = a.len >= 32 ? a.v : (a.v << (32 - a.len)) >>> 0;
    let m: number;
    if (s2 !== null) {
      const b = atoin(s2);
      if (b.len < 0) g.error(`invalid IPv4 address '${s2}'`);
      m = b.len >= 32 ? b.v : (b.v << (32 - b.len)) >>> 0;
      if ((n & ~m) !== 0) g.error(`non-network bits set in "${s1} mask ${s2}"`);
    } else {
      if (masklen > 32) g.error('mask length must be <= 32');
      m = masklen === 0 ? 0 : (0xffffffff << (32 - masklen)) >>> 0;
      if ((n & ~m) !== 0) g.error(`non-network bits set in "${s1}/${masklen}"`);
    }
    if (q.addr !== 'net') g.error('Mask syntax for networks only');
    return g.host(n, m, q.proto, q.dir, true);
  }

  private mcode6(s1: string, masklen: number, q: Qual): Block {
    const g = this.g;
    const addr = parseIpv6(s1);
    if (!addr) return g.error(`invalid ip6 address ${s1}`);
    if (masklen > 128) g.error('mask length must be <= 128');
    const mask = [0, 1, 2, 3].map((i) => {
      const bits = Math.max(0, Math.min(32, masklen - 32 * i));
      return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    });
    if (addr.some((w, i) => (w & ~mask[i]!) !== 0)) g.error(`non-network bits set in "${s1}/${masklen}"`);
    switch (q.addr) {
      case 'default':
      case 'host':
      case 'net':
        if (q.addr !== 'net' && masklen !== 128) g.error('Mask syntax for networks only');
        return g.host6(addr, mask, q.proto, q.dir, q.addr === 'net');
      default:
        return g.error('invalid qualifier against IPv6 address');
    }
  }

  private ecode(s: string, q: Qual): Block {
    const g = this.g;
    if ((q.addr === 'host' || q.addr === 'default') && q.proto === 'link') {
      if (g.linktype !== 'EN10MB') g.error('ethernet addresses supported only on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel');
      return g.ehostopChecked(etherAton(s), q.dir);
    }
    return g.error('ethernet address used in non-ether expression');
  }
}

/**
 * Compile a pcap-filter(7) expression to classic BPF, as libpcap 1.10's
 * pcap_compile does for a capture file of the given link type.
 * Throws {@link FilterError} with libpcap's message for refused expressions.
 */
export function compileFilter(expr: string, options: CompileOptions = {}): SockFilter[] {
  const linkType = options.linkType ?? 'EN10MB';
  const snaplen = options.snaplen ?? 262144;
  if (snaplen === 0) throw new FilterError('snaplen of 0 rejects all packets');
  const netmask = options.netmask === 'unknown' ? undefined : (options.netmask ?? 0) >>> 0;
  let ast: FilterNode | null;
  try {
    ast = parseFilter(expr);
  } catch (e) {
    if (e instanceof FilterSyntaxError) {
      // Report what libpcap reports first: an error in a primitive it had already compiled.
      for (const node of e.completed) new Compiler(new CodeGen(linkType, snaplen >>> 0, netmask, options.live ?? false)).node(node);
    }
    throw e;
  }
  try {
    const g = new CodeGen(linkType, snaplen >>> 0, options.netmask === 'unknown' ? undefined : (options.netmask ?? 0) >>> 0, options.live ?? false);
    const ic = { root: ast ? g.finish(new Compiler(g).node(ast)) : g.retblk(snaplen >>> 0) };
    if ((options.optimize ?? true) && !g.noOptimize) {
      optimizeIcode(ic);
      if ((ic.root.s.code === 0x06) && ic.root.s.k === 0) throw new FilterError('expression rejects all packets');
    }
    return assemble(ic.root);
  } catch (e) {
    // The walks that matter are loops; this is the guard for any recursion left (a typed error, not a crash).
    if (e instanceof RangeError) throw new FilterError(`expression too complex to compile (${e.message})`);
    throw e;
  }
}

export type { LinkType };
