/**
 * Tracepoint record layouts, parsed from tracefs's
 * events/<category>/<name>/format text: the fields `args` exposes.
 */
import type { TType } from './types.js';

export interface TracepointField {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: TType;
  /** `__data_loc char[]` fields: a u32 (len << 16 | offset) locating a string in the record. */
  readonly dataLoc: boolean;
  /** The C declaration's type text ("const char *"). */
  readonly ctype: string;
}

export interface TracepointFormat {
  readonly id: number | undefined;
  readonly fields: readonly TracepointField[];
}

const NAMED: Record<string, TType> = {
  char: { kind: 'int', bits: 8, signed: true },
  'unsigned char': { kind: 'int', bits: 8, signed: false },
  short: { kind: 'int', bits: 16, signed: true },
  'unsigned short': { kind: 'int', bits: 16, signed: false },
  int: { kind: 'int', bits: 32, signed: true },
  'unsigned int': { kind: 'int', bits: 32, signed: false },
  pid_t: { kind: 'int', bits: 32, signed: true },
  u8: { kind: 'int', bits: 8, signed: false },
  u16: { kind: 'int', bits: 16, signed: false },
  u32: { kind: 'int', bits: 32, signed: false },
  u64: { kind: 'int', bits: 64, signed: false },
  s32: { kind: 'int', bits: 32, signed: true },
  s64: { kind: 'int', bits: 64, signed: true },
  long: { kind: 'int', bits: 64, signed: true },
  'unsigned long': { kind: 'int', bits: 64, signed: false },
  size_t: { kind: 'int', bits: 64, signed: false },
};

function fieldType(ctype: string, size: number, signed: boolean, array: string | undefined): TType {
  const base = ctype.replace(/\b(const|volatile|__user|struct\s+)\b/g, (m) => (m.startsWith('struct') ? m : '')).replace(/\s+/g, ' ').trim();
  if (array !== undefined && /^(unsigned )?char$/.test(base)) return { kind: 'string', size };
  if (base.endsWith('*')) return { kind: 'ptr', to: base.slice(0, -1).trim(), user: ctype.includes('__user') || /char \*$/.test(base) };
  const known = NAMED[base];
  if (known && known.kind === 'int' && known.bits / 8 <= size) return known;
  const bits = size >= 8 ? 64 : size >= 4 ? 32 : size >= 2 ? 16 : 8;
  return { kind: 'int', bits, signed };
}

export function parseTracepointFormat(text: string): TracepointFormat {
  const idm = /^ID:\s*(\d+)/m.exec(text);
  const fields: TracepointField[] = [];
  const re = /field:([^;]*);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const decl = m[1].trim();
    const dm = /^(.*?)([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?$/.exec(decl);
    if (!dm) continue;
    const name = dm[2];
    if (name.startsWith('common_')) continue;
    const ctype = dm[1].trim();
    const offset = Number(m[2]);
    const size = Number(m[3]);
    const dataLoc = ctype.startsWith('__data_loc');
    const type: TType = dataLoc ? { kind: 'string', size: 64 } : fieldType(ctype, size, m[4] === '1', dm[3]);
    fields.push({ name, offset, size, type, dataLoc, ctype });
  }
  return { id: idm ? Number(idm[1]) : undefined, fields };
}
