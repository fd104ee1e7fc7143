/**
 * The compact text the generated syscall tables are written in (see
 * scripts/gen-seccomp-tables.ts): names in number order, separated by
 * spaces, each one more than the one before; `N:` sets the next number
 * (a gap, or a new range such as 4000 on MIPS); `=name` gives a name the
 * previous name's number (an alias). Rows keep the order of the text, so
 * the last name of a number stays last (syscallName's choice).
 */
export function decodeSyscallTable(text: string): Readonly<Record<string, number>> {
  const table: Record<string, number> = {};
  let next = 0;
  for (const token of text.split(' ')) {
    if (token === '') continue;
    if (token.endsWith(':')) next = Number(token.slice(0, -1));
    else if (token.startsWith('=')) table[token.slice(1)] = next - 1;
    else table[token] = next++;
  }
  return Object.freeze(table);
}

/** The text decodeSyscallTable reads back as `rows` (in number order, as they are given). */
export function encodeSyscallTable(rows: readonly (readonly [string, number])[]): string {
  const out: string[] = [];
  let next = 0;
  for (const [name, nr] of rows) {
    if (nr === next - 1 && out.length > 0) {
      out.push(`=${name}`);
      continue;
    }
    if (nr !== next) out.push(`${nr}:`);
    out.push(name);
    next = nr + 1;
  }
  return out.join(' ');
}
