import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bpfPrintf, createHostEnv, csumFold, csumPartial, csumReplace2, csumReplace4, csumReplaceByDiff, helperId, helperName,
  implementedHelpers, IMPLEMENTED_HELPER_NAMES,
} from '../../src/helpers/index.js';
import { HelperArgumentError } from '../../src/vm/index.js';

const fmt = (f: string, ...args: (number | bigint)[]) => bpfPrintf(f, args.map((a) => BigInt.asUintN(64, BigInt(a))), () => 'str', (_a, n) => new Uint8Array(n).map((_, i) => i + 1));

test('printk formatting: widths, lengths, signedness, %s and IP addresses', () => {
  assert.equal(fmt('%d %u %x', -1, -1, -1), '-1 4294967295 ffffffff');
  assert.equal(fmt('%ld %lu %llx', -1, -1, -1), '-1 18446744073709551615 ffffffffffffffff');
  assert.equal(fmt('[%5d|%-5d|%05d|%#x]', 42, 42, -42, 255), '[   42|42   |-0042|0xff]');
  assert.equal(fmt('%s=%c%%', 0, 65), 'str=A%');
  assert.equal(fmt('%pI4 %pi6', 0, 0), '1.2.3.4 0102030405060708090a0b0c0d0e0f10');
  assert.equal(fmt('%hhd %hd', 0x1ff, 0x18000), '-1 -32768');
  assert.throws(() => fmt('%d %d', 1), HelperArgumentError);
  assert.throws(() => fmt('%q', 1), /unsupported conversion/);
});

/** The RFC 1071 checksum of 16-bit little-endian words, as the kernel stores it. */
function ipChecksum(h: Uint8Array): number {
  return csumFold(csumPartial(h, 0, h.length, 0));
}

test('incremental checksum updates equal a full recomputation', () => {
  let seed = 1;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
  for (let n = 0; n < 2000; n++) {
    const h = new Uint8Array(20).map(rnd);
    h[10] = h[11] = 0;
    const dv = new DataView(h.buffer);
    dv.setUint16(10, ipChecksum(h), true);
    assert.equal(ipChecksum(h), 0, 'a header with its checksum sums to zero');
    const old32 = dv.getUint32(16, true), new32 = (rnd() << 24 | rnd() << 16 | rnd() << 8 | rnd()) >>> 0;
    const old16 = dv.getUint16(8, true), new16 = rnd() << 8 | rnd();
    const sum = dv.getUint16(10, true);
    dv.setUint32(16, new32, true);
    dv.setUint16(8, new16, true);
    const by4then2 = csumReplace2(csumReplace4(sum, old32, new32), old16, new16);
    const diff = csumPartial(new Uint8Array([...new Uint8Array(new Uint32Array([~old32 >>> 0]).buffer), ...new Uint8Array(new Uint32Array([new32]).buffer)]), 0, 8, 0);
    const byDiff = csumReplace2(csumReplaceByDiff(sum, diff), old16, new16);
    dv.setUint16(10, 0, true);
    const full = ipChecksum(h);
    // One's-complement arithmetic has two zeros; the kernel may leave either.
    assert.ok(by4then2 === full || (by4then2 ^ full) === 0xffff, `replace4+2 ${by4then2} vs ${full}`);
    assert.ok(byDiff === full || (byDiff ^ full) === 0xffff, `by diff ${byDiff} vs ${full}`);
  }
});

test('the fixed environment is deterministic and the clock moves only when told', () => {
  const a = createHostEnv({ seed: 9, startNs: 100n, stepNs: 10n });
  const b = createHostEnv({ seed: 9, startNs: 100n, stepNs: 10n });
  assert.deepEqual([a.randomU32(), a.randomU32()], [b.randomU32(), b.randomU32()]);
  assert.deepEqual([a.monotonicNs(), a.monotonicNs()], [100n, 110n]);
  assert.equal(createHostEnv().monotonicNs(), createHostEnv().monotonicNs());
  const real = createHostEnv({ clock: 'real' });
  assert.ok(real.monotonicNs() <= real.monotonicNs());
});

test('helper ids come from the kernel enum; every implemented name resolves', () => {
  assert.equal(helperId('map_lookup_elem'), 1);
  assert.equal(helperId('bpf_tail_call'), 12);
  assert.equal(helperName(131), 'bpf_ringbuf_reserve');
  assert.throws(() => helperId('no_such_helper'), /no helper named/);
  for (const n of IMPLEMENTED_HELPER_NAMES) assert.ok(helperId(n) > 0, n);
  assert.ok(IMPLEMENTED_HELPER_NAMES.length >= 55);
  assert.equal(typeof implementedHelpers({ env: createHostEnv(), state: undefined as never, mapAt: () => undefined, ringbufs: [] }).strtol, 'function');
});
