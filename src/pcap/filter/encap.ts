/**
 * Encapsulations that move the link-layer payload: 802.1Q/802.1ad VLAN tags,
 * MPLS label stacks, PPPoE sessions and Geneve tunnels. Each primitive tests for the
 * encapsulation and then shifts the offsets every later primitive uses, which
 * is why `vlan and ip` differs from `ip and vlan`, as in libpcap.
 *
 * For live Linux captures the kernel strips the outer VLAN tag into skb
 * metadata, so the first `vlan` checks SKF_AD_VLAN_TAG_PRESENT and keeps the
 * payload offset in a scratch register (libpcap's BPF_SPECIAL_VLAN_HANDLING).
 */
import { SKF_AD_OFF } from '../../cbpf/ancillary.js';
import { type AbsOffset, ABS, ALU, B, type CodeGen, ETHERTYPE, H, IND, JA, JEQ, JMP, LD, LDX, MEM, MISC, PPP, ST, W } from './gencode.js';
import { Block, type Slist, genAnd, genOr, sappend, stmt } from './ir.js';

const SKF_AD_VLAN_TAG = 44;
const SKF_AD_VLAN_TAG_PRESENT = 48;

function vlanTpidTest(g: CodeGen): Block {
  let b0 = g.linktypeTest(ETHERTYPE.Q8021);
  let b1 = g.linktypeTest(ETHERTYPE.AD8021);
  genOr(b0, b1);
  b0 = b1;
  b1 = g.linktypeTest(ETHERTYPE.QINQ8021);
  genOr(b0, b1);
  return b1;
}

function vlanVidTest(g: CodeGen, vlanNum: number): Block {
  if (vlanNum > 0x0fff) g.error(`VLAN tag ${vlanNum} greater than maximum 4095`);
  return g.mcmp('linkpl', 0, H, vlanNum, 0x0fff);
}

function vlanNoExtensions(g: CodeGen, vlanNum: number, hasTag: boolean): Block {
  let b0 = vlanTpidTest(g);
  if (hasTag) {
    const b1 = vlanVidTest(g, vlanNum);
    genAnd(b0, b1);
    b0 = b1;
  }
  g.offLinkpl.constantPart += 4;
  g.offLinktype.constantPart += 4;
  return b0;
}

/** Append "M[reg] += v" to `s`, making the offset variable. */
function vloffsetAdd(g: CodeGen, off: AbsOffset, v: number, s: Slist): void {
  off.isVariable = true;
  if (off.reg === -1) off.reg = g.allocReg();
  sappend(s, stmt(LD | MEM, off.reg));
  sappend(s, stmt(ALU | 0x00, v));
  sappend(s, stmt(ST, off.reg));
}

function vlanExtensions(g: CodeGen, vlanNum: number, hasTag: boolean): Block {
  // Tag stripped by the kernel into the skb metadata?
  let b0 = new Block(JMP | JEQ, 1);
  b0.stmts = stmt(LD | B | ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT);
  const bTpid = vlanTpidTest(g);
  const bVid = hasTag ? vlanVidTest(g, vlanNum) : null;
  // Tagged in the frame itself (not stripped by the kernel): the payload moves by 4.
  g.isVlanVloffset = true;
  const head = stmt(0);
  vloffsetAdd(g, g.offLinkpl, 4, head);
  vloffsetAdd(g, g.offLinktype, 4, head);
  sappend(head.next!, bTpid.head.stmts);
  bTpid.head.stmts = head.next;
  genOr(b0, bTpid);
  b0 = bTpid;
  if (bVid) {
    // Take the VID from the skb metadata when the kernel stripped the tag.
    const s = stmt(LD | B | ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT);
    const sjeq = stmt(JMP | JEQ, 1);
    sjeq.s.jf = bVid.stmts;
    sappend(s, sjeq);
    const s2 = stmt(LD | B | ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG);
    sappend(s, s2);
    sjeq.s.jt = s2;
    let cnt = 0;
    for (let p = bVid.stmts; p; p = p.next) cnt++;
    sappend(s, stmt(JMP | JA, cnt - 1));
    sappend(s, bVid.stmts);
    bVid.stmts = s;
    genAnd(b0, bVid);
    b0 = bVid;
  }
  return b0;
}


export function genVlan(g: CodeGen, vlanNum: number, hasTag: boolean): Block {
  if (g.labelStackDepth > 0) g.error('no VLAN match after MPLS');
  if (g.linktype !== 'EN10MB') g.error(`no VLAN support for ${g.description()}`);
  const useExtensions =
    g.live && g.vlanStackDepth === 0 && !g.offLinkhdr.isVariable && g.offLinkhdr.constantPart === g.offOutermostlinkhdr.constantPart;
  const b = useExtensions ? vlanExtensions(g, vlanNum, hasTag) : vlanNoExtensions(g, vlanNum, hasTag);
  g.vlanStackDepth++;
  return b;
}

export function genMpls(g: CodeGen, labelNum: number, hasLabel: boolean): Block {
  let b0: Block;
  if (g.labelStackDepth > 0) b0 = g.mcmp('prevmplshdr', 2, B, 0, 0x01);
  else if (g.linktype === 'EN10MB') b0 = g.linktypeTest(ETHERTYPE.MPLS);
  else if (g.linktype === 'PPP') b0 = g.linktypeTest(PPP.MPLS_UCAST);
  else return g.error(`no MPLS support for ${g.description()}`);
  if (hasLabel) {
    if (labelNum > 0xfffff) g.error(`MPLS label ${labelNum} greater than maximum 1048575`);
    const b1 = g.mcmp('linkpl', 0, W, (labelNum << 12) >>> 0, 0xfffff000);
    genAnd(b0, b1);
    b0 = b1;
  }
  g.offNlNosnap += 4;
  g.offNl += 4;
  g.labelStackDepth++;
  return b0;
}

export function genPppoed(g: CodeGen): Block {
  return g.linktypeTest(ETHERTYPE.PPPOED);
}

export function genPppoes(g: CodeGen, sess: number, hasSess: boolean): Block {
  let b0 = g.linktypeTest(ETHERTYPE.PPPOES);
  if (hasSess) {
    if (sess > 0xffff) g.error(`PPPoE session number ${sess} greater than maximum 65535`);
    const b1 = g.mcmp('linkpl', 0, W, sess, 0x0000ffff);
    genAnd(b0, b1);
    b0 = b1;
  }
  // What follows is PPP, 6 bytes past the PPPoE header.
  g.prevlinktype = g.linktype;
  g.offPrevlinkhdr = { ...g.offLinkhdr };
  g.linktype = 'PPP';
  g.offLinkhdr = { isVariable: g.offLinkpl.isVariable, constantPart: g.offLinkpl.constantPart + g.offNl + 6, reg: g.offLinkpl.reg };
  g.offLinktype = { ...g.offLinkhdr };
  g.offLinkpl.constantPart = g.offLinkhdr.constantPart + 2;
  g.offNl = 0;
  g.offNlNosnap = 0;
  return b0;
}

/** Initialise the variable VLAN offsets at the start of the program (insert_compute_vloffsets). */
export function insertComputeVloffsets(g: CodeGen, b: Block): void {
  if (g.offLinkpl.reg !== -1 && g.offLinkhdr.isVariable && g.offLinkhdr.reg === -1) g.offLinkhdr.reg = g.allocReg();
  if (!g.isVlanVloffset) return;
  if (g.offLinkpl.reg === -1) g.offLinkpl.reg = g.allocReg();
  if (g.offLinktype.reg === -1) g.offLinktype.reg = g.allocReg();
  const s = stmt(LD | W | 0x00, 0);
  sappend(s, stmt(ST, g.offLinkpl.reg));
  sappend(s, stmt(ST, g.offLinktype.reg));
  sappend(s, b.stmts);
  b.stmts = s;
}

const GENEVE_PORT = 6081;
const ETHERTYPE_TEB = 0x6558;
const IPPROTO_UDP = 17;
const X = 0x08;
const TAX = 0x00, TXA = 0x80;
const STX = 0x03;

function genevePortCheck(g: CodeGen, v6: boolean, vni: number, hasVni: boolean): Block {
  let b0 = v6 ? g.port6(GENEVE_PORT, IPPROTO_UDP, 'dst') : g.port4(GENEVE_PORT, IPPROTO_UDP, 'dst');
  const rel = v6 ? 'tran_ipv6' : 'tran_ipv4';
  let b1 = g.mcmp(rel, 8, B, 0, 0xc0);
  genAnd(b0, b1);
  b0 = b1;
  if (hasVni) {
    if (vni > 0xffffff) g.error(`Geneve VNI ${vni} greater than maximum 16777215`);
    b1 = g.mcmp(rel, 12, W, (vni << 8) >>> 0, 0xffffff00);
    genAnd(b0, b1);
    b0 = b1;
  }
  return b0;
}

export function genGeneve(g: CodeGen, vni: number, hasVni: boolean): Block {
  // Over IPv4: leave the UDP header offset in A and X.
  let b0 = genevePortCheck(g, false, vni, hasVni);
  let s = g.loadxIphdrlen();
  sappend(s, stmt(MISC | TXA));
  let b1 = new Block(JMP | JEQ | X, 0);
  b1.stmts = s;
  genAnd(b0, b1);
  const v4 = b1;
  // Over IPv6 (no extension headers): 40.
  b0 = genevePortCheck(g, true, vni, hasVni);
  const varpart = g.absOffsetVarpart(g.offLinkpl);
  if (varpart) {
    s = varpart;
    sappend(s, stmt(LD | 0x00, 40));
    sappend(s, stmt(ALU | 0x00 | X, 0));
  } else s = stmt(LD | 0x00, 40);
  sappend(s, stmt(MISC | TAX));
  b1 = new Block(JMP | JEQ | X, 0);
  b1.stmts = s;
  genAnd(b0, b1);
  genOr(v4, b1);
  b0 = b1;
  const offsets = genevOffsets(g);
  b1 = g.genTrue();
  sappend(offsets, b1.stmts);
  b1.stmts = offsets;
  genAnd(b0, b1);
  g.isGeneve = true;
  return b1;
}

/** Compute where the inner frame starts (after the Geneve options) into scratch registers. */
function genevOffsets(g: CodeGen): Slist {
  const s = stmt(ALU | 0x00, g.offLinkpl.constantPart + g.offNl + 8);
  sappend(s, stmt(MISC | TAX));
  sappend(s, stmt(ALU | 0x00, 2));
  g.offLinktype = { reg: g.allocReg(), isVariable: true, constantPart: 0 };
  sappend(s, stmt(ST, g.offLinktype.reg));
  sappend(s, stmt(LD | IND | B, 0));
  sappend(s, stmt(ALU | 0x50, 0x3f));
  sappend(s, stmt(ALU | 0x20, 4));
  sappend(s, stmt(ALU | 0x00, 8));
  sappend(s, stmt(ALU | 0x00 | X, 0));
  g.prevlinktype = g.linktype;
  g.offPrevlinkhdr = { ...g.offLinkhdr };
  g.linktype = 'EN10MB';
  g.offLinkhdr = { isVariable: true, constantPart: 0, reg: g.allocReg() };
  g.isGeneve = false;
  sappend(s, stmt(ST, g.offLinkhdr.reg));
  g.noOptimize = true;
  sappend(s, stmt(LD | IND | H, 2));
  sappend(s, stmt(LDX | MEM, g.offLinkhdr.reg));
  const proto = stmt(JMP | JEQ, ETHERTYPE_TEB);
  sappend(s, proto);
  const txa = stmt(MISC | TXA);
  sappend(s, txa);
  proto.s.jt = txa;
  sappend(s, stmt(ALU | 0x00, 12));
  sappend(s, stmt(ST, g.offLinktype.reg));
  sappend(s, stmt(ALU | 0x00, 2));
  sappend(s, stmt(MISC | TAX));
  g.offLinkpl = { reg: g.allocReg(), isVariable: true, constantPart: 0 };
  const stx = stmt(STX, g.offLinkpl.reg);
  sappend(s, stx);
  proto.s.jf = stx;
  g.offNl = 0;
  return s;
}
