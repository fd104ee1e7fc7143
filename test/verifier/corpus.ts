/**
 * The verifier corpus: small programs for every refusal class and the
 * accepted shapes real programs have, plus generated families (context
 * offsets per program type, scalar arithmetic). The expected verdict of each
 * case is whatever the running kernel says; nothing here is hand-labelled.
 */
import { assemble } from '../../src/asm/index.js';
import { build as b, type Insn, type Reg } from '../../src/isa/index.js';
import type { MapInfo, ProgType } from '../../src/verifier/index.js';

export interface Case {
  readonly name: string;
  readonly insns: readonly Insn[];
  readonly type: ProgType;
  readonly maps?: readonly MapInfo[];
}

const { mov64, mov32, imm, exit, ldx, stx, st, add64, sub64, and64, or64, xor64, lsh64, rsh64, arsh64, mul64,
  add32, and32, lsh32, rsh32, jeq, jne, jgt, jge, jlt, jle, jsgt, jslt, jset, ja, call, lddw, div64, mod64 } = b;

const HASH: MapInfo = { type: 'hash', keySize: 4, valueSize: 16, maxEntries: 16 };
const ARRAY: MapInfo = { type: 'array', keySize: 4, valueSize: 16, maxEntries: 4 };
const RINGBUF: MapInfo = { type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 };
const PERF: MapInfo = { type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 2 };
const PROGS: MapInfo = { type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2 };

const asm = (text: string): Insn[] => assemble(text);
const mapLd = (dst: Reg, idx: number): Insn => lddw(dst, BigInt(idx), 'map_fd');
const callLocal = (off: number): Insn => ({ kind: 'call_local', off });
const jmp32 = (cond: 'jeq' | 'jgt' | 'jlt' | 'jslt', dst: Reg, v: number, off: number): Insn => ({ kind: 'jmp', width: 32, cond, dst, src: imm(v), off });

/** key on the stack at fp-4, r2 = &key, r1 = map 0. */
const lookupPrologue = (key = 0): Insn[] => [st(4, 10, -4, key), mov64(2, 10), add64(2, imm(-4)), mapLd(1, 0), call(1)];
/** r2 = data, r3 = data_end (xdp). */
const xdpData: Insn[] = [ldx(4, 2, 1, 0), ldx(4, 3, 1, 4)];

const handwritten: Case[] = [
  // --- structure ---
  { name: 'jump out of range', type: 'xdp', insns: [ja(5), exit()] },
  { name: 'jump backwards out of range', type: 'xdp', insns: [mov64(0, imm(0)), jeq(0, imm(0), -5), exit()] },
  { name: 'last insn not exit', type: 'xdp', insns: [mov64(0, imm(0))] },
  { name: 'last insn conditional jump', type: 'xdp', insns: [mov64(0, imm(0)), jeq(0, imm(0), -2)] },
  { name: 'unreachable insn', type: 'xdp', insns: [mov64(0, imm(0)), exit(), mov64(0, imm(1)), exit()] },
  { name: 'unreachable after ja', type: 'xdp', insns: [mov64(0, imm(0)), ja(1), mov64(0, imm(2)), exit()] },
  { name: 'jump into ldimm64 (unreachable first)', type: 'xdp', insns: [ja(1), lddw(0, 5n), exit()] },
  { name: 'jump into middle of ldimm64', type: 'xdp', insns: [call(7), jeq(0, imm(0), 2), lddw(0, 5n), exit()] },
  { name: 'infinite self loop', type: 'xdp', insns: [mov64(0, imm(0)), jeq(0, imm(0), -1), exit()] },
  { name: 'infinite loop two insns', type: 'xdp', insns: [mov64(0, imm(0)), mov64(1, imm(1)), ja(-2), exit()] },
  { name: 'bounded loop', type: 'xdp', insns: [mov64(0, imm(0)), add64(0, imm(1)), jgt(0, imm(3), 1), ja(-3), exit()] },
  { name: 'bounded loop 100', type: 'xdp', insns: [mov64(0, imm(0)), mov64(1, imm(0)), add64(1, 0), add64(0, imm(1)), jlt(0, imm(100), -3), mov64(0, imm(0)), exit()] },
  { name: 'subprogram call', type: 'xdp', insns: [mov64(1, imm(1)), callLocal(1), exit(), mov64(0, 1), add64(0, imm(2)), exit()] },
  { name: 'subprogram jump across boundary', type: 'xdp', insns: [callLocal(1), ja(1), mov64(0, imm(0)), exit()] },
  { name: 'call to invalid destination', type: 'xdp', insns: [callLocal(10), exit()] },
  { name: 'subprogram returns stack pointer', type: 'xdp', insns: [callLocal(1), exit(), mov64(0, 10), exit()] },
  { name: 'subprogram uninit r0 read by caller', type: 'xdp', insns: [callLocal(2), mov64(0, imm(0)), exit(), exit()] },
  { name: 'subprogram stack use', type: 'xdp', insns: [callLocal(2), mov64(0, imm(0)), exit(), st(8, 10, -256, 1), mov64(0, imm(0)), exit()] },
  { name: 'combined stack too large', type: 'xdp', insns: [st(8, 10, -400, 1), callLocal(2), mov64(0, imm(0)), exit(), st(8, 10, -256, 1), mov64(0, imm(0)), exit()] },
  { name: 'recursion too deep', type: 'xdp', insns: [callLocal(-1), exit()] },
  { name: 'subprog reads caller stack through pointer', type: 'xdp', insns: [st(8, 10, -8, 7), mov64(1, 10), add64(1, imm(-8)), callLocal(1), exit(), ldx(8, 0, 1, 0), exit()] },
  // --- registers ---
  { name: 'uninit register read', type: 'xdp', insns: [mov64(0, 2), exit()] },
  { name: 'uninit r0 at exit', type: 'xdp', insns: [exit()] },
  { name: 'uninit after helper call', type: 'xdp', insns: [mov64(1, imm(1)), call(7), mov64(0, 1), exit()] },
  { name: 'frame pointer write', type: 'xdp', insns: [mov64(10, imm(0)), mov64(0, imm(0)), exit()] },
  { name: 'div by zero imm', type: 'xdp', insns: [mov64(0, imm(1)), div64(0, imm(0)), exit()] },
  { name: 'mod by zero imm', type: 'xdp', insns: [mov64(0, imm(1)), mod64(0, imm(0)), exit()] },
  { name: 'div by zero register is fine', type: 'xdp', insns: [mov64(0, imm(1)), mov64(1, imm(0)), div64(0, 1), exit()] },
  { name: 'invalid shift 64', type: 'xdp', insns: [mov64(0, imm(1)), lsh64(0, imm(64)), exit()] },
  { name: 'invalid shift 32 on alu32', type: 'xdp', insns: [mov64(0, imm(1)), lsh32(0, imm(32)), exit()] },
  { name: 'invalid shift negative', type: 'xdp', insns: [mov64(0, imm(1)), rsh64(0, imm(-1)), exit()] },
  { name: 'lddw imm', type: 'xdp', insns: [lddw(0, 0x123456789n), exit()] },
  { name: 'lddw bad map fd', type: 'xdp', insns: [lddw(1, 77n, 'map_fd'), mov64(0, imm(0)), exit()] },
  // --- pointer arithmetic ---
  { name: 'ctx pointer shift', type: 'xdp', insns: [mov64(0, 1), lsh64(0, imm(2)), exit()] },
  { name: 'pointer and', type: 'xdp', insns: [mov64(0, 1), and64(0, imm(2)), mov64(0, imm(0)), exit()] },
  { name: 'pointer plus pointer', type: 'xdp', insns: [mov64(0, 1), add64(0, 10), mov64(0, imm(0)), exit()] },
  { name: 'pointer minus pointer', type: 'xdp', insns: [mov64(0, 10), sub64(0, 1), exit()] },
  { name: 'stack pointer subtraction', type: 'xdp', insns: [mov64(1, 10), sub64(1, imm(8)), mov64(0, imm(0)), exit()] },
  { name: 'scalar minus pointer', type: 'xdp', insns: [mov64(0, imm(5)), sub64(0, 1), exit()] },
  { name: '32-bit pointer arithmetic', type: 'xdp', insns: [mov64(0, 1), add32(0, imm(4)), mov64(0, imm(0)), exit()] },
  { name: 'pointer plus unbounded scalar', type: 'xdp', insns: [call(7), mov64(2, 10), add64(2, 0), mov64(0, imm(0)), exit()] },
  { name: 'map_ptr arithmetic', type: 'xdp', maps: [HASH], insns: [mapLd(1, 0), add64(1, imm(8)), mov64(0, imm(0)), exit()] },
  { name: 'pointer returned from xdp', type: 'xdp', insns: [mov64(0, 10), exit()] },
  { name: 'modified ctx dereference', type: 'xdp', insns: [mov64(2, 1), add64(2, imm(4)), ldx(4, 0, 2, 0), exit()] },
  // --- stack ---
  { name: 'stack read below frame', type: 'xdp', insns: [ldx(8, 0, 10, -520), exit()] },
  { name: 'stack write at fp+0', type: 'xdp', insns: [st(8, 10, 0, 0), mov64(0, imm(0)), exit()] },
  { name: 'stack misaligned', type: 'xdp', insns: [st(8, 10, -12, 0), mov64(0, imm(0)), exit()] },
  { name: 'uninit stack read allowed for root', type: 'xdp', insns: [ldx(8, 0, 10, -8), exit()] },
  { name: 'spill and fill ctx', type: 'xdp', insns: [stx(8, 10, 1, -8), ldx(8, 1, 10, -8), ldx(4, 0, 1, 12), exit()] },
  { name: 'partial spill of pointer', type: 'xdp', insns: [stx(4, 10, 1, -8), mov64(0, imm(0)), exit()] },
  { name: 'partial fill of pointer', type: 'xdp', insns: [stx(8, 10, 1, -8), ldx(4, 0, 10, -8), exit()] },
  { name: 'spill scalar fill narrow', type: 'xdp', insns: [call(7), stx(8, 10, 0, -8), ldx(4, 0, 10, -8), exit()] },
  { name: 'stack zero tracked', type: 'xdp', insns: [st(4, 10, -4, 0), ldx(4, 0, 10, -4), exit()] },
  { name: 'fill of clobbered spill', type: 'xdp', insns: [stx(8, 10, 1, -8), st(1, 10, -8, 0), ldx(8, 1, 10, -8), ldx(4, 0, 1, 0), exit()] },
  { name: 'variable stack write', type: 'xdp', insns: [call(7), and64(0, imm(7)), mov64(1, 10), add64(1, imm(-16)), add64(1, 0), st(1, 1, 0, 1), mov64(0, imm(0)), exit()] },
  // --- ctx ---
  { name: 'xdp ctx read ingress_ifindex', type: 'xdp', insns: [ldx(4, 0, 1, 12), exit()] },
  { name: 'xdp ctx write refused', type: 'xdp', insns: [st(4, 1, 12, 0), mov64(0, imm(0)), exit()] },
  { name: 'xdp ctx stx refused', type: 'xdp', insns: [mov64(2, imm(1)), stx(4, 1, 2, 12), mov64(0, imm(0)), exit()] },
  { name: 'socket filter cb write', type: 'socket_filter', insns: [mov64(2, imm(1)), stx(4, 1, 2, 48), mov64(0, imm(0)), exit()] },
  { name: 'socket filter data refused', type: 'socket_filter', insns: [ldx(4, 0, 1, 76), exit()] },
  { name: 'tc mark write', type: 'sched_cls', insns: [mov64(2, imm(1)), stx(4, 1, 2, 8), mov64(0, imm(0)), exit()] },
  { name: 'tc len write refused', type: 'sched_cls', insns: [mov64(2, imm(1)), stx(4, 1, 2, 0), mov64(0, imm(0)), exit()] },
  { name: 'tracepoint common fields refused', type: 'tracepoint', insns: [ldx(8, 0, 1, 0), exit()] },
  { name: 'tracepoint field read', type: 'tracepoint', insns: [ldx(8, 0, 1, 16), exit()] },
  { name: 'kprobe regs read', type: 'kprobe', insns: [ldx(8, 0, 1, 112), exit()] },
  { name: 'kprobe past pt_regs', type: 'kprobe', insns: [ldx(8, 0, 1, 168), exit()] },
  // --- packet ---
  { name: 'xdp packet read with bounds check', type: 'xdp', insns: [...xdpData, mov64(4, 2), add64(4, imm(14)), jgt(4, 3, 2), ldx(1, 0, 2, 12), exit(), mov64(0, imm(1)), exit()] },
  { name: 'xdp packet read past checked range', type: 'xdp', insns: [...xdpData, mov64(4, 2), add64(4, imm(14)), jgt(4, 3, 2), ldx(1, 0, 2, 14), exit(), mov64(0, imm(1)), exit()] },
  { name: 'xdp packet read without check', type: 'xdp', insns: [...xdpData, ldx(1, 0, 2, 0), exit()] },
  { name: 'xdp packet check with jlt reversed', type: 'xdp', insns: [...xdpData, mov64(4, 2), add64(4, imm(8)), jlt(3, 4, 2), ldx(8, 0, 2, 0), exit(), mov64(0, imm(1)), exit()] },
  { name: 'xdp packet check jge', type: 'xdp', insns: [...xdpData, mov64(4, 2), add64(4, imm(8)), jge(4, 3, 2), ldx(8, 0, 2, 0), exit(), mov64(0, imm(1)), exit()] },
  { name: 'xdp packet check jge off by one', type: 'xdp', insns: [...xdpData, mov64(4, 2), add64(4, imm(8)), jge(4, 3, 2), ldx(1, 0, 2, 8), exit(), mov64(0, imm(1)), exit()] },
  { name: 'xdp packet write', type: 'xdp', insns: [...xdpData, mov64(4, 2), add64(4, imm(4)), jgt(4, 3, 2), st(4, 2, 0, 0), mov64(0, imm(2)), exit()] },
  { name: 'xdp packet variable offset', type: 'xdp', insns: [...xdpData, ldx(1, 5, 2, 0), mov64(4, 2), add64(4, imm(1)), jgt(4, 3, 7), ldx(1, 5, 2, 0), and64(5, imm(15)), add64(2, 5), mov64(4, 2), add64(4, imm(2)), jgt(4, 3, 1), ldx(2, 0, 2, 0), mov64(0, imm(2)), exit()] },
  { name: 'xdp packet pointer compared with scalar', type: 'xdp', insns: [...xdpData, jeq(2, imm(0), 1), mov64(0, imm(1)), mov64(0, imm(2)), exit()] },
  { name: 'xdp parse ethernet and ipv4', type: 'xdp', insns: asm(`
      r2 = *(u32 *)(r1 + 0)
      r3 = *(u32 *)(r1 + 4)
      r0 = 2
      r4 = r2
      r4 += 34
      if r4 > r3 goto out
      r5 = *(u16 *)(r2 + 12)
      if r5 != 8 goto out
      r5 = *(u8 *)(r2 + 23)
      if r5 != 1 goto out
      r0 = 1
    out:
      exit`) },
  { name: 'tc packet read', type: 'sched_cls', insns: [ldx(4, 2, 1, 76), ldx(4, 3, 1, 80), mov64(4, 2), add64(4, imm(4)), jgt(4, 3, 2), ldx(4, 0, 2, 0), exit(), mov64(0, imm(0)), exit()] },
  { name: 'pkt_end arithmetic refused', type: 'xdp', insns: [...xdpData, add64(3, imm(1)), mov64(0, imm(0)), exit()] },
  // --- maps ---
  { name: 'map lookup without null check', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), ldx(8, 0, 0, 0), exit()] },
  { name: 'map lookup with null check', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 1), ldx(8, 0, 0, 0), mov64(0, imm(0)), exit()] },
  { name: 'map lookup jne null check', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jne(0, imm(0), 2), mov64(0, imm(0)), exit(), ldx(8, 0, 0, 8), exit()] },
  { name: 'array const key lookup is non-null', type: 'xdp', maps: [ARRAY], insns: [...lookupPrologue(), ldx(8, 0, 0, 0), exit()] },
  { name: 'array out-of-range const key may be null', type: 'xdp', maps: [ARRAY], insns: [...lookupPrologue(9), ldx(8, 0, 0, 0), exit()] },
  { name: 'map value out of bounds', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 1), ldx(8, 0, 0, 12), mov64(0, imm(0)), exit()] },
  { name: 'map value negative offset', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 1), ldx(8, 0, 0, -8), mov64(0, imm(0)), exit()] },
  { name: 'map value variable index bounded', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 6), mov64(6, 0), call(7), and64(0, imm(7)), add64(6, 0), ldx(8, 0, 6, 0), exit(), mov64(0, imm(0)), exit()] },
  { name: 'map value variable index too wide', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 6), mov64(6, 0), call(7), and64(0, imm(15)), add64(6, 0), ldx(8, 0, 6, 0), exit(), mov64(0, imm(0)), exit()] },
  { name: 'map value unbounded index', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 7), mov64(6, 0), call(7), jgt(0, imm(8), 4), add64(6, 0), ldx(1, 0, 6, 0), exit(), mov64(0, imm(0)), exit(), mov64(0, imm(0)), exit()] },
  { name: 'map value signed index', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 8), mov64(6, 0), call(7), jsgt(0, imm(8), 5), jslt(0, imm(-8), 4), add64(6, 0), ldx(1, 0, 6, 0), exit(), mov64(0, imm(0)), exit(), mov64(0, imm(0)), exit()] },
  { name: 'map null pointer arithmetic', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), add64(0, imm(1)), mov64(0, imm(0)), exit()] },
  { name: 'map copies share null check', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), mov64(6, 0), jeq(0, imm(0), 1), ldx(8, 1, 6, 0), mov64(0, imm(0)), exit()] },
  { name: 'map update from stack', type: 'xdp', maps: [HASH], insns: [st(4, 10, -4, 1), st(8, 10, -24, 0), st(8, 10, -16, 0), mov64(2, 10), add64(2, imm(-4)), mov64(3, 10), add64(3, imm(-24)), mapLd(1, 0), mov64(4, imm(0)), call(2), mov64(0, imm(0)), exit()] },
  { name: 'map update value too small on stack', type: 'xdp', maps: [HASH], insns: [st(4, 10, -4, 1), mov64(2, 10), add64(2, imm(-4)), mov64(3, 10), add64(3, imm(-8)), mapLd(1, 0), mov64(4, imm(0)), call(2), mov64(0, imm(0)), exit()] },
  { name: 'map delete', type: 'xdp', maps: [HASH], insns: [st(4, 10, -4, 1), mov64(2, 10), add64(2, imm(-4)), mapLd(1, 0), call(3), mov64(0, imm(0)), exit()] },
  { name: 'map key from packet unchecked', type: 'xdp', maps: [HASH], insns: [...xdpData, mov64(2, 2), mapLd(1, 0), call(1), mov64(0, imm(0)), exit()] },
  { name: 'map helper with scalar map', type: 'xdp', insns: [mov64(1, imm(0)), mov64(2, imm(0)), call(1), exit()] },
  { name: 'map helper with scalar key', type: 'xdp', maps: [HASH], insns: [mapLd(1, 0), mov64(2, imm(0)), call(1), mov64(0, imm(0)), exit()] },
  { name: 'ringbuf map lookup refused', type: 'xdp', maps: [RINGBUF], insns: [...lookupPrologue(), mov64(0, imm(0)), exit()] },
  // --- helpers ---
  { name: 'unknown helper id', type: 'xdp', insns: [call(9999), exit()] },
  { name: 'ktime_get_ns', type: 'xdp', insns: [call(5), exit()] },
  { name: 'get_current_pid_tgid in tracepoint', type: 'tracepoint', insns: [call(14), exit()] },
  { name: 'get_current_comm', type: 'tracepoint', insns: [mov64(1, 10), add64(1, imm(-16)), mov64(2, imm(16)), call(16), mov64(0, imm(0)), exit()] },
  { name: 'get_current_comm size too big', type: 'tracepoint', insns: [mov64(1, 10), add64(1, imm(-16)), mov64(2, imm(32)), call(16), mov64(0, imm(0)), exit()] },
  { name: 'get_current_comm zero size', type: 'tracepoint', insns: [mov64(1, 10), add64(1, imm(-16)), mov64(2, imm(0)), call(16), mov64(0, imm(0)), exit()] },
  { name: 'probe_read_kernel', type: 'kprobe', insns: [mov64(1, 10), add64(1, imm(-8)), mov64(2, imm(8)), mov64(3, imm(0)), call(113), mov64(0, imm(0)), exit()] },
  { name: 'probe_read_kernel unbounded size', type: 'kprobe', insns: [call(7), mov64(2, 0), mov64(1, 10), add64(1, imm(-8)), mov64(3, imm(0)), call(113), mov64(0, imm(0)), exit()] },
  { name: 'probe_read_kernel bounded size', type: 'kprobe', insns: [call(7), mov64(2, 0), and64(2, imm(7)), mov64(1, 10), add64(1, imm(-8)), mov64(3, imm(0)), call(113), mov64(0, imm(0)), exit()] },
  { name: 'trace_printk', type: 'tracepoint', insns: [st(8, 10, -8, 0x6968), mov64(1, 10), add64(1, imm(-8)), mov64(2, imm(8)), call(6), mov64(0, imm(0)), exit()] },
  { name: 'skb_load_bytes', type: 'sched_cls', insns: [mov64(2, imm(0)), mov64(3, 10), add64(3, imm(-8)), mov64(4, imm(8)), call(26), mov64(0, imm(0)), exit()] },
  { name: 'skb_load_bytes in xdp refused', type: 'xdp', insns: [mov64(2, imm(0)), mov64(3, 10), add64(3, imm(-8)), mov64(4, imm(8)), call(26), mov64(0, imm(0)), exit()] },
  { name: 'xdp_adjust_head invalidates packet pointers', type: 'xdp', insns: [mov64(6, 1), ldx(4, 7, 1, 0), mov64(2, imm(0)), call(44), ldx(1, 0, 7, 0), exit()] },
  { name: 'ctx helper arg wrong type', type: 'xdp', insns: [mov64(1, 10), mov64(2, imm(0)), call(44), exit()] },
  { name: 'redirect', type: 'xdp', insns: [mov64(1, imm(1)), mov64(2, imm(0)), call(23), exit()] },
  { name: 'csum_diff null buffers', type: 'sched_cls', insns: [mov64(1, imm(0)), mov64(2, imm(0)), mov64(3, imm(0)), mov64(4, imm(0)), mov64(5, imm(0)), call(28), mov64(0, imm(0)), exit()] },
  // Found by the mutation test: a NULL buffer with a non-zero size.
  { name: 'csum_diff null buffer with size 8', type: 'sched_cls', insns: [mov64(1, imm(0)), mov64(2, imm(0)), mov64(3, imm(0)), mov64(4, imm(8)), mov64(5, imm(0)), call(28), mov64(0, imm(0)), exit()] },
  { name: 'csum_diff null buffer with size 0..8', type: 'sched_cls', insns: [call(7), and64(0, imm(8)), mov64(4, 0), mov64(1, imm(0)), mov64(2, imm(0)), mov64(3, imm(0)), mov64(5, imm(0)), call(28), mov64(0, imm(0)), exit()] },
  // Found by the mutation test: a possibly-NULL map value as a helper's key, an atomic at a misaligned map value offset.
  { name: 'map_value_or_null as lookup key', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), mov64(2, 0), mapLd(1, 0), call(1), mov64(0, imm(0)), exit()] },
  { name: 'atomic add misaligned in map value', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 3), mov64(1, imm(1)), { kind: 'atomic', size: 8, op: 'add', fetch: true, dst: 0, src: 1, off: 2 }, mov64(0, imm(0)), mov64(0, imm(0)), exit()] },
  { name: 'atomic add misaligned 4 in map value', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 3), mov64(1, imm(1)), { kind: 'atomic', size: 4, op: 'add', fetch: false, dst: 0, src: 1, off: 6 }, mov64(0, imm(0)), mov64(0, imm(0)), exit()] },
  { name: 'perf_event_output', type: 'tracepoint', maps: [PERF], insns: [mov64(6, 1), st(8, 10, -8, 1), mov64(1, 6), mapLd(2, 0), lddw(3, 0xffffffffn), mov64(4, 10), add64(4, imm(-8)), mov64(5, imm(8)), call(25), mov64(0, imm(0)), exit()] },
  { name: 'perf_event_output wrong map type', type: 'tracepoint', maps: [HASH], insns: [mov64(6, 1), st(8, 10, -8, 1), mov64(1, 6), mapLd(2, 0), lddw(3, 0xffffffffn), mov64(4, 10), add64(4, imm(-8)), mov64(5, imm(8)), call(25), mov64(0, imm(0)), exit()] },
  { name: 'tail_call', type: 'xdp', maps: [PROGS], insns: [mapLd(2, 0), mov64(3, imm(0)), call(12), mov64(0, imm(2)), exit()] },
  { name: 'ringbuf reserve submit', type: 'xdp', maps: [RINGBUF], insns: [mapLd(1, 0), mov64(2, imm(8)), mov64(3, imm(0)), call(131), jeq(0, imm(0), 4), st(8, 0, 0, 1), mov64(1, 0), mov64(2, imm(0)), call(132), mov64(0, imm(2)), exit()] },
  { name: 'ringbuf reserve leak', type: 'xdp', maps: [RINGBUF], insns: [mapLd(1, 0), mov64(2, imm(8)), mov64(3, imm(0)), call(131), mov64(0, imm(2)), exit()] },
  { name: 'ringbuf reserve leak on one path', type: 'xdp', maps: [RINGBUF], insns: [mapLd(1, 0), mov64(2, imm(8)), mov64(3, imm(0)), call(131), jeq(0, imm(0), 1), mov64(0, imm(2)), exit()] },
  { name: 'ringbuf write past reservation', type: 'xdp', maps: [RINGBUF], insns: [mapLd(1, 0), mov64(2, imm(8)), mov64(3, imm(0)), call(131), jeq(0, imm(0), 4), st(8, 0, 4, 1), mov64(1, 0), mov64(2, imm(0)), call(133), mov64(0, imm(2)), exit()] },
  { name: 'ringbuf submit unchecked', type: 'xdp', maps: [RINGBUF], insns: [mapLd(1, 0), mov64(2, imm(8)), mov64(3, imm(0)), call(131), mov64(1, 0), mov64(2, imm(0)), call(132), mov64(0, imm(2)), exit()] },
  { name: 'ringbuf reserve non-constant size', type: 'xdp', maps: [RINGBUF], insns: [call(7), mov64(2, 0), mapLd(1, 0), mov64(3, imm(0)), call(131), mov64(0, imm(2)), exit()] },
  { name: 'ringbuf output', type: 'xdp', maps: [RINGBUF], insns: [st(8, 10, -8, 1), mapLd(1, 0), mov64(2, 10), add64(2, imm(-8)), mov64(3, imm(8)), mov64(4, imm(0)), call(130), mov64(0, imm(2)), exit()] },
  // --- return values ---
  { name: 'cgroup_skb return unknown', type: 'cgroup_skb', insns: [call(7), exit()] },
  { name: 'cgroup_skb return 1', type: 'cgroup_skb', insns: [mov64(0, imm(1)), exit()] },
  { name: 'cgroup_skb return 2', type: 'cgroup_skb', insns: [mov64(0, imm(2)), exit()] },
  { name: 'cgroup_skb return masked', type: 'cgroup_skb', insns: [call(7), and64(0, imm(1)), exit()] },
  { name: 'cgroup_skb return pointer', type: 'cgroup_skb', insns: [mov64(0, 10), exit()] },
  // --- ld_abs ---
  { name: 'ld_abs in socket filter', type: 'socket_filter', insns: [mov64(6, 1), { kind: 'ldabs', size: 1, imm: 23 }, exit()] },
  { name: 'ld_abs in xdp refused', type: 'xdp', insns: [mov64(6, 1), { kind: 'ldabs', size: 1, imm: 23 }, exit()] },
  { name: 'ld_abs without ctx in r6', type: 'socket_filter', insns: [{ kind: 'ldabs', size: 1, imm: 23 }, exit()] },
  // --- branches and ranges ---
  { name: 'dead branch not explored', type: 'xdp', insns: [mov64(0, imm(5)), jgt(0, imm(10), 1), exit(), mov64(0, 3), exit()] },
  { name: 'jmp32 refinement', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 6), mov64(6, 0), call(7), jmp32('jgt', 0, 8, 3), and64(0, imm(0xff)), add64(6, 0), mov64(0, imm(0)), exit()] },
  { name: 'jset refinement', type: 'xdp', insns: [call(7), jset(0, imm(1), 2), mov64(0, imm(0)), exit(), mov64(0, imm(1)), exit()] },
  { name: 'linked scalar copies', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 7), mov64(6, 0), call(7), mov64(1, 0), jgt(0, imm(8), 3), add64(6, 1), ldx(1, 0, 6, 0), exit(), mov64(0, imm(0)), exit()] },
  { name: 'xor and or arithmetic', type: 'xdp', insns: [call(7), and64(0, imm(0xf0)), or64(0, imm(3)), xor64(0, imm(1)), arsh64(0, imm(1)), mul64(0, imm(3)), mov32(0, 0), exit()] },
  // --- cpu v4, atomics, byte swaps ---
  { name: 'neg and endian', type: 'xdp', insns: [call(7), { kind: 'neg', width: 64, dst: 0 }, { kind: 'endian', order: 'be', bits: 16, dst: 0 }, exit()] },
  { name: 'bswap', type: 'xdp', insns: [mov64(0, imm(0x1234)), { kind: 'endian', order: 'swap', bits: 32, dst: 0 }, exit()] },
  { name: 'neg32 constant', type: 'xdp', insns: [mov64(0, imm(5)), { kind: 'neg', width: 32, dst: 0 }, mov64(1, 0), jgt(1, imm(10), 0), exit()] },
  { name: 'movsx8', type: 'xdp', insns: [call(7), { kind: 'movsx', width: 64, bits: 8, dst: 1, src: 0 }, mov64(0, 1), jsgt(0, imm(200), 1), mov64(0, imm(0)), exit()] },
  { name: 'movsx16 of constant', type: 'xdp', insns: [mov64(1, imm(0xffff)), { kind: 'movsx', width: 64, bits: 16, dst: 0, src: 1 }, exit()] },
  { name: 'ldsx from stack', type: 'xdp', insns: [st(1, 10, -8, -3), { kind: 'ldx', size: 1, signExtend: true, dst: 0, src: 10, off: -8 }, exit()] },
  { name: 'atomic add on stack', type: 'xdp', insns: [st(8, 10, -8, 0), mov64(1, imm(1)), { kind: 'atomic', size: 8, op: 'add', fetch: false, dst: 10, src: 1, off: -8 }, ldx(8, 0, 10, -8), exit()] },
  { name: 'atomic fetch add on map value', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 3), mov64(1, imm(1)), { kind: 'atomic', size: 8, op: 'add', fetch: true, dst: 0, src: 1, off: 0 }, mov64(0, 1), exit()] },
  { name: 'atomic xchg on stack', type: 'xdp', insns: [st(8, 10, -8, 0), mov64(1, imm(1)), { kind: 'atomic', size: 8, op: 'xchg', fetch: true, dst: 10, src: 1, off: -8 }, mov64(0, 1), exit()] },
  { name: 'atomic cmpxchg on stack', type: 'xdp', insns: [st(8, 10, -8, 0), mov64(0, imm(0)), mov64(1, imm(1)), { kind: 'atomic', size: 8, op: 'cmpxchg', fetch: true, dst: 10, src: 1, off: -8 }, exit()] },
  { name: 'atomic on ctx refused', type: 'xdp', insns: [mov64(2, imm(1)), { kind: 'atomic', size: 4, op: 'add', fetch: false, dst: 1, src: 2, off: 0 }, mov64(0, imm(0)), exit()] },
  { name: 'atomic on packet refused', type: 'xdp', insns: [...xdpData, mov64(4, 2), add64(4, imm(8)), jgt(4, 3, 3), mov64(5, imm(1)), { kind: 'atomic', size: 8, op: 'add', fetch: false, dst: 2, src: 5, off: 0 }, mov64(0, imm(0)), mov64(0, imm(0)), exit()] },
  { name: 'atomic uninit stack', type: 'xdp', insns: [mov64(1, imm(1)), { kind: 'atomic', size: 8, op: 'add', fetch: false, dst: 10, src: 1, off: -8 }, mov64(0, imm(0)), exit()] },
  // --- jmp32 and signed compares ---
  { name: 'jmp32 jeq on constant', type: 'xdp', insns: [lddw(0, 0x100000005n), jmp32('jeq', 0, 5, 1), exit(), mov64(0, 2), exit()] },
  { name: 'jmp32 bounds then 64-bit use', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 6), mov64(6, 0), call(7), jmp32('jlt', 0, 8, 1), mov64(0, imm(0)), add64(6, 0), ldx(1, 0, 6, 0), exit()] },
  { name: 'signed lower bound missing', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 6), mov64(6, 0), call(7), lsh64(0, imm(32)), arsh64(0, imm(32)), jsgt(0, imm(8), 2), add64(6, 0), ldx(1, 0, 6, 0), mov64(0, imm(0)), exit()] },
  { name: 'register compare bounds', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 7), mov64(6, 0), call(7), mov64(1, imm(8)), jge(0, 1, 3), add64(6, 0), ldx(1, 0, 6, 0), mov64(0, imm(0)), mov64(0, imm(0)), exit()] },
  // --- stack details ---
  { name: 'spill 32-bit scalar and fill', type: 'xdp', insns: [call(7), and64(0, imm(0xff)), stx(4, 10, 0, -8), ldx(4, 0, 10, -8), jgt(0, imm(255), 1), mov64(0, imm(0)), exit()] },
  { name: 'fill from misaligned half', type: 'xdp', insns: [call(7), stx(8, 10, 0, -8), ldx(4, 0, 10, -4), exit()] },
  { name: 'stack pointer passed to subprog write', type: 'xdp', insns: [mov64(1, 10), add64(1, imm(-8)), callLocal(2), ldx(8, 0, 10, -8), exit(), st(8, 1, 0, 42), mov64(0, imm(0)), exit()] },
  { name: 'subprog writes below callee frame', type: 'xdp', insns: [callLocal(2), mov64(0, imm(0)), exit(), st(8, 10, -520, 1), mov64(0, imm(0)), exit()] },
  { name: 'eight frames deep', type: 'xdp', insns: [callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), mov64(0, imm(0)), exit()] },
  { name: 'nine frames deep', type: 'xdp', insns: [callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), callLocal(1), exit(), mov64(0, imm(0)), exit()] },
  { name: 'subprog callee-saved registers survive', type: 'xdp', insns: [mov64(6, imm(7)), callLocal(2), mov64(0, 6), exit(), mov64(0, imm(0)), exit()] },
  { name: 'subprog clobbers caller r1', type: 'xdp', insns: [mov64(1, imm(7)), callLocal(2), mov64(0, 1), exit(), mov64(0, imm(0)), exit()] },
  { name: 'stack slot reuse with different types', type: 'xdp', insns: [stx(8, 10, 1, -8), st(8, 10, -8, 5), ldx(8, 0, 10, -8), exit()] },
  // --- packet ---
  { name: 'packet meta access', type: 'xdp', insns: [ldx(4, 2, 1, 8), ldx(4, 3, 1, 0), mov64(4, 2), add64(4, imm(4)), jgt(4, 3, 2), ldx(4, 0, 2, 0), exit(), mov64(0, imm(0)), exit()] },
  { name: 'packet negative offset', type: 'xdp', insns: [...xdpData, mov64(4, 2), add64(4, imm(8)), jgt(4, 3, 2), ldx(1, 0, 2, -1), exit(), mov64(0, imm(0)), exit()] },
  { name: 'packet range via jle', type: 'xdp', insns: [...xdpData, mov64(4, 2), add64(4, imm(8)), jle(4, 3, 2), mov64(0, imm(0)), exit(), ldx(8, 0, 2, 0), exit()] },
  { name: 'packet end compared with data directly', type: 'xdp', insns: [...xdpData, jge(2, 3, 2), ldx(1, 0, 2, 0), exit(), mov64(0, imm(0)), exit()] },
  { name: 'socket filter packet via ld_abs only', type: 'socket_filter', insns: [mov64(6, 1), { kind: 'ldind', size: 4, src: 7, imm: 0 }, exit()] },
  // --- maps ---
  { name: 'map value store pointer', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 1), stx(8, 0, 10, 0), mov64(0, imm(0)), exit()] },
  { name: 'map key size too big for stack slot', type: 'xdp', maps: [{ type: 'hash', keySize: 16, valueSize: 8, maxEntries: 4 }], insns: [...lookupPrologue(), mov64(0, imm(0)), exit()] },
  { name: 'map lookup with key in map value', type: 'xdp', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 4), mov64(2, 0), mapLd(1, 0), call(1), mov64(0, imm(0)), exit()] },
  { name: 'array lookup with spilled const key', type: 'xdp', maps: [ARRAY], insns: [mov64(1, imm(2)), stx(4, 10, 1, -8), mov64(2, 10), add64(2, imm(-8)), mapLd(1, 0), call(1), ldx(8, 0, 0, 0), exit()] },
  { name: 'array lookup with unknown key may be null', type: 'xdp', maps: [ARRAY], insns: [call(7), stx(4, 10, 0, -8), mov64(2, 10), add64(2, imm(-8)), mapLd(1, 0), call(1), ldx(8, 0, 0, 0), exit()] },
  { name: 'map_value direct load', type: 'xdp', maps: [{ type: 'array', keySize: 4, valueSize: 16, maxEntries: 1 }], insns: [lddw(1, 8n << 32n, 'map_value'), ldx(8, 0, 1, 0), exit()] },
  { name: 'map_value direct load from multi-entry array', type: 'xdp', maps: [ARRAY], insns: [lddw(1, 8n << 32n, 'map_value'), ldx(8, 0, 1, 0), exit()] },
  { name: 'map_value direct load from hash', type: 'xdp', maps: [HASH], insns: [lddw(1, 0n, 'map_value'), ldx(8, 0, 1, 0), exit()] },
  { name: 'map_value direct load out of range', type: 'xdp', maps: [{ type: 'array', keySize: 4, valueSize: 16, maxEntries: 1 }], insns: [lddw(1, 12n << 32n, 'map_value'), ldx(8, 0, 1, 0), exit()] },
  { name: 'map_value direct load past value', type: 'xdp', maps: [{ type: 'array', keySize: 4, valueSize: 16, maxEntries: 1 }], insns: [lddw(1, 16n << 32n, 'map_value'), ldx(8, 0, 1, 0), exit()] },
  { name: 'ringbuf reserve zero size', type: 'xdp', maps: [RINGBUF], insns: [mapLd(1, 0), mov64(2, imm(0)), mov64(3, imm(0)), call(131), jeq(0, imm(0), 3), mov64(1, 0), mov64(2, imm(0)), call(133), mov64(0, imm(2)), exit()] },
  { name: 'ringbuf submit with offset', type: 'xdp', maps: [RINGBUF], insns: [mapLd(1, 0), mov64(2, imm(8)), mov64(3, imm(0)), call(131), jeq(0, imm(0), 4), add64(0, imm(4)), mov64(1, 0), mov64(2, imm(0)), call(132), mov64(0, imm(2)), exit()] },
  { name: 'ringbuf double submit', type: 'xdp', maps: [RINGBUF], insns: [mapLd(1, 0), mov64(2, imm(8)), mov64(3, imm(0)), call(131), jeq(0, imm(0), 7), mov64(6, 0), mov64(1, 6), mov64(2, imm(0)), call(132), mov64(1, 6), mov64(2, imm(0)), call(132), mov64(0, imm(2)), exit()] },
  { name: 'use after ringbuf submit', type: 'xdp', maps: [RINGBUF], insns: [mapLd(1, 0), mov64(2, imm(8)), mov64(3, imm(0)), call(131), jeq(0, imm(0), 5), mov64(6, 0), mov64(1, 6), mov64(2, imm(0)), call(132), st(8, 6, 0, 1), mov64(0, imm(2)), exit()] },
  { name: 'probe_read_kernel into map value', type: 'kprobe', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 5), mov64(1, 0), mov64(2, imm(16)), mov64(3, imm(0)), call(113), mov64(0, imm(0)), exit()] },
  { name: 'probe_read_kernel into map value too big', type: 'kprobe', maps: [HASH], insns: [...lookupPrologue(), jeq(0, imm(0), 5), mov64(1, 0), mov64(2, imm(17)), mov64(3, imm(0)), call(113), mov64(0, imm(0)), exit()] },
  { name: 'probe_read_kernel into ctx', type: 'kprobe', insns: [mov64(2, imm(8)), mov64(3, imm(0)), call(113), mov64(0, imm(0)), exit()] },
  { name: 'probe_read_kernel negative size', type: 'kprobe', insns: [call(7), mov64(2, 0), lsh64(2, imm(32)), arsh64(2, imm(32)), mov64(1, 10), add64(1, imm(-8)), mov64(3, imm(0)), call(113), mov64(0, imm(0)), exit()] },
  { name: 'helper reads uninit stack (root ok)', type: 'xdp', maps: [HASH], insns: [mov64(2, 10), add64(2, imm(-4)), mapLd(1, 0), call(1), mov64(0, imm(0)), exit()] },
  { name: 'may_goto loop', type: 'xdp', insns: [mov64(0, imm(0)), { kind: 'may_goto', off: 2 }, add64(0, imm(1)), ja(-3), exit()] },
  // --- bpf_loop callbacks ---
  { name: 'bpf_loop simple callback', type: 'xdp', insns: [mov64(1, imm(10)), lddw(2, 5n, 'func'), mov64(3, imm(0)), mov64(4, imm(0)), call(181), mov64(0, imm(0)), exit(), mov64(0, imm(0)), exit()] },
  { name: 'bpf_loop callback bad return', type: 'xdp', insns: [mov64(1, imm(10)), lddw(2, 5n, 'func'), mov64(3, imm(0)), mov64(4, imm(0)), call(181), mov64(0, imm(0)), exit(), mov64(0, imm(2)), exit()] },
  { name: 'bpf_loop callback uninit return', type: 'xdp', insns: [mov64(1, imm(10)), lddw(2, 5n, 'func'), mov64(3, imm(0)), mov64(4, imm(0)), call(181), mov64(0, imm(0)), exit(), exit()] },
  { name: 'bpf_loop scalar callback', type: 'xdp', insns: [mov64(1, imm(10)), mov64(2, imm(0)), mov64(3, imm(0)), mov64(4, imm(0)), call(181), mov64(0, imm(0)), exit()] },
  { name: 'bpf_loop ctx on stack', type: 'xdp', insns: [st(8, 10, -8, 0), mov64(1, imm(10)), lddw(2, 7n, 'func'), mov64(3, 10), add64(3, imm(-8)), mov64(4, imm(0)), call(181), ldx(8, 0, 10, -8), exit(), stx(8, 2, 1, 0), mov64(0, imm(0)), exit()] },
  { name: 'bpf_loop callback index unbounded', type: 'xdp', insns: [mov64(1, imm(10)), lddw(2, 5n, 'func'), mov64(3, imm(0)), mov64(4, imm(0)), call(181), mov64(0, imm(0)), exit(), mov64(2, 10), add64(2, imm(-64)), add64(2, 1), st(1, 2, 0, 0), mov64(0, imm(0)), exit()] },
  { name: 'bpf_loop callback index masked', type: 'xdp', insns: [mov64(1, imm(10)), lddw(2, 5n, 'func'), mov64(3, imm(0)), mov64(4, imm(0)), call(181), mov64(0, imm(0)), exit(), and64(1, imm(63)), mov64(2, 10), add64(2, imm(-64)), add64(2, 1), st(1, 2, 0, 0), mov64(0, imm(0)), exit()] },
  { name: 'bpf_loop callback counts in ctx', type: 'xdp', insns: [st(8, 10, -8, 0), mov64(1, imm(100)), lddw(2, 7n, 'func'), mov64(3, 10), add64(3, imm(-8)), mov64(4, imm(0)), call(181), ldx(8, 0, 10, -8), exit(), ldx(8, 1, 2, 0), add64(1, imm(1)), stx(8, 2, 1, 0), mov64(0, imm(0)), exit()] },
  { name: 'bpf_loop ctx not a stack pointer', type: 'xdp', insns: [mov64(1, imm(10)), lddw(2, 5n, 'func'), mov64(3, 1), mov64(4, imm(0)), call(181), mov64(0, imm(0)), exit(), mov64(0, imm(0)), exit()] },
  // --- more helpers ---
  { name: 'get_stack into stack buffer', type: 'kprobe', insns: [mov64(2, 10), add64(2, imm(-64)), mov64(3, imm(64)), mov64(4, imm(0)), call(67), mov64(0, imm(0)), exit()] },
  { name: 'get_stack buffer too small', type: 'kprobe', insns: [mov64(2, 10), add64(2, imm(-64)), mov64(3, imm(72)), mov64(4, imm(0)), call(67), mov64(0, imm(0)), exit()] },
  { name: 'probe_read_str result bounds an index', type: 'kprobe', insns: [mov64(1, 10), add64(1, imm(-32)), mov64(2, imm(32)), mov64(3, imm(0)), call(115), jslt(0, imm(1), 4), mov64(1, 10), add64(1, imm(-33)), add64(1, 0), ldx(1, 0, 1, 0), mov64(0, imm(0)), exit()] },
  { name: 'probe_read_str result unchecked sign', type: 'kprobe', insns: [mov64(1, 10), add64(1, imm(-32)), mov64(2, imm(32)), mov64(3, imm(0)), call(115), mov64(1, 10), add64(1, imm(-33)), add64(1, 0), ldx(1, 0, 1, 0), mov64(0, imm(0)), exit()] },
  { name: 'skb_pull_data invalidates packet pointers', type: 'sched_cls', insns: [mov64(6, 1), ldx(4, 7, 1, 76), mov64(2, imm(14)), call(39), ldx(1, 0, 7, 0), exit()] },
  { name: 'smp processor id as index', type: 'xdp', insns: [call(8), mov64(1, 10), add64(1, imm(-8)), add64(1, 0), ldx(1, 0, 1, 0), mov64(0, imm(0)), exit()] },
  { name: 'numa node and jiffies', type: 'xdp', insns: [call(42), call(118), mov64(0, imm(2)), exit()] },
];

/** Every 4-byte-aligned ctx offset and size for a few program types. */
function ctxFamily(): Case[] {
  const out: Case[] = [];
  const spec: [ProgType, number][] = [['socket_filter', 196], ['sched_cls', 196], ['xdp', 28], ['cgroup_skb', 196]];
  for (const [type, end] of spec) {
    for (let off = 0; off < end; off += 4) {
      for (const size of [1, 2, 4, 8] as const) {
        if (size === 8 && off % 8) continue;
        if (size < 4 && off % 16) continue;
        out.push({ name: `ctx ${type} read off=${off} size=${size}`, type, insns: [ldx(size, 0, 1, off), mov64(0, imm(0)), exit()] });
      }
    }
  }
  return out;
}

/** Scalar arithmetic whose printed ranges must match the kernel's. */
function aluFamily(): Case[] {
  const out: Case[] = [];
  const masks = [0xff, 0x7, 0xfff0];
  const ops: [string, (d: Reg, s: { imm: number }) => Insn, number][] = [
    ['add', add64, 100], ['sub', sub64, 50], ['mul', mul64, 3], ['and', and64, 0x3c], ['or', or64, 0x100],
    ['xor', xor64, 0x55], ['lsh', lsh64, 4], ['rsh', rsh64, 2], ['arsh', arsh64, 3],
    ['add32', add32, 100], ['and32', and32, 0x3c], ['rsh32', rsh32, 2], ['lsh32', lsh32, 28],
  ];
  for (const m of masks) {
    for (const [name, op, k] of ops) {
      out.push({
        name: `alu ${name} ${k} after &${m} (log)`, type: 'xdp',
        insns: [call(7), and64(0, imm(m)), op(0, imm(k)), mov64(1, 0), jgt(1, imm(1000), 1), mov64(0, imm(0)), exit()],
      });
    }
  }
  for (const [c, v] of [['jgt', 7], ['jge', 7], ['jlt', 7], ['jle', 7], ['jsgt', -3], ['jslt', -3], ['jeq', 9], ['jne', 9], ['jset', 4]] as const) {
    const j = { jgt, jge, jlt, jle, jsgt, jslt, jeq, jne, jset }[c];
    out.push({
      name: `branch ${c} ${v} refines (log)`, type: 'xdp',
      insns: [call(7), lsh64(0, imm(56)), arsh64(0, imm(56)), j(0, imm(v), 2), mov64(1, 0), ja(1), mov64(2, 0), mov64(0, imm(0)), exit()],
    });
  }
  return out;
}

export const CORPUS: readonly Case[] = [...handwritten, ...ctxFamily(), ...aluFamily()];
