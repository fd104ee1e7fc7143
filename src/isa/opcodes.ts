/**
 * Opcode field values of the eBPF wire format (RFC 9669 section 3, plus the
 * encodings Linux added after it: cpu v4, may_goto, load-acquire/store-release).
 * These are the numbers the bytes carry; the typed model in insn.ts is what
 * the rest of bpfkit works with.
 */

/** Instruction classes: the low three bits of the opcode. */
export const CLASS = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;

/** Source bit of arithmetic and jump instructions. */
export const SRC_K = 0x00;
export const SRC_X = 0x08;

/** Size field (bits 3-4) of load and store instructions. */
export const SIZE = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

/** Mode field (bits 5-7) of load and store instructions. */
export const MODE = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0 } as const;

/** Operation field (bits 4-7) of arithmetic instructions. */
export const ALU_OP = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  neg: 0x80,
  mod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  arsh: 0xc0,
  end: 0xd0,
} as const;

/** Operation field (bits 4-7) of jump instructions. */
export const JMP_OP = {
  ja: 0x00,
  jeq: 0x10,
  jgt: 0x20,
  jge: 0x30,
  jset: 0x40,
  jne: 0x50,
  jsgt: 0x60,
  jsge: 0x70,
  call: 0x80,
  exit: 0x90,
  jlt: 0xa0,
  jle: 0xb0,
  jslt: 0xc0,
  jsle: 0xd0,
  jcond: 0xe0,
} as const;

/** The imm field of atomic instructions. */
export const ATOMIC_OP = {
  add: 0x00,
  or: 0x40,
  and: 0x50,
  xor: 0xa0,
  fetch: 0x01,
  xchg: 0xe0 | 0x01,
  cmpxchg: 0xf0 | 0x01,
  load_acquire: 0x100,
  store_release: 0x110,
} as const;

/** The src field of a call instruction. */
export const CALL_SRC = { HELPER: 0, LOCAL: 1, KFUNC: 2 } as const;

/** The src field of a 64-bit immediate load (Linux's BPF_PSEUDO_* values). */
export const LDDW_SRC = {
  imm: 0,
  map_fd: 1,
  map_value: 2,
  btf_id: 3,
  func: 4,
  map_idx: 5,
  map_idx_value: 6,
} as const;

/** Register number of the read-only frame pointer. */
export const FP = 10;

/** Size of one instruction slot in bytes. */
export const INSN_SIZE = 8;
