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
    // Explicit stacks, not recursion: a long chain of `or`s makes a DAG thousands of blocks deep.
    let n = 0;
    for (const stack: (Block | null)[] = [root]; stack.length > 0;) {
      const p = stack.pop()!;
      if (!p || isMarked(p)) continue;
      marks.set(p, mark);
      n += slength(p.stmts) + 1 + p.longjt + p.longjf;
      stack.push(p.jt, p.jf);
    }
    const out: Insn[] = Array.from({ length: n }, () => ({ code: 0, jt: 0, jf: 0, k: 0 }));
    let ftail = n;
    mark++;
    /**
     * Blocks found to need a long jump in this layout. libpcap redoes the
     * layout at the first one; taking all of them in one pass ends in the
     * same layout (adding jumps only lengthens branches, so every jump found
     * long stays long, and both reach the fewest long jumps that make every
     * branch fit) in a handful of passes instead of one per long jump.
     */
    let again = false;
    /** Lay out block p, whose successors are laid out already. */
    const place = (p: Block): void => {
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
            // Needs a long jump: lay out again with it (see `again`).
            p.longjt++;
            again = true;
            return;
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
            again = true;
            return;
          }
          d.jf = extrajmps;
          extrajmps++;
          const e = out[dst + extrajmps]!;
          e.code = JMP_JA;
          e.k = o - extrajmps;
        } else d.jf = o;
      }
    };
    // Post-order, false branch before true branch (libpcap's convert_code_r), marking on the way down.
    const convert = (): void => {
      const stack: { p: Block; next: 0 | 1 | 2 }[] = [];
      const enter = (p: Block | null): void => {
        if (!p || isMarked(p)) return;
        marks.set(p, mark);
        stack.push({ p, next: 0 });
      };
      enter(root);
      while (stack.length > 0) {
        const top = stack[stack.length - 1];
        if (top.next === 0) {
          top.next = 1;
          enter(top.p.jf);
        } else if (top.next === 1) {
          top.next = 2;
          enter(top.p.jt);
        } else {
          stack.pop();
          place(top.p);
        }
      }
    };
    convert();
    if (!again) return out.map((i) => ({ code: i.code, jt: i.jt, jf: i.jf, k: i.k >>> 0 }));
  }
}
