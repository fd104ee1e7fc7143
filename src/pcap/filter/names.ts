/**
 * Built-in name tables. libpcap asks the C library (/etc/services,
 * /etc/protocols); we carry the well-known entries of a Debian system so the
 * compiler gives the same answers in a browser.
 */

/** Service name -> port and which transports define it. */
const SERVICES: Record<string, { port: number; tcp: boolean; udp: boolean }> = {};
function svc(names: string, port: number, tcp: boolean, udp: boolean): void {
  for (const n of names.split(' ')) SERVICES[n] = { port, tcp, udp };
}
svc('echo', 7, true, true);
svc('discard sink null', 9, true, true);
svc('ftp-data', 20, true, false);
svc('ftp', 21, true, false);
svc('ssh', 22, true, false);
svc('telnet', 23, true, false);
svc('smtp mail', 25, true, false);
svc('time timserver', 37, true, true);
svc('whois nicname', 43, true, false);
svc('tacacs', 49, true, true);
svc('domain', 53, true, true);
svc('bootps', 67, false, true);
svc('bootpc', 68, false, true);
svc('tftp', 69, false, true);
svc('gopher', 70, true, false);
svc('finger', 79, true, false);
svc('http www', 80, true, false);
svc('kerberos kerberos5 krb5 kerberos-sec', 88, true, true);
svc('pop3 pop-3', 110, true, false);
svc('sunrpc portmapper', 111, true, true);
svc('auth authentication tap ident', 113, true, false);
svc('nntp readnews untp', 119, true, false);
svc('ntp', 123, false, true);
svc('epmap loc-srv', 135, true, false);
svc('netbios-ns', 137, false, true);
svc('netbios-dgm', 138, false, true);
svc('netbios-ssn', 139, true, false);
svc('imap2 imap', 143, true, false);
svc('snmp', 161, true, true);
svc('snmp-trap snmptrap', 162, true, true);
svc('bgp', 179, true, false);
svc('ldap', 389, true, true);
svc('https', 443, true, true);
svc('microsoft-ds', 445, true, false);
svc('isakmp', 500, false, true);
svc('rtsp', 554, true, true);
svc('submission', 587, true, false);
svc('ipp', 631, true, false);
svc('ldaps', 636, true, true);
svc('domain-s', 853, true, true);
svc('rsync', 873, true, false);
svc('imaps', 993, true, false);
svc('pop3s', 995, true, false);
svc('socks', 1080, true, false);
svc('openvpn', 1194, true, true);
svc('ms-sql-s', 1433, true, false);
svc('ms-sql-m', 1434, false, true);
svc('radius', 1812, true, true);
svc('radius-acct radacct', 1813, true, true);
svc('nfs', 2049, true, true);
svc('mysql', 3306, true, false);
svc('sip', 5060, true, true);
svc('postgresql postgres', 5432, true, false);
svc('mdns', 5353, false, true);
svc('x11 x11-0', 6000, true, false);
svc('http-alt webcache', 8080, true, false);

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_SCTP = 132;
/** "Any of TCP, UDP and SCTP" in port lookups. */
export const PROTO_UNDEF = -1;

/** pcap_nametoport: the port and the transport it belongs to (PROTO_UNDEF if both). */
export function nameToPort(name: string): { port: number; proto: number } | undefined {
  const e = Object.hasOwn(SERVICES, name) ? SERVICES[name] : undefined;
  if (e === undefined) {
    // getaddrinfo also accepts numeric service strings.
    if (/^[0-9]+$/.test(name)) return { port: Number(name), proto: PROTO_UNDEF };
    return undefined;
  }
  if (e.tcp) return { port: e.port, proto: e.udp ? PROTO_UNDEF : IPPROTO_TCP };
  return { port: e.port, proto: IPPROTO_UDP };
}

/** pcap_nametoportrange: "p1-p2" with numbers or service names. */
export function nameToPortRange(name: string): { port1: number; port2: number; proto: number } | undefined {
  const m = /^(-?[0-9]+)-(-?[0-9]+)/.exec(name);
  if (m) return { port1: Number(m[1]) | 0, port2: Number(m[2]) | 0, proto: PROTO_UNDEF };
  const dash = name.indexOf('-');
  if (dash < 0) return undefined;
  // Like libpcap, split at the first '-' (so names containing '-' cannot be the first bound).
  const a = nameToPort(name.slice(0, dash));
  if (!a) return undefined;
  const b = nameToPort(name.slice(dash + 1));
  if (!b) return undefined;
  return { port1: a.port, port2: b.port, proto: a.proto === b.proto ? b.proto : PROTO_UNDEF };
}

const PROTOCOLS: Record<string, number> = {
  ip: 0, IP: 0, hopopt: 0, HOPOPT: 0, icmp: 1, ICMP: 1, igmp: 2, IGMP: 2, ggp: 3, GGP: 3, ipencap: 4, 'IP-ENCAP': 4,
  st: 5, ST: 5, tcp: 6, TCP: 6, egp: 8, EGP: 8, igp: 9, IGP: 9, pup: 12, PUP: 12, udp: 17, UDP: 17, hmp: 20, HMP: 20,
  'xns-idp': 22, 'XNS-IDP': 22, rdp: 27, RDP: 27, 'iso-tp4': 29, 'ISO-TP4': 29, dccp: 33, DCCP: 33, xtp: 36, XTP: 36,
  ddp: 37, DDP: 37, 'idpr-cmtp': 38, 'IDPR-CMTP': 38, ipv6: 41, IPv6: 41, 'ipv6-route': 43, 'IPv6-Route': 43,
  'ipv6-frag': 44, 'IPv6-Frag': 44, idrp: 45, IDRP: 45, rsvp: 46, RSVP: 46, gre: 47, GRE: 47, esp: 50,
  'IPSEC-ESP': 50, ah: 51, 'IPSEC-AH': 51, skip: 57, SKIP: 57, 'ipv6-icmp': 58, 'IPv6-ICMP': 58, 'ipv6-nonxt': 59,
  'IPv6-NoNxt': 59, 'ipv6-opts': 60, 'IPv6-Opts': 60, rspf: 73, RSPF: 73, CPHB: 73, vmtp: 81, VMTP: 81, eigrp: 88,
  EIGRP: 88, ospf: 89, OSPFIGP: 89, 'ax.25': 93, 'AX.25': 93, ipip: 94, IPIP: 94, etherip: 97, ETHERIP: 97,
  encap: 98, ENCAP: 98, pim: 103, PIM: 103, ipcomp: 108, IPCOMP: 108, vrrp: 112, VRRP: 112, l2tp: 115, L2TP: 115,
  isis: 124, ISIS: 124, sctp: 132, SCTP: 132, fc: 133, FC: 133, 'mobility-header': 135, 'Mobility-Header': 135,
  udplite: 136, UDPLite: 136, 'mpls-in-ip': 137, 'MPLS-in-IP': 137, manet: 138, hip: 139, HIP: 139, shim6: 140,
  Shim6: 140, wesp: 141, WESP: 141, rohc: 142, ROHC: 142, ethernet: 143, Ethernet: 143, mptcp: 262, MPTCP: 262,
};

/** pcap_nametoproto (getprotobyname). */
export function nameToProto(name: string): number | undefined {
  return Object.hasOwn(PROTOCOLS, name) ? PROTOCOLS[name] : undefined;
}

const ETHER_PROTOS: Record<string, number> = {
  aarp: 0x80f3, arp: 0x0806, atalk: 0x809b, decnet: 0x6003, ip: 0x0800, ip6: 0x86dd, lat: 0x6004,
  loopback: 0x9000, mopdl: 0x6001, moprc: 0x6002, rarp: 0x8035, sca: 0x6007,
};
const LLC_PROTOS: Record<string, number> = { iso: 0xfe, stp: 0x42, ipx: 0xe0, netbeui: 0xf0 };

/** pcap_nametoeproto, then pcap_nametollc. */
export function nameToEtherProto(name: string): number | undefined {
  if (Object.hasOwn(ETHER_PROTOS, name)) return ETHER_PROTOS[name];
  if (Object.hasOwn(LLC_PROTOS, name)) return LLC_PROTOS[name];
  return undefined;
}
