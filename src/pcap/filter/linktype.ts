/**
 * Link-layer protocol tests: how "is this IPv4?" (an Ethernet type, or an
 * 802.2 LLC SAP) is asked on each supported link type, as libpcap's
 * gen_linktype and its helpers do.
 */
import type { CodeGen } from './gencode.js';
import { B, ETHERTYPE, H, LLCSAP, PPP, W } from './gencode.js';
import { type Block, genAnd, genNot, genOr } from './ir.js';

const ETHERMTU = 1500;
const LINUX_SLL_P_802_3 = 0x0001;
const LINUX_SLL_P_802_2 = 0x0004;

function snap(g: CodeGen, orgcode: number, ptype: number): Block {
  return g.bcmp('llc', 0, [LLCSAP.SNAP, LLCSAP.SNAP, 0x03, (orgcode >>> 16) & 0xff, (orgcode >>> 8) & 0xff, orgcode & 0xff, (ptype >>> 8) & 0xff, ptype & 0xff]);
}

function etherLinktype(g: CodeGen, llProto: number): Block {
  let b0: Block, b1: Block;
  switch (llProto) {
    case LLCSAP.ISONS:
    case LLCSAP.IP:
    case LLCSAP.NETBEUI:
      b0 = g.cmpGt('linktype', 0, H, ETHERMTU);
      genNot(b0);
      b1 = g.cmp('llc', 0, H, (llProto << 8) | llProto);
      genAnd(b0, b1);
      return b1;
    case LLCSAP.IPX:
      b0 = g.cmp('llc', 0, B, LLCSAP.IPX);
      b1 = g.cmp('llc', 0, H, 0xffff);
      genOr(b0, b1);
      b0 = snap(g, 0x000000, ETHERTYPE.IPX);
      genOr(b0, b1);
      b0 = g.cmpGt('linktype', 0, H, ETHERMTU);
      genNot(b0);
      genAnd(b0, b1);
      b0 = g.cmp('linktype', 0, H, ETHERTYPE.IPX);
      genOr(b0, b1);
      return b1;
    case ETHERTYPE.ATALK:
    case ETHERTYPE.AARP:
      b0 = g.cmpGt('linktype', 0, H, ETHERMTU);
      genNot(b0);
      b1 = llProto === ETHERTYPE.ATALK ? snap(g, 0x080007, ETHERTYPE.ATALK) : snap(g, 0x000000, ETHERTYPE.AARP);
      genAnd(b0, b1);
      b0 = g.cmp('linktype', 0, H, llProto);
      genOr(b0, b1);
      return b1;
    default:
      if (llProto <= ETHERMTU) {
        b0 = g.cmpGt('linktype', 0, H, ETHERMTU);
        genNot(b0);
        b1 = g.cmp('linktype', 2, B, llProto);
        genAnd(b0, b1);
        return b1;
      }
      return g.cmp('linktype', 0, H, llProto);
  }
}

function linuxSllLinktype(g: CodeGen, llProto: number): Block {
  let b0: Block, b1: Block;
  switch (llProto) {
    case LLCSAP.ISONS:
    case LLCSAP.IP:
    case LLCSAP.NETBEUI:
      b0 = g.cmp('linktype', 0, H, LINUX_SLL_P_802_2);
      b1 = g.cmp('llc', 0, H, (llProto << 8) | llProto);
      genAnd(b0, b1);
      return b1;
    case LLCSAP.IPX:
      b0 = g.cmp('llc', 0, B, LLCSAP.IPX);
      b1 = snap(g, 0x000000, ETHERTYPE.IPX);
      genOr(b0, b1);
      b0 = g.cmp('linktype', 0, H, LINUX_SLL_P_802_2);
      genAnd(b0, b1);
      b0 = g.cmp('linktype', 0, H, LINUX_SLL_P_802_3);
      genOr(b0, b1);
      b0 = g.cmp('linktype', 0, H, ETHERTYPE.IPX);
      genOr(b0, b1);
      return b1;
    case ETHERTYPE.ATALK:
    case ETHERTYPE.AARP:
      b0 = g.cmp('linktype', 0, H, LINUX_SLL_P_802_2);
      b1 = llProto === ETHERTYPE.ATALK ? snap(g, 0x080007, ETHERTYPE.ATALK) : snap(g, 0x000000, ETHERTYPE.AARP);
      genAnd(b0, b1);
      b0 = g.cmp('linktype', 0, H, llProto);
      genOr(b0, b1);
      return b1;
    default:
      if (llProto <= ETHERMTU) {
        b0 = g.cmp('linktype', 0, H, LINUX_SLL_P_802_2);
        b1 = g.cmp('linkhdr', g.offLinkpl.constantPart, B, llProto);
        genAnd(b0, b1);
        return b1;
      }
      return g.cmp('linktype', 0, H, llProto);
  }
}

function loopbackLinktype(g: CodeGen, af: number): Block {
  // DLT_NULL holds the AF_ value in host byte order; we compile as a
  // little-endian host reading a native-order file does.
  let v = af >>> 0;
  if (g.linktype === 'NULL') v = (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
  return g.cmp('linkhdr', 0, W, v);
}

function ethertypeToPpptype(p: number): number {
  switch (p) {
    case ETHERTYPE.IP: return PPP.IP;
    case ETHERTYPE.IPV6: return PPP.IPV6;
    case ETHERTYPE.DN: return PPP.DECNET;
    case ETHERTYPE.ATALK: return PPP.APPLE;
    case ETHERTYPE.NS: return PPP.NS;
    case LLCSAP.ISONS: return PPP.OSI;
    case LLCSAP.D8021: return PPP.BRPDU;
    case LLCSAP.IPX: return PPP.IPX;
  }
  return p;
}

function mplsLinktype(g: CodeGen, llProto: number): Block {
  let b0: Block, b1: Block;
  switch (llProto) {
    case ETHERTYPE.IP:
      b0 = g.mcmp('linkpl', -2 >>> 0, B, 0x01, 0x01);
      b1 = g.mcmp('linkpl', 0, B, 0x40, 0xf0);
      genAnd(b0, b1);
      return b1;
    case ETHERTYPE.IPV6:
      b0 = g.mcmp('linkpl', -2 >>> 0, B, 0x01, 0x01);
      b1 = g.mcmp('linkpl', 0, B, 0x60, 0xf0);
      genAnd(b0, b1);
      return b1;
    default:
      g.error('unsupported protocol over mpls');
  }
}

export function genLinktype(g: CodeGen, llProto: number): Block {
  if (g.labelStackDepth > 0) return mplsLinktype(g, llProto);
  switch (g.linktype) {
    case 'EN10MB':
      return etherLinktype(g, llProto);
    case 'LINUX_SLL':
      return linuxSllLinktype(g, llProto);
    case 'RAW':
      if (llProto === ETHERTYPE.IP) return g.mcmp('linkhdr', 0, B, 0x40, 0xf0);
      if (llProto === ETHERTYPE.IPV6) return g.mcmp('linkhdr', 0, B, 0x60, 0xf0);
      return g.genFalse();
    case 'PPP':
      return g.cmp('linktype', 0, H, ethertypeToPpptype(llProto));
    case 'NULL':
    case 'LOOP':
      if (llProto === ETHERTYPE.IP) return loopbackLinktype(g, 2);
      if (llProto === ETHERTYPE.IPV6) {
        if (g.live) return loopbackLinktype(g, 10);
        // Reading a capture file: any of the BSDs' AF_INET6 values.
        const b0 = loopbackLinktype(g, 24);
        const b1 = loopbackLinktype(g, 28);
        genOr(b0, b1);
        const b2 = loopbackLinktype(g, 30);
        genOr(b2, b1);
        return b1;
      }
      return g.genFalse();
    case 'LINUX_SLL2':
      return g.cmp('linktype', 0, H, llProto);
  }
}
