/**
 * Output channels from programs to user space: BPF ring buffers, perf
 * event buffers (both watched on the Node event loop through libuv, no
 * thread per CPU) and bpf_printk's trace_pipe.
 */
export { RingBufferReader, type RecordHandler } from './ringbuf.js';
export { PerfBufferReader, type SampleHandler, type PerfBufferOptions } from './perfbuf.js';
export { readTracePipe, parseTraceLine, type TraceLine } from './trace-pipe.js';
