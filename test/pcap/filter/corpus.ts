/**
 * Filter expressions for the differential tests against tcpdump. Each line is
 * an expression; a line may start with "LINKTYPE:" to compile for another
 * link type (default EN10MB). Expressions that libpcap refuses are in
 * REFUSED: we must refuse them with the same message.
 */
import type { LinkType } from '../../../src/pcap/filter/index.js';

export interface CorpusEntry {
  readonly expr: string;
  readonly linkType: LinkType;
}

const ACCEPTED = String.raw`
ip
ip6
arp
rarp
tcp
udp
sctp
icmp
icmp6
igmp
igrp
pim
vrrp
carp
ah
esp
atalk
aarp
decnet
lat
sca
moprc
mopdl
iso
esis
isis
clnp
stp
ipx
netbeui
l1
l2
iih
lsp
snp
csnp
psnp
host 192.168.1.1
src host 10.0.0.1
dst host 10.0.0.2
src or dst host 10.1.2.3
src and dst host 10.1.2.3
dst or src host 172.16.0.1
dst and src host 172.16.0.1
ip host 1.2.3.4
ip src host 1.2.3.4
ip dst 1.2.3.4
arp host 10.0.0.1
arp src host 10.0.0.1
rarp dst host 10.0.0.1
host 1.2.3.4 or 5.6.7.8
host 1.2.3.4 and 5.6.7.8
host 1.2.3.4 or host 5.6.7.8
src 1.2.3.4
dst 10.0.0.1
net 10.0.0.0/8
net 192.168.0.0/16
net 172.16.0.0/12
net 0.0.0.0/0
net 10.1.2.3/32
src net 10.0.0.0/8
dst net 192.168.1.0/24
net 10.0.0.0 mask 255.0.0.0
net 192.168.0.0 mask 255.255.0.0
src net 172.16.0.0 mask 255.240.0.0
net 10
net 10.1
net 10.1.2
net 192.168
ip net 10.0.0.0/8
arp net 10.0.0.0/8
ip src net 10.0.0.0/8 and dst net 192.168.0.0/16
host 10.1
port 80
port 53
port 0
port 65535
src port 1024
dst port 443
src or dst port 22
src and dst port 22
tcp port 80
tcp src port 80
tcp dst port 8080
udp port 53
udp src port 67
udp dst port 68
sctp port 9999
port 80 or 443
port 80 or port 443
tcp port 80 or 443
tcp port 80 and 443
port http
port https
port domain
port ssh
tcp port http
udp port domain
port ntp
port bootps
src port telnet
port 80 or http
portrange 1-1024
portrange 6000-6010
tcp portrange 1024-65535
udp portrange 5000-6000
src portrange 100-200
dst portrange 300-400
sctp portrange 1-2
portrange 20-10
tcp portrange 80
ether host 01:02:03:04:05:06
ether src 00:11:22:33:44:55
ether dst ff:ff:ff:ff:ff:ff
ether src host aa:bb:cc:dd:ee:ff
ether dst host 0a:0b:0c:0d:0e:0f
ether host 1:2:3:4:5:6
ether host 01-02-03-04-05-06
ether host 0102.0304.0506
ether host 010203040506
ether src or dst 00:00:00:00:00:01
ether src and dst 00:00:00:00:00:01
ether proto 0x800
ether proto 0x86dd
ether proto 2048
ether proto \ip
ether proto \arp
ether proto \rarp
ether proto \ip6
ether proto \atalk
ether proto \aarp
ether proto \decnet
ether proto \loopback
ether proto \iso
ether proto \stp
ether proto \ipx
ether proto \netbeui
ether proto 100
link proto 0x0806
ether broadcast
ether multicast
broadcast
multicast
ip multicast
ip6 multicast
ip broadcast
ip proto 6
ip proto 17
ip proto 1
ip proto 50
ip proto \tcp
ip proto \udp
ip proto \icmp
ip proto ospf
ip proto gre
ip proto \esp
ip6 proto 6
ip6 proto 17
ip6 proto 58
ip6 proto \tcp
proto 6
proto \udp
proto 47
iso proto \esis
iso proto \isis
iso proto \clnp
isis proto 15
protochain 6
ip protochain 6
ip6 protochain 17
ip6 protochain \tcp
protochain 58
ip6 host ::1
ip6 host fe80::1
ip6 src host 2001:db8::1
ip6 dst 2001:db8:0:0:0:0:0:2
host ::ffff:1.2.3.4
host 2001:db8::/128
net 2001:db8::/32
src net fe80::/10
dst net ::/0
net ff00::/8
ip6 net 2001:db8:1::/48
ip6 host 1:2:3:4:5:6:7:8
len > 100
len < 100
len >= 64
len <= 1500
len = 60
len != 60
less 100
greater 1000
less 64 or greater 1500
ip[0] & 0xf != 5
ip[0] & 0xf0 = 0x40
ip[8] = 64
ip[8] < 10
ip[9] = 6
ip[2:2] > 576
ip[6:2] & 0x1fff = 0
ip[6] & 0x20 != 0
ip[12:4] = 0x0a000001
ip[16:4] & 0xff000000 = 0x0a000000
ip[1] & 0xfc = 0
tcp[0:2] = 80
tcp[2:2] = 443
tcp[13] = 2
tcp[13] & 2 != 0
tcp[13] & 0x12 = 0x12
tcp[tcpflags] & tcp-syn != 0
tcp[tcpflags] & (tcp-syn|tcp-fin) != 0
tcp[tcpflags] & tcp-rst != 0
tcp[tcpflags] & tcp-push != 0
tcp[tcpflags] & tcp-ack != 0
tcp[tcpflags] & tcp-urg != 0
tcp[tcpflags] & tcp-ece != 0
tcp[tcpflags] & tcp-cwr != 0
tcp[tcpflags] = tcp-syn
tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn
tcp[12] >> 4 > 5
tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420
udp[0:2] = 53
udp[2:2] = 53
udp[4:2] > 512
udp[8] = 1
icmp[icmptype] = icmp-echo
icmp[icmptype] = icmp-echoreply
icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply
icmp[icmpcode] = 3
icmp[0] = icmp-unreach
icmp[icmptype] = icmp-timxceed
icmp[icmptype] = icmp-redirect or icmp[icmptype] = icmp-sourcequench
icmp[icmptype] = icmp-routeradvert or icmp[icmptype] = icmp-routersolicit
icmp[icmptype] = icmp-paramprob
icmp[icmptype] = icmp-tstamp or icmp[icmptype] = icmp-tstampreply
icmp[icmptype] = icmp-ireq or icmp[icmptype] = icmp-ireqreply
icmp[icmptype] = icmp-maskreq or icmp[icmptype] = icmp-maskreply
icmp6[icmp6type] = icmp6-echo
icmp6[icmp6type] = icmp6-echoreply
icmp6[icmp6type] = icmp6-neighborsolicit
icmp6[icmp6type] = icmp6-neighboradvert
icmp6[icmp6type] = icmp6-routersolicit or icmp6[icmp6type] = icmp6-routeradvert
icmp6[icmp6code] = 0
icmp6[0] = icmp6-destinationunreach
icmp6[0] = icmp6-packettoobig
icmp6[0] = icmp6-timeexceeded
icmp6[0] = icmp6-parameterproblem
icmp6[0] = icmp6-multicastlistenerquery
igmp[0] = 0x11
pim[0] & 0xf = 0
vrrp[1] = 1
carp[0] = 0x21
sctp[0:2] = 80
igrp[0] = 1
ip6[6] = 17
ip6[7] = 255
ip6[0:4] & 0xfff00000 = 0x60000000
arp[6:2] = 1
arp[7] = 2
rarp[6:2] = 3
ether[0] & 1 = 1
ether[12:2] = 0x800
link[0] = 0xff
ether[6:4] = 0x00112233
ip[0] + 1 = 0x46
ip[0] - 1 = 0x44
ip[0] * 2 = 0x8a
ip[0] / 2 = 0x22
ip[0] % 16 = 5
ip[0] ^ 0x45 = 0
ip[0] | 1 = 0x45
ip[0] << 1 = 0x8a
ip[0] >> 4 = 4
ip[2:2] - 20 > 100
-ip[0] = -0x45
ip[0] + ip[1] > 0
len - 14 > 1000
len * 2 > 3000
(ip[0] & 0xf) * 4 = 20
ip[2:2] - ((ip[0] & 0xf) << 2) - ((tcp[12] & 0xf0) >> 2) != 0
1 + 2 = 3
10 - 4 > 5
5 & 3 = 1
1 < 2
len > 0
vlan
vlan 100
vlan 0
vlan 4095
vlan and ip
vlan 10 and ip
vlan 10 and host 10.0.0.1
vlan 10 and tcp port 80
vlan and vlan
vlan 10 and vlan 20
vlan 10 and vlan 20 and ip
vlan and ip6
vlan or ip
not vlan
mpls
mpls 100
mpls 0
mpls and ip
mpls 100 and ip
mpls and mpls
mpls 1 and mpls 2
mpls and host 10.0.0.1
mpls and ip6
mpls and tcp
pppoed
pppoes
pppoes 1
pppoes 0x1234
pppoes and ip
pppoes 5 and ip
pppoes and ip6
pppoes and tcp port 80
pppoed or pppoes
not ip
not tcp
! udp
not not ip
not (tcp or udp)
ip and not tcp
ip and tcp
tcp or udp
tcp or udp or icmp
tcp and port 80
tcp and (port 80 or port 443)
(tcp and port 80) or (udp and port 53)
ip && tcp
tcp || udp
!tcp
ip and ! udp
host 10.0.0.1 and port 80
host 10.0.0.1 and (port 80 or 443)
host 10.0.0.1 and not port 22
src host 10.0.0.1 and dst port 80
not host 10.0.0.1
not port 53
arp or rarp
ip or ip6
ip or arp or rarp
icmp or icmp6
tcp and (tcp[tcpflags] & tcp-syn != 0)
tcp port 80 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)
(host 10.0.0.1 or host 10.0.0.2) and tcp
host 10.0.0.1 and (host 10.0.0.2 or 10.0.0.3)
tcp and not (port 22 or port 23)
ip and (ip[8] < 5 or ip[8] > 250)
udp and (port 53 or port 67 or port 68 or port 123)
ether src 00:11:22:33:44:55 and ip
ether broadcast or ether multicast
not broadcast and not multicast
ip and not ip multicast
greater 64 and less 1500
tcp[13] = 18 or tcp[13] = 2
ip host 10.0.0.1 or arp host 10.0.0.1
port 80 and host 1.2.3.4
tcp dst port 80 and src net 10.0.0.0/8
tcp and src port 1024 and dst port 80
icmp and ip[8] = 64
ip6 and tcp
ip6 and udp port 53
ip6 and icmp6
tcp and ip6
ip and udp and port 53
not ip and not arp
ip proto 6 or ip proto 17
ip6 proto 6 or ip6 proto 17
host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or host 10.0.0.4
net 10.0.0.0/8 or net 172.16.0.0/12 or net 192.168.0.0/16
not net 10.0.0.0/8
ether host 01:02:03:04:05:06 or ether host 0a:0b:0c:0d:0e:0f
tcp[0:2] > 1023 and tcp[2:2] > 1023
udp[0:2] = 53 or udp[2:2] = 53
ip[0] & 0xf > 5
(ip)
((tcp))
(ip and tcp) or (ip6 and udp)
tcp port 80 or tcp port 443 or tcp port 8080
port (80 or 443)
host (10.0.0.1 or 10.0.0.2)
decnet host 1.2
decnet host 1
llc
geneve
geneve 100
geneve and ip
geneve 5 and tcp port 80
geneve and ether host 1:2:3:4:5:6
geneve and broadcast
geneve and multicast
geneve and vlan
geneve and ip6 host ::1
vlan and geneve
RAW:geneve
LINUX_SLL:geneve and arp
llc i
llc s
llc u
llc rr
llc rnr
llc ui
llc xid
llc and not stp
decnet src 10.513
decnet dst host 63.1023
decnet src and dst 1.1
byte 0 = 1
byte 3 > 5
byte 2 < 5
ether[0:4] = 0x01005e00 and ip
port 0x50
port 0120
portrange http-https
portrange 80-http
ip[0] % 3 + 1 = 2
ip[0] + 1 % 3 = 2
ip[0] ^ 1 * 2 = 3
- ip[0] ^ 3 = 2
ip[0] << 2 >> 1 = 4
ip[0] & 3 | 4 = 7
ip[ip[0] & 0xf] = 1
tcp[tcp[0]] = 1
ether[len - 1] = 0
RAW:ip
RAW:ip6
RAW:tcp
RAW:udp port 53
RAW:host 10.0.0.1
RAW:net 10.0.0.0/8
RAW:ip6 host ::1
RAW:tcp port 80
RAW:icmp
RAW:ip[9] = 6
RAW:tcp[13] & 2 != 0
RAW:len > 100
RAW:portrange 1-1024
RAW:ip proto 47
RAW:not ip
NULL:ip
NULL:ip6
NULL:tcp port 80
NULL:host 127.0.0.1
NULL:udp
NULL:ip6 host ::1
NULL:icmp
LOOP:ip
LOOP:ip6
LOOP:tcp port 22
LOOP:host 10.0.0.1
LOOP:udp and port 53
LINUX_SLL:ip
LINUX_SLL:ip6
LINUX_SLL:arp
LINUX_SLL:tcp port 80
LINUX_SLL:host 10.0.0.1
LINUX_SLL:udp port 53
LINUX_SLL:ipx
LINUX_SLL:stp
LINUX_SLL:iso
LINUX_SLL:atalk
LINUX_SLL:inbound
LINUX_SLL:outbound
LINUX_SLL:icmp6
LINUX_SLL:ether proto 0x88cc
LINUX_SLL:ip and tcp[13] & 2 != 0
LINUX_SLL2:ip
LINUX_SLL2:ip6
LINUX_SLL2:arp
LINUX_SLL2:tcp port 80
LINUX_SLL2:host 10.0.0.1
LINUX_SLL2:inbound
LINUX_SLL2:outbound
LINUX_SLL2:ifindex 3
LINUX_SLL2:ifindex 1 and tcp
LINUX_SLL2:udp and not port 53
LINUX_SLL2:net 192.168.0.0/16
LINUX_SLL2:ip6 net 2001:db8::/32
`;

const REFUSED = String.raw`
tcp and udp
ip and arp
ip and not ip
host
port
foo
1.2.3.4
not 1.2.3.4
ip and
tcp src port 80 and
(ip
ip)
ip proto tcp
tcp or 80
(host 1.2.3.4) or 5.6.7.8
net 10.0.0.1/8
net 10.0.0.1 mask 255.0.0.0
net 10.0.0.0/33
port 99999
portrange 1-99999
vlan 5000
mpls 2000000
pppoes 70000
host foo.invalid
port nosuchservice
tcp port ntp
udp port ssh
ip proto nosuchproto
ether proto \nosuchproto
tcp host 1.2.3.4
udp net 10.0.0.0/8
ip6 host 1.2.3.4
ip host ::1
tcp proto 6
arp proto 6
ip[0:3] = 1
ip[0] / 0 = 1
ip[0] % 0 = 1
ip[0] << 32 = 1
gateway 1.2.3.4
port 1.2.3.4
proto 1.2.3.4
host 1.2.3.4/8
net 2001:db8::1/32
ether src 1.2.3.4
link host 1.2.3.4
icmp port 80
ip port 80
tcp portrange 1-2 and udp and tcp
ip and ip6
decnet host foo
llc foo
geneve 20000000
LINUX_SLL:llc
inbound dst !
dst \tcp port
tcp port 99999 and (
ip[0:3] = 1 and (
ifindex 1
LINUX_SLL:ifindex 2
inbound
RAW:outbound
portrange ftp-data-ftp
2 * 3 = 7
RAW:arp
NULL:arp
`;

function parseLines(text: string): CorpusEntry[] {
  const out: CorpusEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^(EN10MB|RAW|LINUX_SLL2|LINUX_SLL|NULL|LOOP):(.*)$/.exec(line);
    out.push(m ? { linkType: m[1] as LinkType, expr: m[2]! } : { linkType: 'EN10MB', expr: line });
  }
  return out;
}

export const CORPUS: readonly CorpusEntry[] = parseLines(ACCEPTED);
export const REFUSED_CORPUS: readonly CorpusEntry[] = parseLines(REFUSED);
