/**
 * A small JSON reader for profiles. JSON.parse would round syscall argument
 * values above 2^53 (18446744073709551615 is common in profiles) and no
 * longer says where a syntax error is; this one keeps integer literals too
 * large for a double as bigint and reports errors as line:column.
 */
import { SeccompPolicyError } from './errors.js';

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

export function parseJson(text: string): JsonValue {
  let i = 0;
  const fail = (msg: string): never => {
    const before = text.slice(0, i).split('\n');
    throw new SeccompPolicyError(`${before.length}:${before[before.length - 1].length + 1}`, `invalid JSON: ${msg}`);
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const found = () => (i < text.length ? `'${text[i]}'` : 'end of input');
  const value = (depth: number): JsonValue => {
    if (depth > 200) fail('nested too deeply');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: { [key: string]: JsonValue } = {};
      ws();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name, found ${found()}`);
        const key = string();
        ws();
        if (text[i] !== ':') fail(`expected ':', found ${found()}`);
        i++;
        Object.defineProperty(obj, key, { value: value(depth + 1), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        fail(`expected ',' or '}', found ${found()}`);
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return arr; }
        fail(`expected ',' or ']', found ${found()}`);
      }
    }
    if (c === '"') return string();
    if (c === '-' || (c >= '0' && c <= '9')) return number();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    return fail(`unexpected ${found()}`);
  };
  const string = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i++];
      if (c === '"') return out;
      if (c < ' ') { i--; fail('control character in string'); }
      if (c !== '\\') { out += c; continue; }
      const e = text[i++];
      const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
      if (e !== undefined && Object.hasOwn(simple, e)) out += simple[e];
      else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i, i + 4))) { out += String.fromCharCode(parseInt(text.slice(i, i + 4), 16)); i += 4; }
      else { i--; fail('bad escape in string'); }
    }
  };
  const number = (): number | bigint => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('bad number');
    i += m[0].length;
    if (!m[2] && !m[3]) {
      const b = BigInt(m[0]);
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
    }
    return Number(m[0]);
  };
  const v = value(0);
  ws();
  if (i < text.length) fail(`unexpected ${found()} after the end`);
  return v;
}
