/**
 * The whole filter corpus, converted to eBPF, against the kernel running the
 * original classic programs.
 *
 * "The same packets": a classic filter attached to a packet socket sees the
 * frame from its link header, as libpcap's filters do; BPF_PROG_TEST_RUN of a
 * socket filter pulls a 14-byte Ethernet header first (eth_type_trans) and the
 * program sees what follows. So the test run gets a 14-byte dummy header
 * (EtherType 0x88b5, local experimental) in front of the very frame the
 * packet socket sees: both programs read the same bytes, with skb->len the
 * frame's length. The kernel's classic path reports min(result, length)
 * bytes delivered (packet_rcv trims to the filter's result), so the test
 * run's return value is compared through the same function.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkClassic, EbpfFilter, cbpfToEbpf, runCbpf, type SockFilter } from '../../src/cbpf/index.js';
import { generatePackets, LINKTYPE } from '../../src/pcap/index.js';
import { compileFilter, type LinkType } from '../../src/pcap/filter/index.js';
import { loadProgram } from '../../src/kernel/index.js';
import { checkFdLeaks, kernelTest } from '../helpers/kernel.js';
import { CORPUS } from '../pcap/filter/corpus.js';
import { kernelPacketFilter } from './tools.js';

checkFdLeaks();

const PACKETS_PER_LINK = 80;
const DUMMY_ETH = Uint8Array.from([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x88, 0xb5]);

const hasBackwardJump = (p: readonly SockFilter[]): boolean => p.some((f) => f.code === 0x05 && f.k >= 0x80000000);
const delivered = (ret: number, len: number): number => (ret === 0 ? -1 : Math.min(ret >>> 0, len));

kernelTest('every corpus filter, converted to eBPF, gives the kernel\'s cBPF verdicts (test run, packet socket, our VM)', { timeout: 120_000 }, () => {
  const byLink = new Map<LinkType, { expr: string; prog: SockFilter[] }[]>();
  const excluded: string[] = [];
  // Optimized (tcpdump's default) and unoptimized (-O) programs.
  for (const { expr: text, linkType, optimize } of CORPUS.flatMap((e) => [true, false].map((optimize) => ({ ...e, optimize })))) {
    const prog = compileFilter(text, { linkType, optimize });
    const expr = optimize ? text : `-O ${text}`;
    // protochain loops with backward `ja`: libpcap runs it, the kernel's classic checker refuses it (EINVAL).
    if (hasBackwardJump(prog)) {
      assert.throws(() => checkClassic(prog), /jump/, expr);
      excluded.push(expr);
      continue;
    }
    let list = byLink.get(linkType);
    if (!list) byLink.set(linkType, (list = []));
    list.push({ expr, prog });
  }
  const protochain = ['ip protochain 6', 'ip6 protochain 17', 'ip6 protochain \\tcp', 'protochain 58', 'protochain 6'];
  assert.deepEqual(excluded.sort(), [...protochain.map((e) => `-O ${e}`), ...protochain]);
  let runs = 0;
  let accepted = 0;
  let filters = 0;
  const diffs: string[] = [];
  for (const [linkType, entries] of byLink) {
    const frames = [...generatePackets(77, PACKETS_PER_LINK, LINKTYPE[linkType])].map((p) => p.data);
    const kernel = kernelPacketFilter(frames, entries.map((e) => e.prog));
    entries.forEach(({ expr, prog }, i) => {
      const k = kernel[i];
      if (!Array.isArray(k)) {
        diffs.push(`${linkType} '${expr}': SO_ATTACH_FILTER refused it (errno ${k.errno})`);
        return;
      }
      filters++;
      using p = loadProgram({ type: 'socket_filter', insns: cbpfToEbpf(prog) });
      const vm = new EbpfFilter(prog, 'interp');
      frames.forEach((frame, j) => {
        const data = new Uint8Array(DUMMY_ETH.length + frame.length);
        data.set(DUMMY_ETH);
        data.set(frame, DUMMY_ETH.length);
        const { retval } = p.testRun({ data, dataOutSize: 0 });
        const ours = vm.run(frame);
        const classic = runCbpf(prog, frame, { dialect: 'linux' });
        const libpcap = runCbpf(prog, frame);
        runs++;
        if (k[j] >= 0) accepted++;
        const where = `${linkType} '${expr}' packet ${j}`;
        if (delivered(retval, frame.length) !== k[j]) diffs.push(`${where}: test run ${retval}, packet socket ${k[j]}`);
        if (ours !== retval >>> 0) diffs.push(`${where}: our VM ${ours}, test run ${retval}`);
        if (classic !== retval >>> 0 || libpcap !== classic) diffs.push(`${where}: runCbpf ${classic}/${libpcap}, test run ${retval}`);
      });
    });
  }
  assert.deepEqual(diffs.slice(0, 20), []);
  assert.ok(filters > 900, `${filters} filters`);
  assert.ok(accepted > runs / 20 && accepted < runs - runs / 20, `${accepted} of ${runs} runs accepted`);
  // The figures for the report.
  console.log(`# corpus vs kernel: ${filters} filters, ${runs} filter x packet runs, ${accepted} accepted, ${excluded.length} protochain programs excluded`);
});
