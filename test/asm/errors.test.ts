import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assemble, AsmError, disassemble } from '../../src/asm/index.js';
import { BpfkitError } from '../../src/errors/index.js';
import { randomProgram, Rng } from '../isa/gen.js';

function asmError(text: string, syntax?: 'llvm' | 'ubpf'): AsmError {
  try {
    assemble(text, syntax ? { syntax } : {});
  } catch (e) {
    assert.ok(e instanceof AsmError, `expected AsmError, got ${(e as Error)?.name}: ${(e as Error)?.message}`);
    return e;
  }
  assert.fail(`'${text}' assembled`);
}

test('errors say line:column and carry the source line', () => {
  const e = asmError('r0 = 1\nexit\n  r1 = r11 + 2\n');
  assert.ok(e instanceof BpfkitError);
  assert.equal(e.code, 'ASM_SYNTAX');
  assert.equal(e.message, "3:8: unknown register 'r11'");
  assert.equal(e.line, 3);
  assert.equal(e.column, 8);
  assert.equal(e.source, '  r1 = r11 + 2');
});

test('specific mistakes give specific messages', () => {
  const cases: [string, string, 'llvm' | 'ubpf' | undefined][] = [
    ['r1 = r11', "1:6: unknown register 'r11'", undefined],
    ['mov %r0, %r12', "1:10: unknown register '%r12'", 'ubpf'],
    ['frob r1', "1:1: unknown instruction 'frob'", 'llvm'],
    ['frob %r1, 2', "1:1: unknown mnemonic 'frob'", 'ubpf'],
    ['goto nowhere', "1:6: unknown label 'nowhere'", 'llvm'],
    ['ja nowhere', "1:4: unknown label 'nowhere'", 'ubpf'],
    ['a:\na:\nexit', "2:1: duplicate label 'a'", 'llvm'],
    ['r1 = 0x1ffffffffffffffff ll', '1:6: immediate 36893488147419103231 does not fit in 64 bits', 'llvm'],
    ['w1 += 0x100000000', '1:7: immediate 4294967296 does not fit in 32 bits', 'llvm'],
    ['r0 = *(u64 *)(r1 + 0x8000)', '1:20: offset 32768 does not fit in 16 signed bits', 'llvm'],
    ['if r1 > 2 goto +40000', '1:16: offset 40000 does not fit in 16 signed bits', 'llvm'],
    ['r1 += w2', "1:7: register 'w2' does not match the width of 'r1'", 'llvm'],
    ['w0 = -w1', "1:7: negation is in place: write 'w0 = -w0'", 'llvm'],
    ['r0 = *(u24 *)(r1 + 0)', "1:8: unknown access size 'u24'", 'llvm'],
    ['exit 1', "1:6: unexpected '1' after instruction", 'llvm'],
    ['r1 =', '1:5: expected a value after =', 'llvm'],
    ['ldxw %r0, [%r1+2', "1:17: expected ']', found end of line", 'ubpf'],
    ['lock fetch xchg [%r1], %r2', "1:6: 'fetch' does not apply to xchg", 'ubpf'],
    ['r1 = 12ab', "1:6: malformed number '12ab'", 'llvm'],
    ['r1 = @', "1:6: unexpected character '@'", 'llvm'],
    ['w1 = (s32)w2', '1:1: 32-bit movsx cannot sign-extend from 32 bits', 'llvm'],
    ['0: (b7) r0 = 1\n2: (95) exit', '2:1: instruction index 2 out of order: expected 1', undefined],
    ['(bf) r0 = 1', '1:6: opcode (bf) does not match the instruction, which encodes as (b7)', 'llvm'],
  ];
  for (const [text, message, syntax] of cases) assert.equal(asmError(text, syntax).message, message, text);
});

test('a far label does not silently wrap a 16-bit offset', () => {
  const text = `goto far\n${'r0 = 0\n'.repeat(40000)}far:\nexit\n`;
  assert.match(asmError(text, 'llvm').message, /^1:6: label 'far' is 40000 instructions away/);
  // gotol takes it
  assert.deepEqual(assemble(text.replace('goto far', 'gotol far'))[0], { kind: 'ja', long: true, off: 40000 });
});

/** assemble must return instructions or throw an AsmError that points inside the text. */
function checkAssemble(text: string): boolean {
  try {
    assemble(text);
    return true;
  } catch (e) {
    if (!(e instanceof AsmError)) throw new Error(`assemble threw ${(e as Error)?.name}: ${(e as Error)?.message}\n${JSON.stringify(text)}`, { cause: e });
    const lines = text.split(/\r?\n/);
    assert.ok(e.line >= 1 && e.line <= lines.length, `line ${e.line} of ${lines.length}`);
    assert.equal(e.source, lines[e.line - 1]);
    assert.ok(e.column >= 1 && e.column <= e.source.length + 1, `column ${e.column} of '${e.source}'`);
    assert.ok(e.message.startsWith(`${e.line}:${e.column}: `));
    return false;
  }
}

const ALPHABET = ' \t\n#;/*()[]+-=<>&|^%,:sxwr%0123456789abcdefgotlujmpcalexi.';

test('random text gives instructions or an AsmError with a valid position', () => {
  const r = new Rng(20);
  for (let i = 0; i < 5000; i++) {
    let s = '';
    for (let n = r.int(60); n > 0; n--) s += ALPHABET[r.int(ALPHABET.length)];
    checkAssemble(s);
  }
});

test('mutated assembly gives instructions or an AsmError with a valid position', () => {
  const r = new Rng(21);
  let failures = 0;
  for (let i = 0; i < 1500; i++) {
    const style = r.pick(['llvm', 'ubpf', 'kernel'] as const);
    let text = disassemble(randomProgram(r, 1 + r.int(12)), { style, labels: r.bool() });
    for (let k = 1 + r.int(3); k > 0; k--) {
      const at = r.int(text.length + 1);
      switch (r.int(3)) {
        case 0: text = text.slice(0, at) + text.slice(at + 1 + r.int(4)); break;
        case 1: text = text.slice(0, at) + ALPHABET[r.int(ALPHABET.length)] + text.slice(at); break;
        default: text = text.slice(0, at) + ALPHABET[r.int(ALPHABET.length)] + text.slice(at + 1);
      }
    }
    if (!checkAssemble(text)) failures++;
  }
  assert.ok(failures > 100, `mutations are caught (${failures})`);
});
