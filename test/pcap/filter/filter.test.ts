import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCbpf, type SockFilter } from '../../../src/cbpf/index.js';
import { FilterError, compileFilter, parseFilter, type LinkType } from '../../../src/pcap/filter/index.js';
import { LINKTYPE, generatePackets } from '../../../src/pcap/index.js';
import { CORPUS, REFUSED_CORPUS } from './corpus.js';
import { prefetchTcpdump, requireTools, tcpdumpCompile, tcpdumpMissingReason } from './tcpdump.js';

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

describe('compileFilter (no tools needed)', () => {
  test('ip on Ethernet is the 4-instruction ethertype test', () => {
    assert.deepEqual(compileFilter('ip'), [
      { code: 0x28, jt: 0, jf: 0, k: 12 },
      { code: 0x15, jt: 0, jf: 1, k: 0x800 },
      { code: 0x06, jt: 0, jf: 0, k: 262144 },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
    ]);
  });

  test('empty expression accepts everything with the snaplen', () => {
    assert.deepEqual(compileFilter('', { snaplen: 96 }), [{ code: 0x06, jt: 0, jf: 0, k: 96 }]);
  });

  test('qualifiers are inherited: "host a or b" == "host a or host b"', () => {
    assert.deepEqual(compileFilter('host 1.2.3.4 or 5.6.7.8'), compileFilter('host 1.2.3.4 or host 5.6.7.8'));
    assert.deepEqual(compileFilter('tcp port 80 or 443'), compileFilter('tcp port 80 or tcp port 443'));
  });

  test('-O keeps the unoptimized shape (longer than the optimized program)', () => {
    assert.ok(compileFilter('tcp port 80', { optimize: false }).length > compileFilter('tcp port 80').length);
  });

  test('errors are typed, carry libpcap text and a position', () => {
    const cases: [string, string, number | undefined][] = [
      ['ip and', "can't parse filter expression: syntax error", 6],
      ['tcp and udp', 'expression rejects all packets', undefined],
      ['net 10.0.0.1/8', 'non-network bits set in "10.0.0.1/8"', 4],
      ['port 99999', 'illegal port number 99999 > 65535', 5],
      ['ip and host foo.invalid', "unknown host 'foo.invalid'", 12],
    ];
    for (const [expr, reason, pos] of cases) {
      assert.throws(() => compileFilter(expr), (e: unknown) => {
        assert.ok(e instanceof FilterError, expr);
        assert.equal(e.reason, reason);
        assert.equal(e.position, pos);
        assert.equal(e.code, 'FILTER_INVALID');
        return true;
      });
    }
  });

  test('parseFilter gives a tree', () => {
    const t = parseFilter('not tcp and port 80');
    assert.equal(t?.k, 'and');
  });

  test('random input never crashes: a program or a FilterError', () => {
    const words = ['ip', 'tcp', 'host', 'port', 'net', '10.0.0.1', '80', 'and', 'or', 'not', '(', ')', '[', ']', ':', '2',
      '=', '>', '&', '+', '-', 'src', 'dst', 'ether', '1:2:3:4:5:6', '::1', 'vlan', 'mpls', 'len', '/', '8', 'proto', '!'];
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let i = 0; i < 3000; i++) {
      const n = 1 + rnd(8);
      const expr = Array.from({ length: n }, () => words[rnd(words.length)]).join(' ');
      try {
        const p = compileFilter(expr, { optimize: rnd(2) === 0 });
        assert.ok(p.length > 0 && p.length < 4096);
      } catch (e) {
        assert.ok(e instanceof FilterError, `${expr}: ${String(e)}`);
      }
    }
    assert.throws(() => compileFilter('('.repeat(5000) + 'ip' + ')'.repeat(5000)), FilterError);
  });
});

describe('differential against tcpdump', () => {
  const missing = tcpdumpMissingReason();
  const skip = (t: { skip: (m: string) => void }): boolean => {
    if (!missing) return false;
    if (requireTools) assert.fail(missing);
    t.skip(missing);
    return true;
  };

  for (const optimize of [true, false]) {
    test(`corpus: same -dd output as tcpdump${optimize ? '' : ' -O'} (${CORPUS.length} expressions)`, async (t) => {
      if (skip(t)) return;
      await prefetchTcpdump(CORPUS.map((e) => ({ ...e, optimize })));
      let same = 0, shorter = 0, equal = 0, longer = 0;
      const failures: string[] = [];
      for (const e of CORPUS) {
        const ref = tcpdumpCompile(e.expr, e.linkType, optimize);
        const got = ours(e.expr, e.linkType, optimize);
        if (!ref.ok) {
          failures.push(`${e.linkType}:${e.expr}: tcpdump refused (${ref.error})`);
          continue;
        }
        if (typeof got === 'string') {
          failures.push(`${e.linkType}:${e.expr}: we refused (${got})`);
          continue;
        }
        if (sameProgram(got, ref.program)) same++;
        else if (got.length < ref.program.length) shorter++;
        else if (got.length === ref.program.length) equal++;
        else longer++;
      }
      t.diagnostic(`identical ${same}/${CORPUS.length}; of the rest: shorter ${shorter}, same length ${equal}, longer ${longer}`);
      assert.deepEqual(failures, []);
      assert.ok(same >= Math.ceil(CORPUS.length * 0.8), `only ${same}/${CORPUS.length} identical`);
    });
  }

  test(`refused expressions: same message as libpcap (${REFUSED_CORPUS.length})`, async (t) => {
    if (skip(t)) return;
    await prefetchTcpdump(REFUSED_CORPUS.map((e) => ({ ...e, optimize: true })));
    for (const e of REFUSED_CORPUS) {
      const ref = tcpdumpCompile(e.expr, e.linkType, true);
      assert.equal(ref.ok, false, `tcpdump accepted ${e.expr}`);
      if (ref.ok) continue;
      assert.equal(ours(e.expr, e.linkType, true), ref.error, e.expr);
    }
  });

  test('semantics: same verdict as libpcap on 20,000 generated packets per link type', (t) => {
    if (skip(t)) return;
    const count = 20000;
    const linkNumbers: Record<LinkType, number> = {
      EN10MB: LINKTYPE.EN10MB, RAW: LINKTYPE.RAW, NULL: LINKTYPE.NULL, LOOP: LINKTYPE.LOOP,
      LINUX_SLL: LINKTYPE.LINUX_SLL, LINUX_SLL2: LINKTYPE.LINUX_SLL2,
    };
    const packetsFor = new Map<LinkType, { data: Uint8Array; wirelen: number }[]>();
    const packets = (lt: LinkType) => {
      let p = packetsFor.get(lt);
      if (!p) {
        p = [...generatePackets(7, lt === 'EN10MB' ? count : count / 4, linkNumbers[lt])];
        packetsFor.set(lt, p);
      }
      return p;
    };
    let compared = 0, identical = 0, ran = 0, accepted = 0;
    for (const optimize of [true, false]) {
      for (const e of CORPUS) {
        const ref = tcpdumpCompile(e.expr, e.linkType, optimize);
        const got = ours(e.expr, e.linkType, optimize);
        if (!ref.ok || typeof got === 'string') continue;
        compared++;
        // Identical programs cannot differ; run the rest, and a sample of identical ones to keep us honest.
        const same = sameProgram(got, ref.program);
        if (same) identical++;
        if (same && compared % 16 !== 0) continue;
        // protochain loops jump backwards, which only libpcap's own interpreter allows.
        if (got.some((i) => i.code === 0x05 && i.k >= 0x80000000)) continue;
        ran++;
        for (const p of packets(e.linkType)) {
          const a = runCbpf(got, p.data, { wirelen: p.wirelen, dialect: 'libpcap' });
          const b = runCbpf(ref.program, p.data, { wirelen: p.wirelen, dialect: 'libpcap' });
          if (a !== 0) accepted++;
          if (a !== b) assert.fail(`${e.linkType}:${e.expr}${optimize ? '' : ' (-O)'}: we return ${a}, libpcap ${b}`);
        }
      }
    }
    t.diagnostic(`${compared} programs compared (${identical} identical), ${ran} run over the packets, ${accepted} acceptances`);
    assert.ok(accepted > 0);
  });
});

test('a chain of 600 alternatives (a block DAG thousands deep) compiles as tcpdump compiles it, optimised and -O', (t) => {
  const terms: string[] = [];
  for (let i = 0; i < 300; i++) terms.push(`host 10.0.${i >> 8}.${i & 255}`);
  for (let i = 0; i < 300; i++) terms.push(`port ${1000 + i}`);
  const expr = terms.join(' or ');
  for (const optimize of [true, false]) {
    const ours = compileFilter(expr, { linkType: 'EN10MB', optimize });
    assert.ok(ours.length > (optimize ? 3000 : 20000));
    const missing = tcpdumpMissingReason();
    if (missing) {
      if (requireTools) assert.fail(missing);
      t.diagnostic(`not compared with tcpdump: ${missing}`);
      continue;
    }
    const theirs = tcpdumpCompile(expr, 'EN10MB', optimize);
    assert.ok(theirs.ok);
    assert.deepEqual(ours, theirs.program);
  }
});
