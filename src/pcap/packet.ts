/** What a capture file holds: interfaces and the packets captured on them. */

/** A capture time: whole seconds since the epoch plus a fraction in 1/unitsPerSecond. */
export interface Timestamp {
  readonly seconds: number;
  readonly fraction: number;
  /** 1e6 (microseconds), 1e9 (nanoseconds), or a pcapng if_tsresol. */
  readonly unitsPerSecond: number;
}

/** An interface packets were captured on (one per pcap file; any number per pcapng section). */
export interface CaptureInterface {
  readonly linkType: number;
  /** Largest captured length; 0 means unlimited. */
  readonly snaplen: number;
  /** Timestamp units per second (1e6 for microsecond pcap, 1e9 for nanosecond). */
  readonly unitsPerSecond: number;
  /** if_name, when a pcapng file gives one. */
  readonly name?: string;
  /** if_tsoffset: seconds added to every timestamp (pcapng). */
  readonly tsOffset?: number;
}

export interface CapturedPacket {
  /** 1-based position in the file, as tcpdump and Wireshark count. */
  readonly number: number;
  /** The captured bytes (caplen of them). */
  readonly data: Uint8Array;
  /** Length on the wire (the record's "original length"). */
  readonly wirelen: number;
  readonly timestamp: Timestamp;
  readonly linkType: number;
  /** Index of the interface in its pcapng section; 0 in pcap files. */
  readonly interfaceId: number;
  /** Byte offset of the packet's record or block in the file. */
  readonly offset: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** Nanoseconds since the epoch, exactly. */
export function timestampNanos(t: Timestamp): bigint {
  return BigInt(t.seconds) * 1_000_000_000n + (BigInt(t.fraction) * 1_000_000_000n) / BigInt(t.unitsPerSecond);
}

/** `seconds.fraction` as `tcpdump -tt` prints it (6 digits, or 9 with nanosecond precision). */
export function formatTimestamp(t: Timestamp, digits: 6 | 9 = 6): string {
  const frac = (BigInt(t.fraction) * 10n ** BigInt(digits)) / BigInt(t.unitsPerSecond);
  return `${t.seconds}.${frac.toString().padStart(digits, '0')}`;
}
