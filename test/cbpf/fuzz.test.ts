import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BpfkitError,
} from '../../src/errors/index.js';
import {
  CbpfParseError, checkClassic, cbpfToEbpf, decodeSockFilter, dumpFilter, encodeSockFilter, parseListing, runCbpf,
} from '../../src/cbpf/index.js';
import { randomValidProgram, rng } from './random.js';

function typedOnly(what: string, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof BpfkitError)) assert.fail(`${what}: ${String(e)}\n${(e as Error).stack}`);
  }
}

test('random bytes: decode, check, run, convert give results or typed errors', () => {
  const next = rng(31337);
  for (let i = 0; i < 3000; i++) {
    const bytes = new Uint8Array(next() % 120);
    for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
    typedOnly(`case ${i}`, () => {
      const prog = decodeSockFilter(bytes);
      assert.deepEqual(encodeSockFilter(prog), bytes);
      typedOnly('check', () => checkClassic(prog));
      typedOnly('run', () => runCbpf(prog, bytes));
      typedOnly('run linux', () => runCbpf(prog, bytes, { dialect: 'linux' }));
      typedOnly('convert', () => cbpfToEbpf(prog));
      typedOnly('convert unchecked', () => cbpfToEbpf(prog, { unchecked: true }));
      for (const level of [1, 2, 3] as const) parseListing(dumpFilter(prog, level));
    });
  }
});

test('mutated listings give programs or CbpfParseError with a position inside the text', () => {
  const next = rng(4242);
  const alphabet = '()[]{}#x+-,0123456789abcdefjtfMldhretxa \t\n';
  for (let i = 0; i < 3000; i++) {
    const prog = randomValidProgram(next, 3 + (next() % 20), { ancillary: true });
    const text = dumpFilter(prog, ((i % 3) + 1) as 1 | 2 | 3).split('');
    for (let m = 0; m < 1 + (next() % 5); m++) {
      const at = next() % text.length;
      const r = next() % 3;
      if (r === 0) text.splice(at, 1);
      else if (r === 1) text.splice(at, 0, alphabet[next() % alphabet.length]);
      else text[at] = alphabet[next() % alphabet.length];
    }
    const src = text.join('');
    try {
      parseListing(src);
    } catch (e) {
      if (!(e instanceof CbpfParseError)) assert.fail(`case ${i}: ${String(e)}`);
      const lines = src.split('\n');
      assert.ok(e.line >= 1 && e.line <= lines.length, `line ${e.line}`);
      assert.ok(e.column >= 1 && e.column <= lines[e.line - 1].length + 1, `case ${i}: column ${e.column} of ${JSON.stringify(lines[e.line - 1])}`);
    }
  }
});

test('random text gives programs or CbpfParseError', () => {
  const next = rng(99);
  for (let i = 0; i < 3000; i++) {
    const chars = Array.from({ length: next() % 80 }, () => String.fromCharCode(next() % 3 ? 32 + (next() % 95) : [10, 9, 13, 0, 0xfffd][next() % 5]));
    const text = (['', '(000) ', '{ ', '3,'][i % 4]) + chars.join('');
    try {
      parseListing(text);
    } catch (e) {
      if (!(e instanceof CbpfParseError)) assert.fail(`case ${i}: ${String(e)}`);
    }
  }
});

test('a sock_filter byte length that is not a multiple of 8 is refused', () => {
  assert.throws(() => decodeSockFilter(new Uint8Array(12)), /not a whole number/);
});
