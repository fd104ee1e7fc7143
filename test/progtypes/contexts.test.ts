import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressSpace } from '../../src/vm/index.js';
import { ethProtocol, packetType, SkbContext, SK_BUFF, tcActionName, XdpContext, XDP_MD, xdpActionName } from '../../src/progtypes/index.js';

const frame = (len: number, dst = [0, 0, 0, 0, 0, 1], type = 0x0800) => {
  const f = new Uint8Array(len);
  f.set(dst);
  f[12] = type >> 8;
  f[13] = type & 255;
  return f;
};

test('xdp_md holds real addresses; adjust_head/tail/meta keep the kernel\'s bounds', () => {
  const space = new AddressSpace();
  const x = new XdpContext(space);
  const c = x.load(frame(100));
  const v = space.view;
  const data = v.getUint32(c + XDP_MD.data, true), end = v.getUint32(c + XDP_MD.data_end, true);
  assert.equal(end - data, 100);
  assert.equal(space.regionAt(data)?.name, 'xdp-frame');
  assert.equal(x.adjustHead(-216), 0); // 256 bytes of headroom, 40 kept for struct xdp_frame
  assert.equal(x.adjustHead(-1), -22);
  assert.equal(x.adjustHead(216 + 86), 0);
  assert.equal(x.adjustHead(1), -22); // fewer than 14 bytes would be left
  x.load(frame(100));
  assert.equal(x.adjustTail(3520 - 100), 0); // 4096 - 256 - 320 bytes at most
  assert.equal(x.adjustTail(1), -22);
  assert.equal(x.adjustTail(-3520 + 14), 0);
  assert.equal(x.adjustTail(-1), -22);
  x.load(frame(60));
  assert.equal(x.adjustMeta(-6), -13);
  assert.equal(x.adjustMeta(-8), 0);
  assert.equal(v.getUint32(c + XDP_MD.data, true) - v.getUint32(c + XDP_MD.data_meta, true), 8);
  assert.equal(x.adjustMeta(9), -22);
  assert.equal(xdpActionName(4), 'XDP_REDIRECT');
  assert.equal(xdpActionName(9), 'XDP_UNKNOWN(9)');
});

test('__sk_buff: len, protocol, pkt_type and addresses as BPF_PROG_TEST_RUN sets them', () => {
  const space = new AddressSpace();
  const s = new SkbContext(space);
  const c = s.load(frame(98, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0x86dd), { start: 'l3', mark: 5 });
  const u = (o: number) => space.view.getUint32(c + o, true);
  assert.equal(u(SK_BUFF.len), 84);
  assert.equal(u(SK_BUFF.protocol), 0xdd86); // __be16 as the program reads it
  assert.equal(u(SK_BUFF.pkt_type), 2);
  assert.equal(u(SK_BUFF.mark), 5);
  assert.equal(u(SK_BUFF.ifindex), 1);
  assert.equal(u(SK_BUFF.data_end) - u(SK_BUFF.data), 84);
  assert.equal(s.frameAfter().length, 98);
  assert.equal(packetType(frame(20, [0, 0, 0, 0, 0, 0])), 0);
  assert.equal(packetType(frame(20, [1, 0, 0x5e, 0, 0, 1])), 2);
  assert.equal(packetType(frame(20, [2, 0, 0, 0, 0, 1])), 3);
  assert.equal(ethProtocol(frame(20, undefined, 0x0050)), 0x0004);
  assert.equal(tcActionName(-1), 'TC_ACT_UNSPEC');
  assert.equal(tcActionName(7), 'TC_ACT_REDIRECT');
});
