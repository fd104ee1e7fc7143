import type { ProgramSpec, ProgramType } from '../elf/index.js';
import type { ProgramRef } from '../maps/index.js';
import type { RunState } from '../helpers/index.js';
import {
  encodePtRegs, encodeRawTracepointArgs, encodeTracepointRecord, shippedTracepointFormat, tcActionName, xdpActionName,
  type RegsArch, type RegsValues, type SkbFieldsOut, type SkbRunOptions, type SkbStart, type TracepointFormat, type TracepointValue,
} from '../progtypes/index.js';
import type { Insn } from '../isa/index.js';
import type { PreparedProgram } from '../vm/index.js';
import { RuntimeInputError } from './errors.js';
import type { VmCollection } from './collection.js';

/** What a program is run on. */
export interface ProgramRunInput {
  /** The packet (Ethernet frame) for XDP, tc, socket filter and cgroup skb programs. */
  readonly packet?: Uint8Array;
  /** Conformance convention (r1 = memory, r2 = its length) for programs without a context type. */
  readonly mem?: Uint8Array;
  /** Raw context bytes for tracing programs (tracepoint record, pt_regs, ...); r1 points to a copy. */
  readonly context?: Uint8Array;
  /**
   * A tracepoint record built from field values: `format` is a shipped
   * tracepoint ("sched/sched_switch") or a parsed tracefs format.
   */
  readonly tracepoint?: { readonly format: string | TracepointFormat; readonly values: Readonly<Record<string, TracepointValue>> };
  /** kprobe (pt_regs) context from register values; arch defaults to x86_64. */
  readonly regs?: RegsValues & { readonly arch?: RegsArch };
  /** raw_tracepoint context: the tracepoint's u64 arguments. */
  readonly rawArgs?: readonly (number | bigint)[];
  /** skb programs: where skb->data starts (default: l3 for cgroup_skb, l2 otherwise). */
  readonly skbStart?: SkbStart;
  readonly skb?: Omit<SkbRunOptions, 'start'>;
  readonly ingressIfindex?: number;
  /** Instruction budget per program in the tail-call chain. */
  readonly budget?: number;
}

/** The outcome of one run. */
export interface ProgramRunResult {
  /** r0 of the last program in the tail-call chain, unsigned 64-bit. */
  readonly r0: bigint;
  /** r0 as the kernel's int return value (low 32 bits, signed). */
  readonly retval: number;
  /** XDP_PASS, TC_ACT_OK, ... for packet programs. */
  readonly action: string | undefined;
  /** The packet after the run (XDP: data .. data_end; skb: the frame). */
  readonly packet: Uint8Array | undefined;
  /** The input memory after a conformance-convention run. */
  readonly mem: Uint8Array | undefined;
  /** bpf_trace_printk messages. */
  readonly trace: readonly string[];
  /** Names of the programs run: the entry, then each tail call. */
  readonly chain: readonly string[];
  readonly redirect: { readonly ifindex: number; readonly flags: number } | undefined;
  /** __sk_buff fields a tc program may write, after the run. */
  readonly skb: SkbFieldsOut | undefined;
  readonly executed: number;
}

/** A program loaded into a VM collection. */
export class VmProgram implements ProgramRef {
  constructor(
    readonly collection: VmCollection,
    readonly spec: ProgramSpec,
    readonly id: number,
    /** The instructions after map relocation. */
    readonly insns: readonly Insn[],
    readonly prepared: PreparedProgram,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get type(): ProgramType {
    return this.spec.type;
  }

  /** Run once (with tail calls followed) and collect everything a test wants to look at. */
  run(input: ProgramRunInput = {}): ProgramRunResult {
    const opts = input.budget === undefined ? {} : { budget: input.budget };
    const r1 = this.prepare(input);
    const chain: string[] = [this.name];
    if (r1 === undefined) {
      // Conformance convention: r1 = memory, r2 = its length.
      const res = this.prepared.run(input.mem ?? new Uint8Array(0), opts);
      return this.result(res.r0, res.executed, chain, res.mem);
    }
    const first = this.prepared.call([r1], opts);
    const out = this.follow(first.r0, r1, chain, input.budget);
    return this.result(out.r0, first.executed + out.executed, chain, undefined);
  }

  /**
   * The streaming path: run on a packet and return the kernel's int return
   * value, leaving the packet in place (read it with `collection.packetAfter()`).
   */
  runPacket(packet: Uint8Array, skbStart?: SkbStart): number {
    const r1 = this.prepare({ packet, skbStart })!;
    const first = this.prepared.call([r1]);
    const r0 = this.collection.state.tailCall === undefined ? first.r0 : this.follow(first.r0, r1, [], undefined).r0;
    return Number(BigInt.asIntN(32, r0));
  }

  /** Set up the run state and the context; the context's address, or undefined for the memory convention. */
  private prepare(input: ProgramRunInput): number | undefined {
    const c = this.collection;
    const st: RunState = c.state;
    st.programType = this.type;
    st.tailCall = undefined;
    st.tailCalls = 0;
    st.redirect = undefined;
    st.trace.length = 0;
    st.xdp = undefined;
    st.skb = undefined;
    switch (this.type) {
      case 'xdp': {
        if (input.packet === undefined) throw new RuntimeInputError(`program '${this.name}': an XDP program needs a packet`);
        const x = c.xdpContext();
        st.xdp = x;
        return x.load(input.packet, { ingressIfindex: input.ingressIfindex });
      }
      case 'socket_filter': case 'sched_cls': case 'sched_act': case 'cgroup_skb': {
        if (input.packet === undefined) throw new RuntimeInputError(`program '${this.name}': a ${this.type} program needs a packet`);
        const s = c.skbContext();
        st.skb = s;
        const start = input.skbStart ?? (this.type === 'cgroup_skb' ? 'l3' : 'l2');
        return s.load(input.packet, { ...input.skb, start, ingressIfindex: input.ingressIfindex ?? input.skb?.ingressIfindex });
      }
      default:
        if (input.context !== undefined) return c.contextRegion(input.context);
        if (input.tracepoint !== undefined) {
          const tp = input.tracepoint;
          const fmt = typeof tp.format === 'string' ? shippedTracepointFormat(tp.format) : tp.format;
          if (fmt === undefined) throw new RuntimeInputError(`program '${this.name}': no shipped format for tracepoint '${String(tp.format)}' (parse tracefs's format file and pass it)`);
          return c.contextRegion(encodeTracepointRecord(fmt, tp.values, { pid: c.env.pid }));
        }
        if (input.regs !== undefined) return c.contextRegion(encodePtRegs(input.regs.arch ?? 'x86_64', input.regs));
        if (input.rawArgs !== undefined) return c.contextRegion(encodeRawTracepointArgs(input.rawArgs));
        if (input.packet !== undefined) throw new RuntimeInputError(`program '${this.name}': ${this.type} programs do not take a packet`);
        return undefined;
    }
  }

  /** Follow tail calls: each target runs with the same context. */
  private follow(r0: bigint, r1: number, chain: string[], budget: number | undefined): { r0: bigint; executed: number } {
    const c = this.collection;
    const st = c.state;
    let executed = 0;
    while (st.tailCall !== undefined) {
      const next = c.programById(st.tailCall.id);
      st.tailCall = undefined;
      chain.push(next.name);
      const res = next.prepared.call([r1], budget === undefined ? {} : { budget });
      r0 = res.r0;
      executed += res.executed;
    }
    return { r0, executed };
  }

  private result(r0: bigint, executed: number, chain: string[], mem: Uint8Array | undefined): ProgramRunResult {
    const st = this.collection.state;
    const retval = Number(BigInt.asIntN(32, r0));
    let action: string | undefined;
    let packet: Uint8Array | undefined;
    if (st.xdp !== undefined) {
      action = xdpActionName(retval);
      packet = st.xdp.packet.contents();
    } else if (st.skb !== undefined) {
      action = this.type === 'sched_cls' || this.type === 'sched_act' ? tcActionName(retval) : undefined;
      packet = st.skb.frameAfter();
    }
    return {
      r0, retval, action, packet, mem, trace: [...st.trace], chain, redirect: st.redirect,
      skb: st.skb?.fieldsOut(), executed,
    };
  }
}
