/**
 * Lay the block DAG out as a linear classic BPF program (libpcap's
 * icode_to_fcode): blocks are placed in reverse post-order from the end, and
 * a branch whose target is more than 255 instructions away gets an extra
 * `ja` after it, after which the layout is redone.
 */
import type { SockFilter } from '../../cbpf/insn.js';
import { type Block, NOP, type Slist } from './ir.js';
import { FilterError } from './errors.js';

const JMP_JA = 0x05;

function slength(s: Slist | null): number {
  let n = 0;
  for (; s; s = s.next) if (s.s.code !== NOP) n++;
  return n;
}

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export function assemble(root: Block): SockFilter[] {
  let mark = 0;
  const marks = new Map<Block, number>();
  const isMarked = (b: Block): boolean => marks.get(b) === mark;
  for (;;) {
    mark++;
    const count = (p: Block | null): number => {
      if (!p || isMarked(p)) return 0;
      marks.set(p, mark);
      const n = count(p.jt) + count(p.jf);
      return slength(p.stmts) + n + 1 + p.longjt + p.longjf;
    };
    const n = count(root);
    const out: Insn[] = Array.from({ length: n }, () => ({ code: 0, jt: 0, jf: 0, k: 0 }));
    let ftail = n;
    mark++;
    const convert = (p: Block | null): boolean => {
      if (!p || isMarked(p)) return true;
      marks.set(p, mark);
      if (!convert(p.jf)) return false;
      if (!convert(p.jt)) return false;
      const slen = slength(p.stmts);
      ftail -= slen + 1 + p.longjt + p.longjf;
      let dst = ftail;
      p.offset = dst;
      const offsets: Slist[] = [];
      for (let src = p.stmts; src && offsets.length < slen; src = src.next) offsets.push(src);
      let off = 0;
      for (let src = p.stmts; src; src = src.next) {
        if (src.s.code === NOP) continue;
        const d = out[dst]!;
        d.code = src.s.code;
        d.k = src.s.k >>> 0;
        const isCondJump = (src.s.code & 0x07) === 0x05 && src.s.code !== JMP_JA;
        if (isCondJump && off !== slen - 2) {
          // Block-local relative jump (protochain, vlan extensions).
          if (!src.s.jt || !src.s.jf) throw new FilterError(`no jmp destination for block-local relative jump: off=${off}`);
          let jt = 0, jf = 0;
          for (let i = 0; i < slen; i++) {
            if (offsets[i] === src.s.jt) {
              if (jt) throw new FilterError(`multiple matches for block-local relative jump: off=${off}`);
              if (i - off - 1 >= 256) throw new FilterError(`out-of-range jump for block-local relative jump: off=${off}`);
              d.jt = i - off - 1;
              jt++;
            }
            if (offsets[i] === src.s.jf) {
              if (jf) throw new FilterError(`multiple matches for block-local relative jump: off=${off}`);
              if (i - off - 1 >= 256) throw new FilterError(`out-of-range jump for block-local relative jump: off=${off}`);
              d.jf = i - off - 1;
              jf++;
            }
          }
          if (!jt || !jf) throw new FilterError(`no destination found for block-local relative jump: off=${off}`);
        }
        dst++;
        off++;
      }
      const d = out[dst]!;
      d.code = p.s.code;
      d.k = p.s.k >>> 0;
      if (p.jt) {
        let extrajmps = 0;
        let o = p.jt.offset - (p.offset + slen) - 1;
        if (o >= 256) {
          if (p.longjt === 0) {
            p.longjt++;
            return false;
          }
          d.jt = extrajmps;
          extrajmps++;
          const e = out[dst + extrajmps]!;
          e.code = JMP_JA;
          e.k = o - extrajmps;
        } else d.jt = o;
        o = p.jf!.offset - (p.offset + slen) - 1;
        if (o >= 256) {
          if (p.longjf === 0) {
            p.longjf++;
            return false;
          }
          d.jf = extrajmps;
          extrajmps++;
          const e = out[dst + extrajmps]!;
          e.code = JMP_JA;
          e.k = o - extrajmps;
        } else d.jf = o;
      }
      return true;
    };
    if (convert(root)) return out.map((i) => ({ code: i.code, jt: i.jt, jf: i.jf, k: i.k >>> 0 }));
  }
}
