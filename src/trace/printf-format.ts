/**
 * printf format strings: parsing into literal text and conversions, and
 * C-style formatting of the values an event carries (the subset bpftrace
 * accepts: d i u o x X c s r p and %%, with flags, width, precision and
 * length modifiers).
 */
export interface Conversion {
  readonly flags: string;
  readonly width: number | undefined;
  readonly precision: number | undefined;
  readonly length: string;
  readonly conv: string;
}

export type FormatPart = string | Conversion;

export class FormatError extends Error {}

export function parseFormat(fmt: string): FormatPart[] {
  const out: FormatPart[] = [];
  let text = '';
  const re = /^%([-+ #0]*)([0-9]+)?(?:\.([0-9]*))?(hh|h|ll|l|z|j|t)?([diouxXcsrp%])/;
  for (let i = 0; i < fmt.length; ) {
    if (fmt[i] !== '%') { text += fmt[i++]; continue; }
    const m = re.exec(fmt.slice(i));
    if (!m) throw new FormatError(`printf: Unknown format string token: ${fmt.slice(i, i + 2)}`);
    i += m[0].length;
    if (m[5] === '%') { text += '%'; continue; }
    if (text) { out.push(text); text = ''; }
    out.push({ flags: m[1], width: m[2] === undefined ? undefined : Number(m[2]), precision: m[3] === undefined ? undefined : Number(m[3] || '0'), length: m[4] ?? '', conv: m[5] });
  }
  if (text) out.push(text);
  return out;
}

export function conversions(parts: readonly FormatPart[]): Conversion[] {
  return parts.filter((p): p is Conversion => typeof p !== 'string');
}

/** A value as an event delivers it: integers as bigint (already sign-correct), everything else as text. */
export type FormatValue = bigint | string;

function pad(s: string, c: Conversion, numeric: boolean): string {
  const w = c.width ?? 0;
  if (s.length >= w) return s;
  if (c.flags.includes('-')) return s + ' '.repeat(w - s.length);
  if (numeric && c.flags.includes('0') && c.precision === undefined) {
    const sign = /^[-+ ]/.test(s) ? s[0] : '';
    const prefix = /^0[xX]/.test(s.slice(sign.length)) ? s.slice(sign.length, sign.length + 2) : '';
    const body = s.slice(sign.length + prefix.length);
    return sign + prefix + '0'.repeat(w - s.length) + body;
  }
  return ' '.repeat(w - s.length) + s;
}

function truncate(v: bigint, c: Conversion, signed: boolean): bigint {
  const bits = c.length === 'hh' ? 8 : c.length === 'h' ? 16 : c.length === '' ? 32 : 64;
  return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
}

export function formatOne(c: Conversion, v: FormatValue): string {
  if (c.conv === 's' || c.conv === 'r') {
    let s = typeof v === 'string' ? v : v.toString();
    if (c.precision !== undefined) s = s.slice(0, c.precision);
    return pad(s, c, false);
  }
  if (c.conv === 'c') return pad(String.fromCharCode(Number(BigInt.asUintN(8, typeof v === 'bigint' ? v : BigInt(v.charCodeAt(0) || 0)))), c, false);
  const n = typeof v === 'bigint' ? v : BigInt(/^-?[0-9]+$/.test(v) ? v : 0);
  let body: string;
  let sign = '';
  switch (c.conv) {
    case 'd': case 'i': {
      const x = truncate(n, c, true);
      body = (x < 0n ? -x : x).toString();
      sign = x < 0n ? '-' : c.flags.includes('+') ? '+' : c.flags.includes(' ') ? ' ' : '';
      break;
    }
    case 'u': body = truncate(n, c, false).toString(); break;
    case 'o': body = truncate(n, c, false).toString(8); if (c.flags.includes('#') && body !== '0') body = '0' + body; break;
    case 'x': case 'X': {
      const x = truncate(n, c, false);
      body = x.toString(16);
      if (c.conv === 'X') body = body.toUpperCase();
      if (c.flags.includes('#') && x !== 0n) body = (c.conv === 'X' ? '0X' : '0x') + body;
      break;
    }
    case 'p': body = '0x' + BigInt.asUintN(64, n).toString(16); break;
    default: body = n.toString();
  }
  if (c.precision !== undefined && c.conv !== 'p') {
    const pre = body.startsWith('0x') || body.startsWith('0X') ? body.slice(0, 2) : '';
    const digits = body.slice(pre.length);
    body = pre + (digits.length < c.precision ? '0'.repeat(c.precision - digits.length) + digits : c.precision === 0 && digits === '0' ? '' : digits);
  }
  return pad(sign + body, c, true);
}

export function formatPrintf(parts: readonly FormatPart[], values: readonly FormatValue[]): string {
  let out = '';
  let i = 0;
  for (const p of parts) out += typeof p === 'string' ? p : formatOne(p, values[i++] ?? 0n);
  return out;
}
