import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Btf, BtfError, encodeBtf, formatValue, stringifyBtfJson, type BtfType } from '../../src/btf/index.js';
import { loadCollectionSpec } from '../../src/elf/index.js';
import { fixture, readBytes } from '../helpers/fixtures.js';

test('global data shown through its datasec, in both byte orders', async () => {
  for (const endian of ['el', 'eb'] as const) {
    const spec = loadCollectionSpec(readBytes(await fixture('globals', endian)));
    const ro = spec.maps.get('.rodata')!;
    const v = formatValue(spec.btf!, ro.btfValueTypeId, ro.data!, { littleEndian: spec.littleEndian });
    assert.deepEqual(v, { threshold: 0x1122334455667788n, enabled: true, 'use_globals.____fmt': 'globals %llu', 'tp_write.____fmt': 'write %d' }, endian);
    const data = spec.maps.get('.data')!;
    assert.deepEqual(formatValue(spec.btf!, data.btfValueTypeId, data.data!, { littleEndian: spec.littleEndian }), { counter: 7, private_state: 3 });
  }
});

test('a map key struct, bitfields, enums, signed values and errors', async () => {
  const spec = loadCollectionSpec(readBytes(await fixture('maps')));
  const key = new Uint8Array([10, 0, 0, 1, 0x50, 0, 6, 0]);
  assert.deepEqual(formatValue(spec.btf!, spec.maps.get('flows')!.btfKeyTypeId, key), { saddr: 0x0100000a, port: 80, proto: 6, pad: 0 });
  assert.throws(() => formatValue(spec.btf!, spec.maps.get('flows')!.btfKeyTypeId, key.subarray(0, 4)), BtfError);

  const types: BtfType[] = [
    { kind: 'int', id: 1, name: 'int', size: 4, signed: true, char: false, bool: false, bitOffset: 0, bits: 32 },
    { kind: 'enum', id: 2, name: 'color', size: 4, signed: false, values: [{ name: 'RED', value: 0 }, { name: 'BLUE', value: 2 }] },
    { kind: 'struct', id: 3, name: 'bits', size: 8, members: [
      { name: 'a', type: 1, bitOffset: 0, bitfieldSize: 3 },
      { name: 'b', type: 1, bitOffset: 3, bitfieldSize: 5 },
      { name: 'c', type: 2, bitOffset: 32, bitfieldSize: 0 },
    ] },
  ];
  const btf = Btf.parse(encodeBtf(types));
  // a = -1 (3 bits set), b = 9, c = BLUE
  const bytes = new Uint8Array([0b01001111, 0, 0, 0, 2, 0, 0, 0]);
  assert.deepEqual(formatValue(btf, 3, bytes), { a: -1, b: 9, c: 'BLUE' });
  assert.equal(stringifyBtfJson({ x: [1n << 63n, 'a'] }), '{"x":[9223372036854775808,"a"]}');
});
