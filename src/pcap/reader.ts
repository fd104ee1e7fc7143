/**
 * Reading whole captures or streams. `readCapture` takes any async (or
 * sync) iterable of byte chunks, so Node streams (`fs.createReadStream`)
 * and browser ReadableStreams (iterable or not) both work, and it
 * yields packets one at a time without holding the file.
 */
import { CaptureParser, type ReaderOptions } from './parser.js';
import type { CapturedPacket } from './packet.js';

/** The part of a web ReadableStream used here (some browsers' streams are not async iterable). */
export interface ByteStreamLike {
  getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }>; releaseLock(): void };
}

export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array> | ByteStreamLike;

async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array, void, undefined> {
  if (Symbol.asyncIterator in source || Symbol.iterator in source) {
    yield* source as AsyncIterable<Uint8Array>;
    return;
  }
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (value) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Stream packets from chunks of a pcap or pcapng file. */
export async function* readCapture(source: ByteSource, opts: ReaderOptions = {}): AsyncGenerator<CapturedPacket, void, undefined> {
  const parser = new CaptureParser(opts);
  for await (const chunk of chunksOf(source)) {
    parser.push(chunk);
    for (let p = parser.next(); p !== undefined; p = parser.next()) yield p;
  }
  parser.end();
}

/** Packets of a capture held in memory, lazily. */
export function* parseCapture(bytes: Uint8Array, opts: ReaderOptions = {}): Generator<CapturedPacket, void, undefined> {
  const parser = new CaptureParser(opts);
  parser.push(bytes);
  for (let p = parser.next(); p !== undefined; p = parser.next()) yield p;
  parser.end();
}

/** All packets of a capture held in memory. */
export function readCaptureSync(bytes: Uint8Array, opts: ReaderOptions = {}): CapturedPacket[] {
  return [...parseCapture(bytes, opts)];
}
