import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SockFilter } from '../../../src/cbpf/index.js';
import { FilterError, compileFilter, type LinkType } from '../../../src/pcap/filter/index.js';
import { CORPUS } from './corpus.js';
import {
  liveCompileMissingReason, prefetchTcpdump, requireTools, tcpdumpCompile, tcpdumpCompileLive, tcpdumpMissingReason,
} from './tcpdump.js';

const sameProgram = (a: readonly SockFilter[], b: readonly SockFilter[]): boolean =>
  a.length === b.length && a.every((x, i) => x.code === b[i]!.code && x.jt === b[i]!.jt && x.jf === b[i]!.jf && x.k === b[i]!.k);

const ours = (expr: string, linkType: LinkType, optimize: boolean): SockFilter[] | string => {
  try {
    return compileFilter(expr, { linkType, optimize });
  } catch (e) {
    if (e instanceof FilterError) return e.reason;
    throw e;
  }
};

describe('more differential tests against tcpdump', () => {
  const skip = (t: { skip: (m: string) => void }): boolean => {
    const missing = tcpdumpMissingReason();
    if (!missing) return false;
    if (requireTools) assert.fail(missing);
    t.skip(missing);
    return true;
  };

  test('random compound expressions: identical to tcpdump (300, seeded)', async (t) => {
    if (skip(t)) return;
    const prims = ['ip', 'ip6', 'tcp', 'udp', 'icmp', 'arp', 'host 10.0.0.1', 'src host 1.2.3.4', 'dst net 10.0.0.0/8', 'port 80',
      'tcp port 443', 'udp dst port 53', 'portrange 1-100', 'ether src 1:2:3:4:5:6', 'ether broadcast', 'multicast',
      'ip multicast', 'vlan', 'vlan 5', 'mpls', 'mpls 7', 'pppoes', 'pppoes 3', 'pppoed', 'len > 100', 'less 64',
      'greater 200', 'ip[0] & 0xf != 5', 'tcp[13] & 2 != 0', 'ip proto 47', 'ip6 proto 6', 'ip6 host ::1',
      'net 2001:db8::/32', 'icmp[icmptype] = icmp-echo', 'udp[0:2] = 53', 'ether proto 0x88cc', 'ip[2:2] + 1 > ip[0]',
      'protochain 6', 'igmp', 'sctp', 'esp', 'stp', 'ipx', 'host 1.1.1.1 and 2.2.2.2', 'port 22 or 23',
      'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn', 'ip[8] % 7 ^ 3 > 2', 'len - 20 < ip[2:2]'];
    const links: LinkType[] = ['EN10MB', 'EN10MB', 'EN10MB', 'RAW', 'LINUX_SLL', 'LINUX_SLL2', 'NULL', 'LOOP'];
    let seed = 20261121;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const gen = (d: number): string => {
      if (d > 2 || rnd(3) === 0) return (rnd(5) === 0 ? 'not ' : '') + prims[rnd(prims.length)]!;
      const op = rnd(2) ? ' and ' : ' or ';
      const e = gen(d + 1) + op + gen(d + 1);
      return rnd(2) ? `(${e})` : e;
    };
    const cases = Array.from({ length: 300 }, () => ({ expr: gen(0), linkType: links[rnd(links.length)]!, optimize: rnd(4) !== 0 }));
    await prefetchTcpdump(cases);
    const mismatches: string[] = [];
    for (const { expr, linkType: lt, optimize } of cases) {
      const ref = tcpdumpCompile(expr, lt, optimize);
      const got = ours(expr, lt, optimize);
      const same = ref.ok ? typeof got !== 'string' && sameProgram(got, ref.program) : got === ref.error;
      if (!same) mismatches.push(`${lt}${optimize ? '' : ' -O'}: ${expr}`);
    }
    assert.deepEqual(mismatches, []);
  });

  test('live mode: same output as tcpdump -i lo -d (VLAN via skb metadata, SKF_AD_*)', async (t) => {
    const why = liveCompileMissingReason();
    if (why) {
      if (requireTools) assert.fail(why);
      t.skip(why);
      return;
    }
    const extra = ['vlan 10 and ip', 'vlan and vlan 5', 'inbound', 'outbound and ip', 'ifindex 3', 'vlan and tcp port 80',
      'vlan 5 or vlan 6', 'not vlan', 'mpls and vlan', 'vlan and mpls', 'vlan 1 and vlan 2 and vlan 3 and ip6',
      'vlan and pppoes and ip', 'vlan and not vlan 7'];
    const exprs = [...CORPUS.filter((e) => e.linkType === 'EN10MB').map((e) => e.expr), ...extra];
    await prefetchTcpdump([true, false].flatMap((optimize) => exprs.map((expr) => ({ expr, optimize, live: true }))));
    const mismatches: string[] = [];
    for (const optimize of [true, false]) {
      for (const expr of exprs) {
        const ref = tcpdumpCompileLive(expr, optimize);
        let got: SockFilter[] | string;
        try {
          got = compileFilter(expr, { optimize, live: true });
        } catch (e) {
          if (!(e instanceof FilterError)) throw e;
          got = e.reason;
        }
        const same = ref.ok ? typeof got !== 'string' && sameProgram(got, ref.program) : got === ref.error;
        if (!same) mismatches.push(`${optimize ? '' : '-O '}${expr}`);
      }
    }
    t.diagnostic(`${2 * exprs.length - mismatches.length}/${2 * exprs.length} identical`);
    assert.deepEqual(mismatches, []);
  });

  test('junk token sequences: same error (or program) as libpcap (400, seeded)', async (t) => {
    if (skip(t)) return;
    const words = ['ip', 'tcp', 'udp', 'host', 'port', 'net', '10.0.0.1', '10.1', '80', '0x50', '017', 'and', 'or', 'not', '(',
      ')', '[', ']', ':', '2', '4', '=', '>', '<', '!=', '>=', '&', '|', '+', '-', '*', '/', '%', '^', '<<', 'src', 'dst',
      'ether', '1:2:3:4:5:6', '::1', 'fe80::/10', 'vlan', 'mpls', 'pppoes', 'len', '8', 'proto', 'protochain', '!',
      'gateway', 'portrange', '1-5', 'http', 'foo', 'broadcast', 'multicast', 'less', 'greater', 'ip6', 'icmp',
      'icmptype', 'tcp-syn', 'arp', 'rarp', 'mask', '255.0.0.0', '\\tcp', 'link', 'inbound', 'ifindex', 'byte', '&&',
      '||', 'es-is', 'iso', 'l1', 'stp', 'decnet'];
    let seed = 4242;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const cases = Array.from({ length: 400 }, () => ({
      expr: Array.from({ length: 1 + rnd(7) }, () => words[rnd(words.length)]!).join(' '),
      linkType: 'EN10MB' as const,
      optimize: true,
    }));
    await prefetchTcpdump(cases);
    const mismatches: string[] = [];
    for (const { expr } of cases) {
      const ref = tcpdumpCompile(expr, 'EN10MB', true);
      const got = ours(expr, 'EN10MB', true);
      const same = ref.ok ? typeof got !== 'string' && sameProgram(got, ref.program) : got === ref.error;
      if (!same) mismatches.push(`${expr}: tcpdump ${ref.ok ? 'compiles it' : ref.error}; we ${typeof got === 'string' ? got : 'compile it'}`);
    }
    t.diagnostic(`${cases.length - mismatches.length}/${cases.length} identical`);
    assert.ok(mismatches.length <= 4, mismatches.join('\n'));
  });
});
