/**
 * Key encoding for the JS index of hash-like maps: keys of up to 4 bytes
 * become a number (fast Map lookups on the benchmark's u32 keys), longer
 * ones a string of 16-bit code units.
 */
export type KeyRep = number | string;

/** Encode `size` bytes at `at` in `bytes`. */
export function keyRep(bytes: Uint8Array, view: DataView, at: number, size: number): KeyRep {
  switch (size) {
    case 4: return view.getUint32(at, true);
    case 1: return bytes[at];
    case 2: return view.getUint16(at, true);
    case 3: return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
    default: {
      let s = '';
      let i = 0;
      for (; i + 1 < size; i += 2) s += String.fromCharCode(bytes[at + i] | (bytes[at + i + 1] << 8));
      if (i < size) s += String.fromCharCode(bytes[at + i]);
      return s;
    }
  }
}
