/**
 * Runs random programs (random-program.ts) in the kernel and in bpfkit's
 * interpreter and compares the full 64-bit r0.
 *
 * The kernel's test run returns only the low 32 bits of r0, so the kernel
 * variant of each program stores its final r0 in an 8-byte array map
 * value, read back after the run: one load and one run per program (two
 * variants, one shifting r0 right by 32, would cost a second verification,
 * the dominant cost). The 32-bit retval is checked against the map value too.
 */
import { spawnSync } from 'node:child_process';
import { createMap, loadProgram, VerifierError, type BpfMap } from '../../src/kernel/index.js';
import { run } from '../../src/vm/index.js';
import { encode, type Insn } from '../../src/isa/index.js';
import { kernelProgram, kernelWrap, vmProgram, withoutItem, type RandomProgram } from './random-program.js';

export interface Outcome {
  readonly kernel: bigint;
  /** The interpreter's r0, or the error it threw. */
  readonly vm: bigint | Error;
}

export class DifferentialRunner implements Disposable {
  readonly map: BpfMap;
  private readonly key = new Uint8Array(4);
  private readonly sentinel = new Uint8Array(8).fill(0xa5);

  constructor() {
    this.map = createMap({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, name: 'diff_r0' });
  }

  /** r0 of the program in the kernel; throws VerifierError if it is refused. */
  kernelR0(p: RandomProgram): bigint {
    return this.runKernel(kernelProgram(p, this.map.fd), p.input, `seed ${p.seed}`);
  }

  /** r0 of a hand-written body (which must set r0 and may not read r1..r4 first) in the kernel. */
  kernelR0Of(body: readonly Insn[], input = new Uint8Array(64)): bigint {
    return this.runKernel(kernelWrap(body, input.length, this.map.fd), input, 'program');
  }

  private runKernel(insns: Insn[], input: Uint8Array, what: string): bigint {
    using prog = loadProgram({ type: 'xdp', insns });
    const { retval } = prog.testRun({ data: input, dataOutSize: 0 });
    const value = this.map.lookup(this.key);
    if (!value) throw new Error('array map has no key 0');
    const r0 = new DataView(value.buffer).getBigUint64(0, true);
    if (Number(r0 & 0xffffffffn) !== retval) {
      throw new Error(`${what}: map holds r0 0x${r0.toString(16)} but the test run returned 0x${retval.toString(16)}`);
    }
    // A program that did not store would leave this behind and fail the check above.
    this.map.update(this.key, this.sentinel);
    return r0;
  }

  outcome(p: RandomProgram): Outcome {
    const kernel = this.kernelR0(p);
    let vm: bigint | Error;
    try {
      vm = run(vmProgram(p), { mem: p.input }).r0;
    } catch (e) {
      vm = e instanceof Error ? e : new Error(String(e));
    }
    return { kernel, vm };
  }

  /**
   * Greedily drop body instructions while kernel and interpreter still
   * disagree (and the kernel still accepts the program).
   */
  minimize(p: RandomProgram): RandomProgram {
    let cur = p;
    for (let changed = true; changed; ) {
      changed = false;
      for (let j = cur.body.length - 1; j >= 0; j--) {
        const cand = withoutItem(cur, j);
        try {
          if (differs(this.outcome(cand))) {
            cur = cand;
            changed = true;
          }
        } catch (e) {
          if (!(e instanceof VerifierError)) throw e;
        }
      }
    }
    return cur;
  }

  close(): void {
    this.map.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export function differs(o: Outcome): boolean {
  return typeof o.vm !== 'bigint' || o.vm !== o.kernel;
}

const hex64 = (v: bigint) => `0x${v.toString(16).padStart(16, '0')}`;

/** A report of a difference: seed, both r0 values, the program as hex and disassembled. */
export function describeDifference(p: RandomProgram, o: Outcome): string {
  const bytes = encode(vmProgram(p));
  const hex: string[] = [];
  for (let i = 0; i < bytes.length; i += 8) hex.push(Buffer.from(bytes.subarray(i, i + 8)).toString('hex'));
  const vm = typeof o.vm === 'bigint' ? hex64(o.vm) : `threw ${o.vm.name}: ${o.vm.message}`;
  return [
    `seed ${p.seed}: kernel r0 = ${hex64(o.kernel)}, interpreter r0 = ${vm}`,
    `input (r1, ${p.input.length} bytes): ${Buffer.from(p.input).toString('hex')}`,
    `program (interpreter variant, ${hex.length} slots):`,
    disassemble(bytes) ?? hex.map((h, i) => `${String(i).padStart(4)}: ${h}`).join('\n'),
  ].join('\n');
}

/** Disassembly by llvm-mc (independent of bpfkit's own formatter), or undefined if it is missing. */
function disassemble(bytes: Uint8Array): string | undefined {
  const text = [...bytes].map((x) => `0x${x.toString(16).padStart(2, '0')}`).join(' ');
  const r = spawnSync('llvm-mc-19', ['--disassemble', '-triple=bpfel', '-mcpu=v4'], { input: text, encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) return undefined;
  const lines = r.stdout.split('\n').filter((l) => l.startsWith('\t') && !l.trim().startsWith('.text'));
  const hexLines: string[] = [];
  for (let i = 0; i < bytes.length; i += 8) hexLines.push(Buffer.from(bytes.subarray(i, i + 8)).toString('hex'));
  // lddw takes two slots but one line; pair lines with slots as llvm-mc prints them.
  let slot = 0;
  return lines
    .map((l) => {
      const s = slot;
      slot += bytes[s * 8] === 0x18 ? 2 : 1;
      return `${String(s).padStart(4)}: ${hexLines[s]}  ${l.trim()}`;
    })
    .join('\n');
}
