import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PcapWriter, PcapngWriter, readCapture, type CapturedPacket } from '../../src/pcap/index.js';

/** A record for packet i: 16-byte header (nanosecond pcap) and 20..63 bytes whose first two hold i. */
function pcapRecord(i: number): Uint8Array {
  const len = 20 + (i % 44);
  const rec = new Uint8Array(16 + len);
  const v = new DataView(rec.buffer);
  v.setUint32(0, i, true);
  v.setUint32(4, i % 1000, true);
  v.setUint32(8, len, true);
  v.setUint32(12, 1000, true);
  rec[16] = i & 0xff;
  rec[17] = (i >> 8) & 0xff;
  return rec;
}

/** A capture produced on the fly in chunks of awkward sizes, never held whole. */
async function* syntheticCapture(count: number, format: 'pcap' | 'pcapng', chunk: number): AsyncGenerator<Uint8Array> {
  const w = format === 'pcap' ? new PcapWriter({ precision: 'nano' }) : new PcapngWriter({ interfaces: [{ linkType: 1 }, { linkType: 1, unitsPerSecond: 1e9 }] });
  let buf = new Uint8Array(chunk);
  let fill = 0;
  const out: Uint8Array[] = [];
  const put = (rec: Uint8Array) => {
    for (let o = 0; o < rec.length; ) {
      const n = Math.min(rec.length - o, chunk - fill);
      buf.set(n === rec.length ? rec : rec.subarray(o, o + n), fill);
      fill += n;
      o += n;
      if (fill === chunk) {
        out.push(buf);
        buf = new Uint8Array(chunk);
        fill = 0;
      }
    }
  };
  put(w.header());
  const data = new Uint8Array(64);
  for (let i = 0; i < count; i++) {
    if (format === 'pcap') put(pcapRecord(i));
    else {
      data[0] = i & 0xff;
      data[1] = (i >> 8) & 0xff;
      put(w.packet({ data: data.subarray(0, 20 + (i % 44)), wirelen: 1000, interfaceId: i % 2, timestamp: { seconds: i, fraction: i % 1000, unitsPerSecond: 1e9 } }));
    }
    if (out.length) {
      yield* out;
      out.length = 0;
    }
  }
  if (fill) yield buf.subarray(0, fill);
}

test('1,000,000 packets stream through with flat memory', async () => {
  const count = 1_000_000;
  let n = 0;
  let bytes = 0;
  let maxHeap = 0;
  let heapAt100k = 0;
  let last: CapturedPacket | undefined;
  for await (const p of readCapture(syntheticCapture(count, 'pcap', 65536 + 7))) {
    n++;
    bytes += p.data.length;
    if (p.data[0] !== (p.number - 1) % 256) assert.fail(`packet ${p.number}: wrong data`);
    if (n % 100_000 === 0) {
      const h = process.memoryUsage().heapUsed;
      if (n === 100_000) heapAt100k = h;
      maxHeap = Math.max(maxHeap, h);
    }
    last = p;
  }
  assert.equal(n, count);
  assert.equal(last?.number, count);
  assert.equal(last?.timestamp.seconds, count - 1);
  assert.ok(bytes > 30_000_000);
  // Flat: the heap after a million packets is within 40 MB of the heap after 100,000.
  assert.ok(maxHeap - heapAt100k < 40 << 20, `heap grew by ${((maxHeap - heapAt100k) / 1e6).toFixed(1)} MB`);
});

test('pcapng streams in chunks of every small size, including 1 byte', async () => {
  for (const chunk of [1, 2, 3, 5, 13, 64, 1000]) {
    const got: number[] = [];
    for await (const p of readCapture(syntheticCapture(300, 'pcapng', chunk))) {
      got.push(p.data[0] | (p.data[1] << 8));
      assert.equal(p.interfaceId, (p.number - 1) % 2);
      assert.equal(p.timestamp.seconds, p.number - 1);
    }
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => i), `chunk ${chunk}`);
  }
});

test('a web ReadableStream is a valid source', async () => {
  const chunks: Uint8Array[] = [];
  for await (const c of syntheticCapture(50, 'pcap', 100)) chunks.push(c);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
  let n = 0;
  for await (const _ of readCapture(stream)) n++;
  assert.equal(n, 50);
  // A stream read through getReader(), as in browsers whose streams are not async iterable.
  const readerOnly = { getReader: () => new ReadableStream<Uint8Array>({ start(c) { for (const x of chunks) c.enqueue(x); c.close(); } }).getReader() };
  n = 0;
  for await (const _ of readCapture(readerOnly)) n++;
  assert.equal(n, 50);
});
