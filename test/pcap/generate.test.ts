import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePackets, GENERATOR_LINK_TYPES, LINKTYPE } from '../../src/pcap/index.js';

test('the same seed gives the same packets; another seed gives others', () => {
  for (const lt of GENERATOR_LINK_TYPES) {
    const a = [...generatePackets(42, 200, lt)];
    const b = [...generatePackets(42, 200, lt)];
    const c = [...generatePackets(43, 200, lt)];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    for (const p of a) assert.ok(p.data.length <= p.wirelen && p.data.length > 0);
  }
});

test('Ethernet traffic covers the protocols filters test', () => {
  const types = new Map<number, number>();
  const ipProtos = new Map<number, number>();
  let truncated = 0;
  let broadcast = 0;
  let qinq = 0;
  let v4opts = 0;
  let frags = 0;
  for (const p of generatePackets(1, 5000, LINKTYPE.EN10MB)) {
    const d = p.data;
    if (d.length < p.wirelen) truncated++;
    if (d.length < 14) continue;
    const type = (d[12] << 8) | d[13];
    types.set(type, (types.get(type) ?? 0) + 1);
    if (d.slice(0, 6).every((b) => b === 0xff)) broadcast++;
    if ((type === 0x88a8 || type === 0x9100 || type === 0x8100) && d.length > 18 && ((d[16] << 8) | d[17]) === 0x8100) qinq++;
    if (type === 0x0800 && d.length > 34) {
      ipProtos.set(d[23], (ipProtos.get(d[23]) ?? 0) + 1);
      if ((d[14] & 0xf) > 5) v4opts++;
      if (((d[20] << 8) | d[21]) & 0x3fff) frags++;
    }
  }
  for (const t of [0x0800, 0x86dd, 0x0806, 0x8035, 0x8100, 0x88a8, 0x8847, 0x8864, 0x8863, 0x88cc]) assert.ok(types.get(t), `EtherType 0x${t.toString(16)}`);
  assert.ok([...types.keys()].some((t) => t < 1536), '802.3 length frames');
  for (const proto of [1, 2, 6, 17, 47, 132]) assert.ok(ipProtos.get(proto), `IP protocol ${proto}`);
  assert.ok(truncated > 200 && broadcast > 100 && qinq > 10 && v4opts > 50 && frags > 50, JSON.stringify({ truncated, broadcast, qinq, v4opts, frags }));
});

test('unknown link types are refused', () => {
  assert.throws(() => [...generatePackets(1, 1, 9999)], RangeError);
});
