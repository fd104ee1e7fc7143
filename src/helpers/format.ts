import { HelperArgumentError } from '../vm/index.js';

/** How a %s argument is read: the string at an address, or undefined when unreadable. */
export type StringReader = (addr: bigint) => string | undefined;

/**
 * The kernel's printf for BPF (bpf_bprintf_prepare + bstr_printf): %d %i
 * %u %x %X %o %c %s %p (with l / ll / h modifiers), %pI4 / %pi4 / %pI6 /
 * %pi6 / %pK / %px, flags '-', '0', '+', ' ', '#', and a width. Integer
 * conversions without 'l' take the low 32 bits of the argument. Throws
 * HelperArgumentError (the kernel's -EINVAL) on a bad format or too few
 * arguments.
 */
export function bpfPrintf(fmt: string, args: readonly bigint[], readString: StringReader, readBytes: (addr: bigint, n: number) => Uint8Array | undefined): string {
  let out = '';
  let ai = 0;
  const next = (): bigint => {
    if (ai >= args.length) throw new HelperArgumentError(`format '${fmt}' needs more than ${args.length} argument${args.length === 1 ? '' : 's'}`);
    return args[ai++];
  };
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i];
    if (ch !== '%') {
      out += ch;
      continue;
    }
    i++;
    if (fmt[i] === '%') {
      out += '%';
      continue;
    }
    let flags = '';
    while ('-0+ #'.includes(fmt[i] ?? 'x') && i < fmt.length) flags += fmt[i++];
    let width = 0;
    while (fmt[i] >= '0' && fmt[i] <= '9') width = width * 10 + Number(fmt[i++]);
    let precision = -1;
    if (fmt[i] === '.') {
      i++;
      precision = 0;
      while (fmt[i] >= '0' && fmt[i] <= '9') precision = precision * 10 + Number(fmt[i++]);
    }
    let longs = 0, half = 0;
    while (fmt[i] === 'l') { longs++; i++; }
    while (fmt[i] === 'h') { half++; i++; }
    if (fmt[i] === 'z') { longs = 1; i++; }
    const conv = fmt[i];
    if (conv === undefined) throw new HelperArgumentError(`format '${fmt}' ends inside a conversion`);
    let text: string;
    const bits = longs > 0 ? 64 : half === 1 ? 16 : half >= 2 ? 8 : 32;
    switch (conv) {
      case 'd': case 'i': {
        const v = BigInt.asIntN(bits, next());
        text = v < 0n ? '-' + (-v).toString() : (flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '') + v.toString();
        break;
      }
      case 'u': text = BigInt.asUintN(bits, next()).toString(); break;
      case 'x': case 'X': {
        const v = BigInt.asUintN(bits, next()).toString(16);
        text = (flags.includes('#') && v !== '0' ? '0x' : '') + (conv === 'X' ? v.toUpperCase() : v);
        break;
      }
      case 'o': text = BigInt.asUintN(bits, next()).toString(8); break;
      case 'c': text = String.fromCharCode(Number(next() & 0xffn)); break;
      case 's': {
        const s = readString(next());
        text = s ?? '';
        if (precision >= 0) text = text.slice(0, precision);
        break;
      }
      case 'p': {
        const sub = fmt[i + 1];
        if (sub === 'i' || sub === 'I') {
          const fam = fmt[i + 2];
          i += 2;
          const addr = next();
          if (fam === '4') {
            const b = readBytes(addr, 4);
            text = b ? [...b].join('.') : '(efault)';
          } else if (fam === '6') {
            const b = readBytes(addr, 16);
            if (!b) text = '(efault)';
            else {
              const words: string[] = [];
              for (let k = 0; k < 16; k += 2) {
                const w = (b[k] << 8) | b[k + 1];
                words.push(sub === 'I' ? w.toString(16) : w.toString(16).padStart(4, '0'));
              }
              text = words.join(sub === 'I' ? ':' : '');
            }
          } else throw new HelperArgumentError(`format '${fmt}': unsupported %p${sub}${fam ?? ''}`);
        } else {
          if (sub === 'K' || sub === 'x' || sub === 'B' || sub === 'S' || sub === 's') i++;
          const v = BigInt.asUintN(64, next());
          text = sub === 'K' ? '0000000000000000' : (sub === 'x' ? v.toString(16).padStart(16, '0') : '0x' + v.toString(16));
        }
        break;
      }
      default:
        throw new HelperArgumentError(`format '${fmt}': unsupported conversion %${conv}`);
    }
    if (text.length < width) {
      if (flags.includes('-')) text = text.padEnd(width, ' ');
      else if (flags.includes('0') && 'diuxXo'.includes(conv)) {
        const neg = text.startsWith('-') || text.startsWith('+');
        text = neg ? text[0] + text.slice(1).padStart(width - 1, '0') : text.padStart(width, '0');
      } else text = text.padStart(width, ' ');
    }
    out += text;
  }
  return out;
}
