/**
 * Code generation for pcap filter primitives: each primitive becomes a small
 * block graph with the same shape libpcap's gencode.c builds, so that after
 * optimization the program matches `tcpdump -d`.
 */
import { FilterError } from './errors.js';
import { Block, type Slist, genAnd, genNot, genOr, backpatch, sappend, stmt } from './ir.js';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, PROTO_UNDEF } from './names.js';
import { insertComputeVloffsets } from './encap.js';
import { genLinktype } from './linktype.js';

export type LinkType = 'EN10MB' | 'RAW' | 'LINUX_SLL' | 'LINUX_SLL2' | 'NULL' | 'LOOP';

/** Protocol qualifiers (pname in the grammar). */
export type QProto =
  | 'default' | 'link' | 'ip' | 'arp' | 'rarp' | 'sctp' | 'tcp' | 'udp' | 'icmp' | 'igmp' | 'igrp' | 'pim' | 'vrrp'
  | 'carp' | 'radio' | 'ip6' | 'icmp6' | 'ah' | 'esp' | 'atalk' | 'aarp' | 'decnet' | 'lat' | 'sca' | 'moprc'
  | 'mopdl' | 'iso' | 'esis' | 'isis' | 'l1' | 'l2' | 'iih' | 'lsp' | 'snp' | 'csnp' | 'psnp' | 'clnp' | 'stp'
  | 'ipx' | 'netbeui' | 'undef';
export type QDir = 'default' | 'src' | 'dst' | 'or' | 'and' | 'addr1' | 'addr2' | 'addr3' | 'addr4' | 'ra' | 'ta' | 'undef';
export type QAddr = 'default' | 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'protochain' | 'gateway' | 'undef';

export interface Qual {
  readonly proto: QProto;
  readonly dir: QDir;
  readonly addr: QAddr;
}
export const QERR: Qual = { proto: 'undef', dir: 'undef', addr: 'undef' };

/** An arithmetic value: code that leaves it in scratch register `regno`, plus guards. */
export interface Arth {
  s: Slist;
  regno: number;
  b: Block | null;
}

// BPF opcode pieces.
export const LD = 0x00, LDX = 0x01, ST = 0x02, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
export const W = 0x00, H = 0x08, B = 0x10;
export const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
export const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0;
export const JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
export const JA = 0x00;
const X = 0x08;
const TAX = 0x00, TXA = 0x80;

export const ETHERTYPE = {
  IP: 0x0800, ARP: 0x0806, NS: 0x0600, MOPDL: 0x6001, MOPRC: 0x6002, DN: 0x6003, LAT: 0x6004, SCA: 0x6007,
  REVARP: 0x8035, ATALK: 0x809b, AARP: 0x80f3, Q8021: 0x8100, IPX: 0x8137, IPV6: 0x86dd, MPLS: 0x8847,
  PPPOED: 0x8863, PPPOES: 0x8864, AD8021: 0x88a8, QINQ8021: 0x9100,
} as const;
export const LLCSAP = { IP: 0x06, ISONS: 0xfe, NETBEUI: 0xf0, IPX: 0xe0, SNAP: 0xaa, D8021: 0x42 } as const;
const ISO = { CLNP: 0x81, ESIS: 0x82, ISIS: 0x83 } as const;
const ISIS = { L1_LAN_IIH: 15, L2_LAN_IIH: 16, PTP_IIH: 17, L1_LSP: 18, L2_LSP: 20, L1_CSNP: 24, L2_CSNP: 25, L1_PSNP: 26, L2_PSNP: 27 } as const;
export const PPP = { IP: 0x21, OSI: 0x23, NS: 0x25, DECNET: 0x27, APPLE: 0x29, IPX: 0x2b, BRPDU: 0x31, IPV6: 0x57, MPLS_UCAST: 0x281 } as const;

type OffRel =
  | 'packet' | 'linkhdr' | 'prevlinkhdr' | 'llc' | 'prevmplshdr' | 'linkpl' | 'linkpl_nosnap' | 'linktype' | 'tran_ipv4' | 'tran_ipv6';

export interface AbsOffset {
  constantPart: number;
  isVariable: boolean;
  reg: number;
}

/** Sentinel for "this link type has no such field". */
const OFFSET_NOT_SET = 0xffffffff;

type Dlt = LinkType | 'PPP';

const IPPROTO = { ICMP: 1, IGMP: 2, IGRP: 9, PIM: 103, VRRP: 112, CARP: 112, ICMPV6: 58, AH: 51, ESP: 50, FRAGMENT: 44, HOPOPTS: 0, DSTOPTS: 60, ROUTING: 43, NONE: 59 } as const;

export class CodeGen {
  linktype: Dlt;
  outermostlinktype: Dlt;
  prevlinktype: Dlt;
  offLinkhdr: AbsOffset = { constantPart: 0, isVariable: false, reg: -1 };
  offPrevlinkhdr: AbsOffset = { constantPart: 0, isVariable: false, reg: -1 };
  offOutermostlinkhdr: AbsOffset = { constantPart: 0, isVariable: false, reg: -1 };
  offLinkpl: AbsOffset = { constantPart: 0, isVariable: false, reg: -1 };
  offLinktype: AbsOffset = { constantPart: 0, isVariable: false, reg: -1 };
  offNl = 0;
  offNlNosnap = 0;
  labelStackDepth = 0;
  vlanStackDepth = 0;
  isVlanVloffset = false;
  /** After `geneve`: the inner Ethernet frame is at a variable offset. */
  isGeneve = false;
  noOptimize = false;
  private regused = new Array<boolean>(16).fill(false);
  private curreg = 0;

  /**
   * `live`: compile for a live Linux capture rather than a capture file: VLAN
   * tags come from the kernel's ancillary data, inbound/outbound and ifindex
   * from SKF_AD_* loads, and DLT_NULL's AF_INET6 is Linux's.
   */
  constructor(linkType: LinkType, readonly snaplen: number, readonly netmask: number | undefined = 0, readonly live = false) {
    this.linktype = this.outermostlinktype = this.prevlinktype = linkType;
    switch (linkType) {
      case 'EN10MB':
        this.offLinktype.constantPart = 12;
        this.offLinkpl.constantPart = 14;
        this.offNl = 0;
        this.offNlNosnap = 3;
        break;
      case 'NULL':
      case 'LOOP':
        this.offLinktype.constantPart = 0;
        this.offLinkpl.constantPart = 4;
        break;
      case 'RAW':
        this.offLinktype.constantPart = OFFSET_NOT_SET;
        this.offLinkpl.constantPart = 0;
        break;
      case 'LINUX_SLL':
        this.offLinktype.constantPart = 14;
        this.offLinkpl.constantPart = 16;
        break;
      case 'LINUX_SLL2':
        this.offLinktype.constantPart = 0;
        this.offLinkpl.constantPart = 20;
        break;
    }
    this.offOutermostlinkhdr = { ...this.offLinkhdr };
    this.offPrevlinkhdr = { ...this.offLinkhdr };
  }

  error(msg: string): never {
    throw new FilterError(msg);
  }

  // ---- registers ----
  allocReg(): number {
    let n = 16;
    while (--n >= 0) {
      if (this.regused[this.curreg]) this.curreg = (this.curreg + 1) % 16;
      else {
        this.regused[this.curreg] = true;
        return this.curreg;
      }
    }
    this.error('too many registers needed to evaluate expression');
  }

  freeReg(n: number): void {
    this.regused[n] = false;
  }

  // ---- basic builders ----
  retblk(v: number): Block {
    return new Block(RET | 0x00, v);
  }

  absOffsetVarpart(off: AbsOffset): Slist | null {
    if (off.isVariable) {
      if (off.reg === -1) off.reg = this.allocReg();
      return stmt(LDX | MEM, off.reg);
    }
    return null;
  }

  private loadAbsOffsetRel(off: AbsOffset, offset: number, size: number): Slist {
    const s = this.absOffsetVarpart(off);
    if (s) {
      sappend(s, stmt(LD | IND | size, off.constantPart + offset));
      return s;
    }
    return stmt(LD | ABS | size, off.constantPart + offset);
  }

  loadA(offrel: OffRel, offset: number, size: number): Slist {
    switch (offrel) {
      case 'packet':
        return stmt(LD | ABS | size, offset);
      case 'linkhdr':
        return this.loadAbsOffsetRel(this.offLinkhdr, offset, size);
      case 'prevlinkhdr':
        return this.loadAbsOffsetRel(this.offPrevlinkhdr, offset, size);
      case 'llc':
        return this.loadAbsOffsetRel(this.offLinkpl, offset, size);
      case 'prevmplshdr':
        return this.loadAbsOffsetRel(this.offLinkpl, this.offNl - 4 + offset, size);
      case 'linkpl':
        return this.loadAbsOffsetRel(this.offLinkpl, this.offNl + offset, size);
      case 'linkpl_nosnap':
        return this.loadAbsOffsetRel(this.offLinkpl, this.offNlNosnap + offset, size);
      case 'linktype':
        return this.loadAbsOffsetRel(this.offLinktype, offset, size);
      case 'tran_ipv4': {
        const s = this.loadxIphdrlen();
        sappend(s, stmt(LD | IND | size, this.offLinkpl.constantPart + this.offNl + offset));
        return s;
      }
      case 'tran_ipv6':
        return this.loadAbsOffsetRel(this.offLinkpl, this.offNl + 40 + offset, size);
    }
  }

  loadxIphdrlen(): Slist {
    const s = this.absOffsetVarpart(this.offLinkpl);
    if (s) {
      sappend(s, stmt(LD | IND | B, this.offLinkpl.constantPart + this.offNl));
      sappend(s, stmt(ALU | AND, 0xf));
      sappend(s, stmt(ALU | LSH, 2));
      sappend(s, stmt(ALU | ADD | X));
      sappend(s, stmt(MISC | TAX));
      return s;
    }
    return stmt(LDX | MSH | B, this.offLinkpl.constantPart + this.offNl);
  }

  ncmp(offrel: OffRel, offset: number, size: number, mask: number, jtype: number, reverse: boolean, v: number): Block {
    const s = this.loadA(offrel, offset, size);
    if (mask >>> 0 !== 0xffffffff) sappend(s, stmt(ALU | AND, mask));
    const b = new Block(JMP | jtype, v >>> 0);
    b.stmts = s;
    if (reverse && (jtype === JGT || jtype === JGE)) genNot(b);
    return b;
  }

  cmp(offrel: OffRel, offset: number, size: number, v: number): Block {
    return this.ncmp(offrel, offset, size, 0xffffffff, JEQ, false, v);
  }
  cmpGt(offrel: OffRel, offset: number, size: number, v: number): Block {
    return this.ncmp(offrel, offset, size, 0xffffffff, JGT, false, v);
  }
  cmpGe(offrel: OffRel, offset: number, size: number, v: number): Block {
    return this.ncmp(offrel, offset, size, 0xffffffff, JGE, false, v);
  }
  cmpLt(offrel: OffRel, offset: number, size: number, v: number): Block {
    return this.ncmp(offrel, offset, size, 0xffffffff, JGE, true, v);
  }
  cmpLe(offrel: OffRel, offset: number, size: number, v: number): Block {
    return this.ncmp(offrel, offset, size, 0xffffffff, JGT, true, v);
  }
  mcmp(offrel: OffRel, offset: number, size: number, v: number, mask: number): Block {
    return this.ncmp(offrel, offset, size, mask, JEQ, false, v);
  }

  bcmp(offrel: OffRel, offset: number, bytes: readonly number[]): Block {
    let size = bytes.length;
    let b: Block | null = null;
    const be = (i: number, n: number): number => {
      let v = 0;
      for (let j = 0; j < n; j++) v = v * 256 + bytes[i + j]!;
      return v;
    };
    while (size >= 4) {
      const tmp = this.cmp(offrel, offset + size - 4, W, be(size - 4, 4));
      if (b) genAnd(b, tmp);
      b = tmp;
      size -= 4;
    }
    while (size >= 2) {
      const tmp = this.cmp(offrel, offset + size - 2, H, be(size - 2, 2));
      if (b) genAnd(b, tmp);
      b = tmp;
      size -= 2;
    }
    if (size > 0) {
      const tmp = this.cmp(offrel, offset, B, bytes[0]!);
      if (b) genAnd(b, tmp);
      b = tmp;
    }
    return b!;
  }

  uncond(rsense: boolean): Block {
    const b = new Block(JMP | JEQ, 0);
    b.stmts = stmt(LD | IMM, rsense ? 0 : 1);
    return b;
  }
  genTrue(): Block {
    return this.uncond(true);
  }
  genFalse(): Block {
    return this.uncond(false);
  }

  // ---- link layer ----
  /** Test for a link-layer protocol (an Ethernet type, or an LLC SAP when <= 1500). */
  linktypeTest(llProto: number): Block {
    return genLinktype(this, llProto);
  }

  // ---- hosts ----
  private hostop(addr: number, mask: number, dir: QDir, llProto: number, srcOff: number, dstOff: number): Block {
    let offset: number;
    let b0: Block, b1: Block;
    switch (dir) {
      case 'src':
        offset = srcOff;
        break;
      case 'dst':
        offset = dstOff;
        break;
      case 'and':
        b0 = this.hostop(addr, mask, 'src', llProto, srcOff, dstOff);
        b1 = this.hostop(addr, mask, 'dst', llProto, srcOff, dstOff);
        genAnd(b0, b1);
        return b1;
      case 'default':
      case 'or':
        b0 = this.hostop(addr, mask, 'src', llProto, srcOff, dstOff);
        b1 = this.hostop(addr, mask, 'dst', llProto, srcOff, dstOff);
        genOr(b0, b1);
        return b1;
      default:
        return this.dirError(dir, 'addresses other than 802.11 MAC addresses');
    }
    b0 = this.linktypeTest(llProto);
    b1 = this.mcmp('linkpl', offset, W, addr, mask);
    genAnd(b0, b1);
    return b1;
  }

  private dirError(dir: QDir, what: string): never {
    switch (dir) {
      case 'addr1': this.error(`'addr1' and 'address1' are not valid qualifiers for ${what}`);
      case 'addr2': this.error(`'addr2' and 'address2' are not valid qualifiers for ${what}`);
      case 'addr3': this.error(`'addr3' and 'address3' are not valid qualifiers for ${what}`);
      case 'addr4': this.error(`'addr4' and 'address4' are not valid qualifiers for ${what}`);
      case 'ra': this.error(`'ra' is not a valid qualifier for ${what}`);
      case 'ta': this.error(`'ta' is not a valid qualifier for ${what}`);
      default: this.error('syntax error in filter expression');
    }
  }

  private hostop6(addr: number[], mask: number[], dir: QDir, llProto: number, srcOff: number, dstOff: number): Block {
    let offset: number;
    let b0: Block, b1: Block;
    switch (dir) {
      case 'src':
        offset = srcOff;
        break;
      case 'dst':
        offset = dstOff;
        break;
      case 'and':
        b0 = this.hostop6(addr, mask, 'src', llProto, srcOff, dstOff);
        b1 = this.hostop6(addr, mask, 'dst', llProto, srcOff, dstOff);
        genAnd(b0, b1);
        return b1;
      case 'default':
      case 'or':
        b0 = this.hostop6(addr, mask, 'src', llProto, srcOff, dstOff);
        b1 = this.hostop6(addr, mask, 'dst', llProto, srcOff, dstOff);
        genOr(b0, b1);
        return b1;
      default:
        return this.dirError(dir, 'addresses other than 802.11 MAC addresses');
    }
    b1 = this.mcmp('linkpl', offset + 12, W, addr[3]!, mask[3]!);
    b0 = this.mcmp('linkpl', offset + 8, W, addr[2]!, mask[2]!);
    genAnd(b0, b1);
    b0 = this.mcmp('linkpl', offset + 4, W, addr[1]!, mask[1]!);
    genAnd(b0, b1);
    b0 = this.mcmp('linkpl', offset + 0, W, addr[0]!, mask[0]!);
    genAnd(b0, b1);
    b0 = this.linktypeTest(llProto);
    genAnd(b0, b1);
    return b1;
  }

  /** DECnet node address; `addr` in host order, compared as the little-endian wire value. */
  private dnhostop(addr: number, dir: QDir): Block {
    let offsetSh: number, offsetLh: number;
    let b0: Block, b1: Block, b2: Block, tmp: Block;
    switch (dir) {
      case 'dst':
        offsetSh = 1;
        offsetLh = 7;
        break;
      case 'src':
        offsetSh = 3;
        offsetLh = 15;
        break;
      case 'and':
        b0 = this.dnhostop(addr, 'src');
        b1 = this.dnhostop(addr, 'dst');
        genAnd(b0, b1);
        return b1;
      case 'default':
      case 'or':
        b0 = this.dnhostop(addr, 'src');
        b1 = this.dnhostop(addr, 'dst');
        genOr(b0, b1);
        return b1;
      default:
        return this.dirError(dir, 'addresses other than 802.11 MAC addresses');
    }
    const sw = (x: number): number => ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
    const a = sw(addr & 0xffff);
    b0 = this.linktypeTest(ETHERTYPE.DN);
    tmp = this.mcmp('linkpl', 2, H, sw(0x0681), sw(0x07ff));
    b1 = this.cmp('linkpl', 2 + 1 + offsetLh, H, a);
    genAnd(tmp, b1);
    tmp = this.mcmp('linkpl', 2, B, 0x06, 0x7);
    b2 = this.cmp('linkpl', 2 + offsetLh, H, a);
    genAnd(tmp, b2);
    genOr(b2, b1);
    tmp = this.mcmp('linkpl', 2, H, sw(0x0281), sw(0x07ff));
    b2 = this.cmp('linkpl', 2 + 1 + offsetSh, H, a);
    genAnd(tmp, b2);
    genOr(b2, b1);
    tmp = this.mcmp('linkpl', 2, B, 0x02, 0x7);
    b2 = this.cmp('linkpl', 2 + offsetSh, H, a);
    genAnd(tmp, b2);
    genOr(b2, b1);
    genAnd(b0, b1);
    return b1;
  }

  ehostop(eaddr: readonly number[], dir: QDir): Block {
    let b0: Block, b1: Block;
    switch (dir) {
      case 'src':
        return this.bcmp('linkhdr', 6, eaddr);
      case 'dst':
        return this.bcmp('linkhdr', 0, eaddr);
      case 'and':
        b0 = this.ehostop(eaddr, 'src');
        b1 = this.ehostop(eaddr, 'dst');
        genAnd(b0, b1);
        return b1;
      case 'default':
      case 'or':
        b0 = this.ehostop(eaddr, 'src');
        b1 = this.ehostop(eaddr, 'dst');
        genOr(b0, b1);
        return b1;
      case 'addr1': this.error("'addr1' and 'address1' are only supported on 802.11 with 802.11 headers");
      case 'addr2': this.error("'addr2' and 'address2' are only supported on 802.11 with 802.11 headers");
      case 'addr3': this.error("'addr3' and 'address3' are only supported on 802.11 with 802.11 headers");
      case 'addr4': this.error("'addr4' and 'address4' are only supported on 802.11 with 802.11 headers");
      case 'ra': this.error("'ra' is only supported on 802.11 with 802.11 headers");
      case 'ta': this.error("'ta' is only supported on 802.11 with 802.11 headers");
      default: this.error('syntax error in filter expression');
    }
  }

  host(addr: number, mask: number, proto: QProto, dir: QDir, isNet: boolean): Block {
    const typestr = isNet ? 'net' : 'host';
    let b0: Block, b1: Block;
    switch (proto) {
      case 'default':
        b0 = this.host(addr, mask, 'ip', dir, isNet);
        if (this.labelStackDepth === 0) {
          b1 = this.host(addr, mask, 'arp', dir, isNet);
          genOr(b0, b1);
          b0 = this.host(addr, mask, 'rarp', dir, isNet);
          genOr(b1, b0);
        }
        return b0;
      case 'link':
        this.error(`link-layer modifier applied to ${typestr}`);
      case 'ip':
        return this.hostop(addr, mask, dir, ETHERTYPE.IP, 12, 16);
      case 'rarp':
        return this.hostop(addr, mask, dir, ETHERTYPE.REVARP, 14, 24);
      case 'arp':
        return this.hostop(addr, mask, dir, ETHERTYPE.ARP, 14, 24);
      case 'atalk': this.error('AppleTalk host filtering not implemented');
      case 'decnet':
        return this.dnhostop(addr, dir);
      case 'lat': this.error('LAT host filtering not implemented');
      case 'sca': this.error('SCA host filtering not implemented');
      case 'moprc': this.error('MOPRC host filtering not implemented');
      case 'mopdl': this.error('MOPDL host filtering not implemented');
      case 'ip6': this.error("'ip6' modifier applied to ip host");
      case 'aarp': this.error('AARP host filtering not implemented');
      case 'iso': this.error('ISO host filtering not implemented');
      case 'ipx': this.error('IPX host filtering not implemented');
      default:
        this.error(`'${proto}' modifier applied to ${typestr}`);
    }
  }

  host6(addr: number[], mask: number[], proto: QProto, dir: QDir, isNet: boolean): Block {
    const typestr = isNet ? 'net' : 'host';
    switch (proto) {
      case 'default':
      case 'ip6':
        return this.hostop6(addr, mask, dir, ETHERTYPE.IPV6, 8, 24);
      case 'link': this.error(`link-layer modifier applied to ip6 ${typestr}`);
      case 'atalk': this.error(`AppleTalk modifier applied to ip6 ${typestr}`);
      default: this.error(`'${proto}' modifier applied to ip6 ${typestr}`);
    }
  }

  // ---- protocols ----
  protoAbbrev(proto: QProto): Block {
    const orAll = (vals: number[]): Block => {
      let acc = this.proto(vals[0]!, 'isis', 'default');
      for (let i = 1; i < vals.length; i++) {
        const b = this.proto(vals[i]!, 'isis', 'default');
        if (i === 1) {
          genOr(acc, b);
          acc = b;
        } else {
          genOr(b, acc);
        }
      }
      return acc;
    };
    switch (proto) {
      case 'sctp': return this.proto(IPPROTO_SCTP, 'default', 'default');
      case 'tcp': return this.proto(IPPROTO_TCP, 'default', 'default');
      case 'udp': return this.proto(IPPROTO_UDP, 'default', 'default');
      case 'icmp': return this.proto(IPPROTO.ICMP, 'ip', 'default');
      case 'igmp': return this.proto(IPPROTO.IGMP, 'ip', 'default');
      case 'igrp': return this.proto(IPPROTO.IGRP, 'ip', 'default');
      case 'pim': return this.proto(IPPROTO.PIM, 'default', 'default');
      case 'vrrp': return this.proto(IPPROTO.VRRP, 'ip', 'default');
      case 'carp': return this.proto(IPPROTO.CARP, 'ip', 'default');
      case 'ip': return this.linktypeTest(ETHERTYPE.IP);
      case 'arp': return this.linktypeTest(ETHERTYPE.ARP);
      case 'rarp': return this.linktypeTest(ETHERTYPE.REVARP);
      case 'link': this.error('link layer applied in wrong context');
      case 'atalk': return this.linktypeTest(ETHERTYPE.ATALK);
      case 'aarp': return this.linktypeTest(ETHERTYPE.AARP);
      case 'decnet': return this.linktypeTest(ETHERTYPE.DN);
      case 'sca': return this.linktypeTest(ETHERTYPE.SCA);
      case 'lat': return this.linktypeTest(ETHERTYPE.LAT);
      case 'mopdl': return this.linktypeTest(ETHERTYPE.MOPDL);
      case 'moprc': return this.linktypeTest(ETHERTYPE.MOPRC);
      case 'ip6': return this.linktypeTest(ETHERTYPE.IPV6);
      case 'icmp6': return this.proto(IPPROTO.ICMPV6, 'ip6', 'default');
      case 'ah': return this.proto(IPPROTO.AH, 'default', 'default');
      case 'esp': return this.proto(IPPROTO.ESP, 'default', 'default');
      case 'iso': return this.linktypeTest(LLCSAP.ISONS);
      case 'esis': return this.proto(ISO.ESIS, 'iso', 'default');
      case 'isis': return this.proto(ISO.ISIS, 'iso', 'default');
      case 'l1': return orAll([ISIS.L1_LAN_IIH, ISIS.PTP_IIH, ISIS.L1_LSP, ISIS.L1_CSNP, ISIS.L1_PSNP]);
      case 'l2': return orAll([ISIS.L2_LAN_IIH, ISIS.PTP_IIH, ISIS.L2_LSP, ISIS.L2_CSNP, ISIS.L2_PSNP]);
      case 'iih': return orAll([ISIS.L1_LAN_IIH, ISIS.L2_LAN_IIH, ISIS.PTP_IIH]);
      case 'lsp': return orAll([ISIS.L1_LSP, ISIS.L2_LSP]);
      case 'snp': return orAll([ISIS.L1_CSNP, ISIS.L2_CSNP, ISIS.L1_PSNP, ISIS.L2_PSNP]);
      case 'csnp': return orAll([ISIS.L1_CSNP, ISIS.L2_CSNP]);
      case 'psnp': return orAll([ISIS.L1_PSNP, ISIS.L2_PSNP]);
      case 'clnp': return this.proto(ISO.CLNP, 'iso', 'default');
      case 'stp': return this.linktypeTest(LLCSAP.D8021);
      case 'ipx': return this.linktypeTest(LLCSAP.IPX);
      case 'netbeui': return this.linktypeTest(LLCSAP.NETBEUI);
      case 'radio': this.error("'radio' is not a valid protocol type");
      default:
        this.error('syntax error in filter expression');
    }
  }

  /** A `jset #k` test of the value `s` leaves in A. */
  jsetBlock(s: Slist, k: number): Block {
    const b = new Block(JMP | JSET, k);
    b.stmts = s;
    return b;
  }

  ipfrag(): Block {
    const b = new Block(JMP | JSET, 0x1fff);
    b.stmts = this.loadA('linkpl', 6, H);
    genNot(b);
    return b;
  }

  proto(v: number, proto: QProto, dir: QDir): Block {
    let b0: Block, b1: Block, b2: Block;
    if (dir !== 'default') this.error("direction applied to 'proto'");
    switch (proto) {
      case 'default':
        b0 = this.proto(v, 'ip', dir);
        b1 = this.proto(v, 'ip6', dir);
        genOr(b0, b1);
        return b1;
      case 'link':
        return this.linktypeTest(v);
      case 'ip':
        b0 = this.linktypeTest(ETHERTYPE.IP);
        b1 = this.cmp('linkpl', 9, B, v);
        genAnd(b0, b1);
        return b1;
      case 'arp': this.error('arp does not encapsulate another protocol');
      case 'rarp': this.error('rarp does not encapsulate another protocol');
      case 'atalk': this.error('AppleTalk encapsulation is not specifiable');
      case 'decnet': this.error('DECNET encapsulation is not specifiable');
      case 'lat': this.error('LAT does not encapsulate another protocol');
      case 'sca': this.error('SCA does not encapsulate another protocol');
      case 'moprc': this.error('MOPRC does not encapsulate another protocol');
      case 'mopdl': this.error('MOPDL does not encapsulate another protocol');
      case 'ip6':
        b0 = this.linktypeTest(ETHERTYPE.IPV6);
        b2 = this.cmp('linkpl', 6, B, IPPROTO.FRAGMENT);
        b1 = this.cmp('linkpl', 40, B, v);
        genAnd(b2, b1);
        b2 = this.cmp('linkpl', 6, B, v);
        genOr(b2, b1);
        genAnd(b0, b1);
        return b1;
      case 'iso':
        b0 = this.linktypeTest(LLCSAP.ISONS);
        b1 = this.cmp('linkpl_nosnap', 0, B, v);
        genAnd(b0, b1);
        return b1;
      case 'isis':
        b0 = this.proto(ISO.ISIS, 'iso', 'default');
        b1 = this.cmp('linkpl_nosnap', 4, B, v);
        genAnd(b0, b1);
        return b1;
      case 'clnp': this.error("'clnp proto' is not supported");
      default:
        this.error(`'${proto} proto' is bogus`);
    }
  }

  protochain(v: number, proto: QProto): Block {
    // Allocated before the recursion and, for the default case, never freed (as libpcap).
    const reg2 = this.allocReg();
    if (proto === 'default') {
      const b0 = this.protochain(v, 'ip');
      const b = this.protochain(v, 'ip6');
      genOr(b0, b);
      return b;
    }
    if (proto !== 'ip' && proto !== 'ip6') this.error("bad protocol applied for 'protochain'");
    if (this.offLinkpl.isVariable) this.error("'protochain' not supported with variable length headers");
    this.noOptimize = true;
    const nl = this.offLinkpl.constantPart + this.offNl;
    const s: Slist[] = [];
    let b0: Block;
    if (proto === 'ip') {
      b0 = this.linktypeTest(ETHERTYPE.IP);
      s.push(stmt(LD | ABS | B, nl + 9));
      s.push(stmt(LDX | MSH | B, nl));
    } else {
      b0 = this.linktypeTest(ETHERTYPE.IPV6);
      s.push(stmt(LD | ABS | B, nl + 6));
      s.push(stmt(LDX | IMM, 40));
    }
    const again = s.length;
    const fix5 = s.push(stmt(JMP | JEQ, v)) - 1;
    const fix2 = s.push(stmt(JMP | JEQ, IPPROTO.NONE)) - 1;
    s[fix5]!.s.jf = s[fix2]!;
    let fix3 = -1;
    if (proto === 'ip6') {
      const v6start = s.length;
      s.push(stmt(JMP | JEQ, IPPROTO.HOPOPTS));
      s[fix2]!.s.jf = s[v6start]!;
      for (const k of [IPPROTO.DSTOPTS, IPPROTO.ROUTING, IPPROTO.FRAGMENT]) {
        const n = stmt(JMP | JEQ, k);
        s[s.length - 1]!.s.jf = n;
        s.push(n);
      }
      fix3 = s.length - 1;
      const v6end = fix3;
      const v6advance = s.length;
      s.push(stmt(LD | IND | B, nl));
      s.push(stmt(ST, reg2));
      s.push(stmt(LD | IND | B, nl + 1));
      s.push(stmt(ALU | ADD, 1));
      s.push(stmt(ALU | MUL, 8));
      s.push(stmt(ALU | ADD | X, 0));
      s.push(stmt(MISC | TAX));
      s.push(stmt(LD | MEM, reg2));
      const ja = stmt(JMP | JA, (again - s.length - 1) >>> 0);
      s[s.length - 1]!.s.jf = ja;
      s.push(ja);
      for (let j = v6start; j <= v6end; j++) s[j]!.s.jt = s[v6advance]!;
    } else {
      s.push(stmt(ALU | ADD, 0));
      s[fix2]!.s.jf = s[s.length - 1]!;
    }
    const ahcheck = s.length;
    const fix4 = s.push(stmt(JMP | JEQ, IPPROTO.AH)) - 1;
    if (fix3 >= 0) s[fix3]!.s.jf = s[ahcheck]!;
    let n = stmt(MISC | TXA);
    s[s.length - 1]!.s.jt = n;
    s.push(n);
    s.push(stmt(LD | IND | B, nl));
    s.push(stmt(ST, reg2));
    n = stmt(MISC | TXA);
    s[s.length - 1]!.s.jt = n;
    s.push(n);
    s.push(stmt(ALU | ADD, 1));
    s.push(stmt(MISC | TAX));
    s.push(stmt(LD | IND | B, nl));
    s.push(stmt(ALU | ADD, 2));
    s.push(stmt(ALU | MUL, 4));
    s.push(stmt(MISC | TAX));
    s.push(stmt(LD | MEM, reg2));
    s.push(stmt(JMP | JA, (again - s.length - 1) >>> 0));
    const end = s.push(stmt(ALU | ADD, 0)) - 1;
    s[fix2]!.s.jt = s[end]!;
    s[fix4]!.s.jf = s[end]!;
    s[fix5]!.s.jt = s[end]!;
    for (let i = 0; i + 1 < s.length; i++) s[i]!.next = s[i + 1]!;
    const b = new Block(JMP | JEQ, v);
    b.stmts = s[0]!;
    this.freeReg(reg2);
    genAnd(b0, b);
    return b;
  }

  // ---- ports ----
  private portop(port: number, proto: number, dir: QDir, v6: boolean, range?: [number, number]): Block {
    let b0: Block, b1: Block, tmp: Block;
    if (v6) b0 = this.cmp('linkpl', 6, B, proto);
    else {
      tmp = this.cmp('linkpl', 9, B, proto);
      b0 = this.ipfrag();
      genAnd(tmp, b0);
    }
    const atom = (off: number): Block => {
      const rel: OffRel = v6 ? 'tran_ipv6' : 'tran_ipv4';
      if (!range) return this.cmp(rel, off, H, port);
      let [lo, hi] = range;
      if (lo > hi) [lo, hi] = [hi, lo];
      const r1 = this.cmpGe(rel, off, H, lo);
      const r2 = this.cmpLe(rel, off, H, hi);
      genAnd(r1, r2);
      return r2;
    };
    switch (dir) {
      case 'src':
        b1 = atom(0);
        break;
      case 'dst':
        b1 = atom(2);
        break;
      case 'and':
        tmp = atom(0);
        b1 = atom(2);
        genAnd(tmp, b1);
        break;
      case 'default':
      case 'or':
        tmp = atom(0);
        b1 = atom(2);
        genOr(tmp, b1);
        break;
      default:
        return this.dirError(dir, range ? 'port ranges' : 'ports');
    }
    genAnd(b0, b1);
    return b1;
  }

  private portAll(port: number, ipProto: number, dir: QDir, v6: boolean, range?: [number, number]): Block {
    const b0 = this.linktypeTest(v6 ? ETHERTYPE.IPV6 : ETHERTYPE.IP);
    let b1: Block;
    if (ipProto === PROTO_UNDEF) {
      let tmp = this.portop(port, IPPROTO_TCP, dir, v6, range);
      b1 = this.portop(port, IPPROTO_UDP, dir, v6, range);
      genOr(tmp, b1);
      tmp = this.portop(port, IPPROTO_SCTP, dir, v6, range);
      genOr(tmp, b1);
    } else b1 = this.portop(port, ipProto, dir, v6, range);
    genAnd(b0, b1);
    return b1;
  }

  /** IPv4 only (libpcap's gen_port). */
  port4(port: number, ipProto: number, dir: QDir): Block {
    return this.portAll(port, ipProto, dir, false);
  }

  /** IPv6 only (libpcap's gen_port6). */
  port6(port: number, ipProto: number, dir: QDir): Block {
    return this.portAll(port, ipProto, dir, true);
  }

  /**
   * Inside Geneve, check that the inner link header is not where the outer
   * one is (libpcap's gen_prevlinkhdr_check); null when nothing to check.
   */
  prevlinkhdrCheck(): Block | null {
    if (!this.isGeneve) return null;
    const b0 = new Block(JMP | JEQ | X, 0);
    b0.stmts = stmt(LD | MEM, this.offLinkhdr.reg);
    sappend(b0.stmts, stmt(LDX | MEM, this.offLinkpl.reg));
    genNot(b0);
    return b0;
  }

  /** Ethernet addresses, with the Geneve inner-frame check when needed. */
  ehostopChecked(eaddr: readonly number[], dir: QDir): Block {
    const tmp = this.prevlinkhdrCheck();
    const b = this.ehostop(eaddr, dir);
    if (tmp) genAnd(tmp, b);
    return b;
  }

  port(port: number, ipProto: number, dir: QDir): Block {
    const b = this.portAll(port, ipProto, dir, false);
    genOr(this.portAll(port, ipProto, dir, true), b);
    return b;
  }

  portrange(p1: number, p2: number, ipProto: number, dir: QDir): Block {
    const b = this.portAll(0, ipProto, dir, false, [p1, p2]);
    genOr(this.portAll(0, ipProto, dir, true, [p1, p2]), b);
    return b;
  }

  // ---- arithmetic ----
  private xferToX(a: Arth): Slist {
    return stmt(LDX | MEM, a.regno);
  }
  private xferToA(a: Arth): Slist {
    return stmt(LD | MEM, a.regno);
  }

  load(proto: QProto, inst: Arth, size: number): Arth {
    const regno = this.allocReg();
    this.freeReg(inst.regno);
    let sizeCode: number;
    switch (size) {
      case 1: sizeCode = B; break;
      case 2: sizeCode = H; break;
      case 4: sizeCode = W; break;
      default: this.error('data size must be 1, 2, or 4');
    }
    let s: Slist | null;
    let b: Block;
    switch (proto) {
      case 'radio':
        this.error('radio information not present in capture');
      case 'link':
        s = this.absOffsetVarpart(this.offLinkhdr);
        if (s) {
          sappend(s, this.xferToA(inst));
          sappend(s, stmt(ALU | ADD | X));
          sappend(s, stmt(MISC | TAX));
        } else s = this.xferToX(inst);
        sappend(s, stmt(LD | IND | sizeCode, this.offLinkhdr.constantPart));
        sappend(inst.s, s);
        break;
      case 'ip':
      case 'arp':
      case 'rarp':
      case 'atalk':
      case 'decnet':
      case 'sca':
      case 'lat':
      case 'moprc':
      case 'mopdl':
      case 'ip6':
        s = this.absOffsetVarpart(this.offLinkpl);
        if (s) {
          sappend(s, this.xferToA(inst));
          sappend(s, stmt(ALU | ADD | X));
          sappend(s, stmt(MISC | TAX));
        } else s = this.xferToX(inst);
        sappend(s, stmt(LD | IND | sizeCode, this.offLinkpl.constantPart + this.offNl));
        sappend(inst.s, s);
        b = this.protoAbbrev(proto);
        if (inst.b) genAnd(inst.b, b);
        inst.b = b;
        break;
      case 'sctp':
      case 'tcp':
      case 'udp':
      case 'icmp':
      case 'igmp':
      case 'igrp':
      case 'pim':
      case 'vrrp':
      case 'carp': {
        s = this.loadxIphdrlen();
        sappend(s, this.xferToA(inst));
        sappend(s, stmt(ALU | ADD | X));
        sappend(s, stmt(MISC | TAX));
        sappend(s, stmt(LD | IND | sizeCode, this.offLinkpl.constantPart + this.offNl));
        sappend(inst.s, s);
        const pb = this.protoAbbrev(proto);
        b = this.ipfrag();
        genAnd(pb, b);
        if (inst.b) genAnd(inst.b, b);
        genAnd(this.protoAbbrev('ip'), b);
        inst.b = b;
        break;
      }
      case 'icmp6':
        b = this.protoAbbrev('ip6');
        if (inst.b) genAnd(inst.b, b);
        inst.b = b;
        b = this.cmp('linkpl', 6, B, 58);
        if (inst.b) genAnd(inst.b, b);
        inst.b = b;
        s = this.absOffsetVarpart(this.offLinkpl);
        if (s) {
          sappend(s, this.xferToA(inst));
          sappend(s, stmt(ALU | ADD | X));
          sappend(s, stmt(MISC | TAX));
        } else s = this.xferToX(inst);
        sappend(s, stmt(LD | IND | sizeCode, this.offLinkpl.constantPart + this.offNl + 40));
        sappend(inst.s, s);
        break;
      default:
        this.error('unsupported index operation');
    }
    inst.regno = regno;
    sappend(inst.s, stmt(ST, regno));
    return inst;
  }

  relation(code: number, a0: Arth, a1: Arth, reversed: boolean): Block {
    const s0 = this.xferToX(a1);
    const s1 = this.xferToA(a0);
    let b: Block;
    if (code === JEQ) {
      b = new Block(JMP | code, 0);
      sappend(s1, stmt(ALU | SUB | X));
    } else b = new Block(JMP | code | X, 0);
    if (reversed) genNot(b);
    sappend(s0, s1);
    sappend(a1.s, s0);
    sappend(a0.s, a1.s);
    b.stmts = a0.s;
    this.freeReg(a0.regno);
    this.freeReg(a1.regno);
    let tmp: Block | null;
    if (a0.b) {
      if (a1.b) {
        genAnd(a0.b, a1.b);
        tmp = a1.b;
      } else tmp = a0.b;
    } else tmp = a1.b;
    if (tmp) genAnd(tmp, b);
    return b;
  }

  loadLen(): Arth {
    const regno = this.allocReg();
    const s = stmt(LD | LEN);
    s.next = stmt(ST, regno);
    return { s, regno, b: null };
  }

  loadI(val: number): Arth {
    const reg = this.allocReg();
    const s = stmt(LD | IMM, val);
    s.next = stmt(ST, reg);
    return { s, regno: reg, b: null };
  }

  neg(a: Arth): Arth {
    sappend(a.s, this.xferToA(a));
    sappend(a.s, stmt(ALU | NEG, 0));
    sappend(a.s, stmt(ST, a.regno));
    return a;
  }

  arth(code: number, a0: Arth, a1: Arth): Arth {
    const first = a1.s.s;
    if (code === DIV) {
      if (first.code === (LD | IMM) && first.k === 0) this.error('division by zero');
    } else if (code === MOD) {
      if (first.code === (LD | IMM) && first.k === 0) this.error('modulus by zero');
    } else if (code === LSH || code === RSH) {
      if (first.code === (LD | IMM) && first.k > 31) this.error('shift by more than 31 bits');
    }
    const s0 = this.xferToX(a1);
    const s1 = this.xferToA(a0);
    sappend(s1, stmt(ALU | X | code));
    sappend(s0, s1);
    sappend(a1.s, s0);
    sappend(a0.s, a1.s);
    this.freeReg(a0.regno);
    this.freeReg(a1.regno);
    const reg = this.allocReg();
    a0.regno = reg;
    sappend(a0.s, stmt(ST, reg));
    // Like libpcap, only a0's protocol guards survive (a1's are dropped).
    return a0;
  }

  // ---- misc primitives ----
  len(jmp: number, n: number): Block {
    const b = new Block(JMP | jmp, n);
    b.stmts = stmt(LD | LEN);
    return b;
  }
  greater(n: number): Block {
    return this.len(JGE, n);
  }
  less(n: number): Block {
    const b = this.len(JGT, n);
    genNot(b);
    return b;
  }

  byteop(op: string, idx: number, val: number): Block {
    switch (op) {
      case '=':
        return this.cmp('linkhdr', idx, B, val);
      case '<':
        return this.cmpLt('linkhdr', idx, B, val);
      case '>':
        return this.cmpGt('linkhdr', idx, B, val);
    }
    // libpcap 1.10 emits the mask without loading the byte first; do the same.
    const b = new Block(JMP | JEQ, 0);
    b.stmts = stmt(ALU | (op === '|' ? OR : AND), val);
    genNot(b);
    return b;
  }

  broadcast(proto: QProto): Block {
    switch (proto) {
      case 'default':
      case 'link':
        if (this.linktype === 'EN10MB') return this.ehostopChecked([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 'dst');
        this.error('not a broadcast link');
      case 'ip': {
        if (this.netmask === undefined) this.error("netmask not known, so 'ip broadcast' not supported");
        const b0 = this.linktypeTest(ETHERTYPE.IP);
        const hostmask = ~this.netmask >>> 0;
        const b1 = this.mcmp('linkpl', 16, W, 0, hostmask);
        const b2 = this.mcmp('linkpl', 16, W, hostmask, hostmask);
        genOr(b1, b2);
        genAnd(b0, b2);
        return b2;
      }
    }
    this.error('only link-layer/IP broadcast filters supported');
  }

  private macMulticast(offset: number): Block {
    const b = new Block(JMP | JSET, 1);
    b.stmts = this.loadA('linkhdr', offset, B);
    return b;
  }

  multicast(proto: QProto): Block {
    let b0: Block, b1: Block;
    switch (proto) {
      case 'default':
      case 'link':
        if (this.linktype === 'EN10MB') {
          const chk = this.prevlinkhdrCheck();
          b0 = this.macMulticast(0);
          if (chk) genAnd(chk, b0);
          return b0;
        }
        break;
      case 'ip':
        b0 = this.linktypeTest(ETHERTYPE.IP);
        b1 = this.cmpGe('linkpl', 16, B, 224);
        genAnd(b0, b1);
        return b1;
      case 'ip6':
        b0 = this.linktypeTest(ETHERTYPE.IPV6);
        b1 = this.cmp('linkpl', 24, B, 255);
        genAnd(b0, b1);
        return b1;
    }
    this.error('link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel');
  }

  /** libpcap's description of the current link type, for messages. */
  description(): string {
    switch (this.linktype) {
      case 'EN10MB': return 'Ethernet';
      case 'RAW': return 'Raw IP';
      case 'LINUX_SLL': return 'Linux cooked v1';
      case 'LINUX_SLL2': return 'Linux cooked v2';
      case 'NULL': return 'BSD loopback';
      case 'LOOP': return 'OpenBSD loopback';
      case 'PPP': return 'PPP';
    }
  }

  /** Close the expression: returns the root of the finished graph. */
  finish(p: Block): Block {
    insertComputeVloffsets(this, p.head);
    backpatch(p, this.retblk(this.snaplen));
    p.sense = !p.sense;
    backpatch(p, this.retblk(0));
    return p.head;
  }
}

export { OFFSET_NOT_SET };
