/**
 * The tokenizer for pcap-filter(7) expressions, matching libpcap's scanner.l:
 * longest match wins, ties go to the earlier rule (so keywords beat names
 * and numbers beat names of the same length).
 */
import { FilterError } from './errors.js';

export type TokenKind =
  | 'kw' // keyword; `text` holds its canonical name
  | 'num' // NUM; `value` holds the number
  | 'id' // ID (a name)
  | 'hid' // dotted IPv4 address or prefix ("10", "10.1", "10.1.2.3" with dots)
  | 'hid6'
  | 'eid' // MAC address
  | 'aid' // $xx ARCnet address
  | 'op' // one of + - * / % : [ ] ! < > ( ) & | ^ = >= <= != << >> && ||
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly value: number;
  readonly pos: number;
}

/** Keyword spellings -> canonical token names (grammar terminals). */
const KEYWORDS: Record<string, string> = {
  dst: 'dst', src: 'src',
  link: 'link', ether: 'link', ppp: 'link', slip: 'link', fddi: 'link', tr: 'link', wlan: 'link',
  arp: 'arp', rarp: 'rarp', ip: 'ip', sctp: 'sctp', tcp: 'tcp', udp: 'udp', icmp: 'icmp', igmp: 'igmp', igrp: 'igrp',
  pim: 'pim', vrrp: 'vrrp', carp: 'carp', radio: 'radio',
  ip6: 'ip6', icmp6: 'icmp6', ah: 'ah', esp: 'esp',
  atalk: 'atalk', aarp: 'aarp', decnet: 'decnet', lat: 'lat', sca: 'sca', moprc: 'moprc', mopdl: 'mopdl',
  iso: 'iso', esis: 'esis', 'es-is': 'esis', isis: 'isis', 'is-is': 'isis',
  l1: 'l1', l2: 'l2', iih: 'iih', lsp: 'lsp', snp: 'snp', csnp: 'csnp', psnp: 'psnp', clnp: 'clnp',
  stp: 'stp', ipx: 'ipx', netbeui: 'netbeui',
  host: 'host', net: 'net', mask: 'mask', port: 'port', portrange: 'portrange', proto: 'proto', protochain: 'protochain',
  gateway: 'gateway',
  type: 'type', subtype: 'subtype', direction: 'dir', dir: 'dir',
  address1: 'addr1', addr1: 'addr1', address2: 'addr2', addr2: 'addr2', address3: 'addr3', addr3: 'addr3',
  address4: 'addr4', addr4: 'addr4', ra: 'ra', ta: 'ta',
  less: 'less', greater: 'greater', byte: 'byte', broadcast: 'broadcast', multicast: 'multicast',
  and: 'and', or: 'or', not: '!',
  len: 'len', length: 'len', inbound: 'inbound', outbound: 'outbound', ifindex: 'ifindex',
  vlan: 'vlan', mpls: 'mpls', pppoed: 'pppoed', pppoes: 'pppoes', geneve: 'geneve',
  lane: 'lane', llc: 'llc', metac: 'metac', bcc: 'bcc', oam: 'oam', oamf4: 'oamf4', oamf4ec: 'oamf4ec',
  oamf4sc: 'oamf4sc', sc: 'sc', ilmic: 'ilmic', vpi: 'vpi', vci: 'vci', connectmsg: 'connectmsg', metaconnect: 'metaconnect',
  on: 'ifname', ifname: 'ifname', rset: 'rset', ruleset: 'rset', rnr: 'rnr', rulenum: 'rnr', srnr: 'srnr',
  subrulenum: 'srnr', reason: 'reason', action: 'action',
  fisu: 'fisu', lssu: 'lssu', lsu: 'lssu', msu: 'msu', hfisu: 'hfisu', hlssu: 'hlssu', hmsu: 'hmsu',
  sio: 'sio', opc: 'opc', dpc: 'dpc', sls: 'sls', hsio: 'hsio', hopc: 'hopc', hdpc: 'hdpc', hsls: 'hsls',
};

/** Names the scanner turns into numbers (named offsets and flag values). */
const NAMED_NUMBERS: Record<string, number> = {
  icmptype: 0, icmpcode: 1,
  'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-sourcequench': 4, 'icmp-redirect': 5, 'icmp-echo': 8,
  'icmp-routeradvert': 9, 'icmp-routersolicit': 10, 'icmp-timxceed': 11, 'icmp-paramprob': 12,
  'icmp-tstamp': 13, 'icmp-tstampreply': 14, 'icmp-ireq': 15, 'icmp-ireqreply': 16, 'icmp-maskreq': 17,
  'icmp-maskreply': 18,
  icmp6type: 0, icmp6code: 1,
  'icmp6-destinationunreach': 1, 'icmp6-packettoobig': 2, 'icmp6-timeexceeded': 3, 'icmp6-parameterproblem': 4,
  'icmp6-echo': 128, 'icmp6-echoreply': 129, 'icmp6-multicastlistenerquery': 130,
  'icmp6-multicastlistenerreportv1': 131, 'icmp6-multicastlistenerdone': 132, 'icmp6-routersolicit': 133,
  'icmp6-routeradvert': 134, 'icmp6-neighborsolicit': 135, 'icmp6-neighboradvert': 136, 'icmp6-redirect': 137,
  'icmp6-routerrenum': 138, 'icmp6-nodeinformationquery': 139, 'icmp6-nodeinformationresponse': 140,
  'icmp6-ineighbordiscoverysolicit': 141, 'icmp6-ineighbordiscoveryadvert': 142,
  'icmp6-multicastlistenerreportv2': 143, 'icmp6-homeagentdiscoveryrequest': 144,
  'icmp6-homeagentdiscoveryreply': 145, 'icmp6-mobileprefixsolicit': 146, 'icmp6-mobileprefixadvert': 147,
  'icmp6-certpathsolicit': 148, 'icmp6-certpathadvert': 149, 'icmp6-multicastrouteradvert': 151,
  'icmp6-multicastroutersolicit': 152, 'icmp6-multicastrouterterm': 153,
  tcpflags: 13, 'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08, 'tcp-ack': 0x10,
  'tcp-urg': 0x20, 'tcp-ece': 0x40, 'tcp-cwr': 0x80,
};

const N = '(?:0[xX][0-9A-Fa-f]+|[0-9]+)';
const B = '[0-9A-Fa-f][0-9A-Fa-f]?';
const B2 = '[0-9A-Fa-f]{4}';
const RE_N = new RegExp(N, 'y');
const RE_HID = new RegExp(`${N}\\.${N}(?:\\.${N}(?:\\.${N})?)?`, 'y');
const RE_MAC = new RegExp(
  `(?:${B}:${B}:${B}:${B}:${B}:${B}|${B}-${B}-${B}-${B}-${B}-${B}|${B}\\.${B}\\.${B}\\.${B}\\.${B}\\.${B}|${B2}\\.${B2}\\.${B2}|${B2}${B2}${B2})`,
  'y',
);
const RE_AID = new RegExp(`\\$${B}`, 'y');
const RE_BOGUS_MAC = new RegExp(`${B}:+(?:${B}:+)+`, 'y');
const RE_ID = /[A-Za-z0-9](?:[-_.A-Za-z0-9]*[.A-Za-z0-9])?/y;
const RE_ESC_ID = /\\[^ !()\n\t]+/y;
const RE_V6CHARS = /[0-9A-Fa-f:.]+/y;
const OPS2 = ['>=', '<=', '!=', '==', '<<', '>>', '&&', '||'];
const OPS1 = '+-*/%:[]!<>()&|^=';

function matchAt(re: RegExp, s: string, pos: number): string | undefined {
  re.lastIndex = pos;
  const m = re.exec(s);
  return m ? m[0] : undefined;
}

/** Longest prefix of `s` that is an IPv6 address in one of scanner.l's V6 forms. */
function matchV6(s: string): number {
  for (let len = s.length; len > 0; len--) if (s[len - 1] !== '.' && isV6(s.slice(0, len))) return len;
  return 0;
}

function isV6(t: string): boolean {
  if (!t.includes(':')) return false;
  let tail = 0;
  let head = t;
  const v4 = /(?:^|:)((?:[0-9]+|0[xX][0-9A-Fa-f]+)\.(?:[0-9]+|0[xX][0-9A-Fa-f]+)\.(?:[0-9]+|0[xX][0-9A-Fa-f]+)\.(?:[0-9]+|0[xX][0-9A-Fa-f]+))$/.exec(t);
  if (v4) {
    tail = 2;
    head = t.slice(0, t.length - v4[1]!.length);
    if (!head.endsWith(':')) return false;
    if (head.endsWith('::')) head = head; // "::" before the IPv4 part
    else head = head.slice(0, -1);
  }
  const W = /^[0-9A-Fa-f]{1,4}$/;
  const dbl = head.indexOf('::');
  if (dbl >= 0) {
    if (head.indexOf('::', dbl + 1) >= 0) return false;
    const left = head.slice(0, dbl);
    const right = head.slice(dbl + 2);
    const l = left === '' ? [] : left.split(':');
    const r = right === '' ? [] : right.split(':');
    if (![...l, ...r].every((g) => W.test(g))) return false;
    return l.length + r.length + tail <= 7;
  }
  const g = head.split(':');
  if (!g.every((x) => W.test(x))) return false;
  return g.length + tail === 8;
}

function parseNum(text: string, pos: number): number {
  let n = 0;
  if (text[0] === '0' && (text[1] === 'x' || text[1] === 'X')) {
    for (const c of text.slice(2)) {
      if (n > 0xfffffff) throw new FilterError(`number ${text} overflows 32 bits`, pos);
      n = n * 16 + parseInt(c, 16);
    }
  } else if (text[0] === '0') {
    for (const c of text.slice(1)) {
      if (c > '7') throw new FilterError(`number ${text} contains non-octal digit`, pos);
      if (n > 0x1fffffff) throw new FilterError(`number ${text} overflows 32 bits`, pos);
      n = n * 8 + (c.charCodeAt(0) - 48);
    }
  } else {
    for (const c of text) {
      const d = c.charCodeAt(0) - 48;
      if (n > 429496729 || (n === 429496729 && d > 5)) throw new FilterError(`number ${text} overflows 32 bits`, pos);
      n = n * 10 + d;
    }
  }
  return n >>> 0;
}

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let pos = 0;
  while (pos < src.length) {
    const c = src[pos]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      pos++;
      continue;
    }
    // Candidates in rule order; keep the longest (first on ties).
    let best: { len: number; make: () => Token } | undefined;
    const offer = (len: number | undefined, make: () => Token): void => {
      if (len !== undefined && len > 0 && (!best || len > best.len)) best = { len, make };
    };
    const id = matchAt(RE_ID, src, pos);
    if (id !== undefined) {
      const kw = KEYWORDS[id];
      if (kw !== undefined) offer(id.length, () => ({ kind: 'kw', text: kw, value: 0, pos }));
    }
    const two = src.slice(pos, pos + 2);
    if (OPS1.includes(c)) offer(1, () => ({ kind: 'op', text: c, value: 0, pos }));
    if (OPS2.includes(two)) {
      const text = two === '==' ? '=' : two === '&&' ? 'and' : two === '||' ? 'or' : two;
      offer(2, () => (text === 'and' || text === 'or' ? { kind: 'kw', text, value: 0, pos } : { kind: 'op', text, value: 0, pos }));
    }
    const aid = matchAt(RE_AID, src, pos);
    offer(aid?.length, () => ({ kind: 'aid', text: aid!, value: 0, pos }));
    const mac = matchAt(RE_MAC, src, pos);
    offer(mac?.length, () => ({ kind: 'eid', text: mac!, value: 0, pos }));
    const num = matchAt(RE_N, src, pos);
    offer(num?.length, () => ({ kind: 'num', text: num!, value: parseNum(num!, pos), pos }));
    const hid = matchAt(RE_HID, src, pos);
    offer(hid?.length, () => ({ kind: 'hid', text: hid!, value: 0, pos }));
    const v6run = matchAt(RE_V6CHARS, src, pos);
    if (v6run !== undefined) {
      const len = matchV6(v6run);
      if (len > 0) offer(len, () => ({ kind: 'hid6', text: src.slice(pos, pos + len), value: 0, pos }));
    }
    const bogus = matchAt(RE_BOGUS_MAC, src, pos);
    offer(bogus?.length, () => {
      throw new FilterError(`bogus ethernet address ${bogus}`, pos);
    });
    if (id !== undefined && Object.hasOwn(NAMED_NUMBERS, id)) {
      offer(id.length, () => ({ kind: 'num', text: id, value: NAMED_NUMBERS[id]!, pos }));
    }
    offer(id?.length, () => ({ kind: 'id', text: id!, value: 0, pos }));
    const esc = matchAt(RE_ESC_ID, src, pos);
    offer(esc?.length, () => ({ kind: 'id', text: esc!.slice(1), value: 0, pos }));
    if (!best) throw new FilterError("can't parse filter expression: syntax error", pos);
    out.push(best.make());
    pos += best.len;
  }
  out.push({ kind: 'eof', text: '', value: 0, pos: src.length });
  return out;
}
