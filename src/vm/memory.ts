import { VmMapError, VmMemoryError, type Access } from './errors.js';
import {
  HEAP_BASE, MAX_FRAMES, NULL_GUARD, PAGE_SHIFT, PAGE_SIZE, STACK_BASE, STACK_SIZE, STACK_STRIDE, WASM_PAGE_SIZE,
} from './layout.js';

/** A named, page-aligned range of the address space a program may access. */
export interface Region {
  /** Index in the region table (1-based; 0 means "unmapped"). */
  readonly id: number;
  readonly name: string;
  /** eBPF address of the first byte. */
  readonly start: number;
  readonly size: number;
  readonly writable: boolean;
}

export interface AddressSpaceOptions {
  /** Upper bound on the linear memory, in bytes (default 1 GiB; at most 4 GiB minus one page). */
  readonly maxBytes?: number;
}

export interface MapOptions {
  /** Default true. */
  readonly writable?: boolean;
}

/**
 * The part of WebAssembly.Memory we use. The project's lib settings (ES2022,
 * no DOM) do not declare WebAssembly, so it is reached through globalThis.
 */
export interface LinearMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
const WasmMemory = (globalThis as unknown as {
  WebAssembly: { Memory: new (descriptor: { initial: number; maximum?: number }) => LinearMemory };
}).WebAssembly.Memory;

const MAX_REGIONS = 0xffff;
const DEFAULT_MAX_BYTES = 1 << 30;
const ADDRESS_LIMIT = 2 ** 32 - PAGE_SIZE;

/**
 * The sandboxed address space of an eBPF program: one WebAssembly linear
 * memory (so the JIT shares the very same bytes and addresses), split into
 * regions. Every access is checked against a per-page region table, which
 * makes the check O(1): the page of the first byte names the region, and the
 * access must end within that region (regions are page-aligned, so it cannot
 * start before it).
 *
 * The typed-array views (`bytes`, `view`, `pageRegion`, `readEnd`,
 * `writeEnd`) are replaced when the memory or the region table grows; code
 * that caches them must re-read them after anything that can map a region
 * (a helper call). `generation` counts those replacements.
 */
export class AddressSpace {
  /** The WebAssembly.Memory holding every byte (import it into the JIT's module). */
  readonly memory: LinearMemory;
  /** Byte view of the whole linear memory. */
  bytes!: Uint8Array;
  /** DataView of the whole linear memory (little-endian accessors). */
  view!: DataView;
  /** Region id (0 = unmapped) of every 4 KiB page of the memory. */
  pageRegion!: Uint16Array;
  /** End address (exclusive) of each region by id; 0 for unused ids. */
  readEnd: Float64Array;
  /** End address of each writable region by id; 0 for read-only or unused ids. */
  writeEnd: Float64Array;
  /** Bumped whenever the views above are replaced. */
  generation = 0;
  /**
   * How many frames' stacks may hold data since they were last zeroed: runs
   * zero them first so no run sees what an earlier one left (set by the VM
   * after a run that can write memory, and by host writes).
   */
  dirtyFrames = 0;

  private readonly maxBytes: number;
  private readonly table: (Region | undefined)[] = [undefined];
  private readonly freeIds: number[] = [];
  /** Latest region mapped under each name (names need not be unique). */
  private readonly byName = new Map<string, Region>();
  private readonly stackRegions: Region[] = [];

  constructor(options: AddressSpaceOptions = {}) {
    this.maxBytes = Math.min(options.maxBytes ?? DEFAULT_MAX_BYTES, ADDRESS_LIMIT);
    const initial = Math.ceil((HEAP_BASE + 4 * PAGE_SIZE) / WASM_PAGE_SIZE);
    this.memory = new WasmMemory({ initial });
    this.readEnd = new Float64Array(64);
    this.writeEnd = new Float64Array(64);
    this.refreshViews();
    for (let i = 0; i < MAX_FRAMES; i++) {
      this.stackRegions.push(this.place(`stack${i}`, STACK_BASE + i * STACK_STRIDE, STACK_SIZE, true));
    }
  }

  /** Size of the linear memory in bytes: every valid address is below it. */
  get limit(): number {
    return this.bytes.length;
  }

  /**
   * Map a new region: a copy of `init` when it is bytes, or `init` zeroed
   * bytes. It is placed at the lowest free page-aligned address with an
   * unmapped page on each side.
   */
  map(name: string, init: number | Uint8Array, options: MapOptions = {}): Region {
    const size = typeof init === 'number' ? init : init.length;
    if (!Number.isInteger(size) || size < 0 || size > this.maxBytes) {
      throw new VmMapError(`cannot map region '${name}': invalid size ${size}`);
    }
    const pages = Math.max(1, Math.ceil(size / PAGE_SIZE));
    const start = this.findFree(pages, name);
    const region = this.place(name, start, size, options.writable ?? true);
    if (typeof init === 'number') this.bytes.fill(0, start, start + size);
    else this.bytes.set(init, start);
    return region;
  }

  /** Remove a host region; its addresses fault again. Stacks cannot be unmapped. */
  unmap(region: Region | string): void {
    const r = typeof region === 'string' ? this.region(region) : this.table[region.id];
    if (r === undefined || (typeof region !== 'string' && r !== region)) {
      throw new VmMapError(`cannot unmap region '${typeof region === 'string' ? region : region.name}': not mapped`);
    }
    if (this.stackRegions.includes(r)) throw new VmMapError(`cannot unmap the stack region '${r.name}'`);
    const first = r.start >>> PAGE_SHIFT;
    const last = first + Math.max(1, Math.ceil(r.size / PAGE_SIZE));
    this.pageRegion.fill(0, first, last);
    this.readEnd[r.id] = 0;
    this.writeEnd[r.id] = 0;
    this.table[r.id] = undefined;
    this.freeIds.push(r.id);
    if (this.byName.get(r.name) === r) {
      this.byName.delete(r.name);
      for (let id = this.table.length - 1; id > 0; id--) {
        const other = this.table[id];
        if (other !== undefined && other.name === r.name) {
          this.byName.set(r.name, other);
          break;
        }
      }
    }
  }

  /** Unmap every host region (the stacks stay) and zero the stacks. */
  reset(): void {
    for (const r of this.regions()) if (!this.stackRegions.includes(r)) this.unmap(r);
    this.clearStacks(MAX_FRAMES);
  }

  /** Zero the stacks of the first `frames` frames. */
  clearStacks(frames: number): void {
    for (let i = 0; i < frames && i < MAX_FRAMES; i++) {
      const s = this.stackRegions[i].start;
      this.bytes.fill(0, s, s + STACK_SIZE);
    }
    if (frames >= this.dirtyFrames) this.dirtyFrames = 0;
  }

  /** True while `region` is mapped (false once unmapped or after reset). */
  isMapped(region: Region): boolean {
    return this.table[region.id] === region;
  }

  /** The mapped region with this name (the latest mapped, if several share it). */
  region(name: string): Region | undefined {
    return this.byName.get(name);
  }

  /** The region containing `address`, if any. */
  regionAt(address: number | bigint): Region | undefined {
    const a = Number(address);
    if (!(a >= 0 && a < this.limit)) return undefined;
    const r = this.table[this.pageRegion[Math.floor(a / PAGE_SIZE)]];
    return r !== undefined && a < r.start + r.size ? r : undefined;
  }

  regions(): Region[] {
    return this.table.filter((r): r is Region => r !== undefined);
  }

  /** A live view of a region's bytes (valid until the memory grows). */
  bytesOf(region: Region): Uint8Array {
    return this.bytes.subarray(region.start, region.start + region.size);
  }

  /**
   * Check that [address, address + size) lies in one region (writable for
   * writes) and return the address as a number. Throws VmMemoryError naming
   * `pc` otherwise.
   */
  check(address: number | bigint, size: number, access: Access, pc = -1): number {
    const a = typeof address === 'bigint' ? (address <= 0xffffffffn && address >= 0n ? Number(address) : -1) : address;
    if (Number.isInteger(a) && a >= 0 && a < this.limit && size >= 0) {
      const r = this.pageRegion[a >>> PAGE_SHIFT];
      const end = access === 'write' ? this.writeEnd[r] : this.readEnd[r];
      if (r !== 0 && a + size <= end) return a;
    }
    throw this.fault(pc, access, address, size);
  }

  /** The error for a failed access, saying why when a region is involved. */
  fault(pc: number, access: Access, address: number | bigint, size: number): VmMemoryError {
    const a = BigInt.asUintN(64, typeof address === 'bigint' ? address : BigInt(Math.trunc(address)));
    let reason: string | undefined;
    if (a < BigInt(NULL_GUARD)) reason = 'null or near-null pointer';
    else {
      const r = a < BigInt(this.limit) ? this.table[this.pageRegion[Number(a) >>> PAGE_SHIFT]] : undefined;
      if (r !== undefined && access === 'write' && !r.writable) reason = `region '${r.name}' is read-only`;
      else if (r !== undefined) reason = `runs past the end of region '${r.name}' (${r.size} bytes at 0x${r.start.toString(16)})`;
      else reason = 'unmapped';
    }
    return new VmMemoryError(pc, access, a, size, reason);
  }

  /** Copy `length` bytes out of the sandbox (checked). */
  read(address: number | bigint, length: number): Uint8Array {
    const a = this.check(address, length, 'read');
    return this.bytes.slice(a, a + length);
  }

  /** Copy bytes into the sandbox (checked). */
  write(address: number | bigint, data: Uint8Array): void {
    const a = this.check(address, data.length, 'write');
    this.bytes.set(data, a);
    if (a < HEAP_BASE) this.dirtyFrames = MAX_FRAMES;
  }

  readU64(address: number | bigint): bigint {
    return this.view.getBigUint64(this.check(address, 8, 'read'), true);
  }

  writeU64(address: number | bigint, value: bigint): void {
    const a = this.check(address, 8, 'write');
    this.view.setBigUint64(a, BigInt.asUintN(64, value), true);
    if (a < HEAP_BASE) this.dirtyFrames = MAX_FRAMES;
  }

  readU32(address: number | bigint): number {
    return this.view.getUint32(this.check(address, 4, 'read'), true);
  }

  writeU32(address: number | bigint, value: number): void {
    const a = this.check(address, 4, 'write');
    this.view.setUint32(a, value >>> 0, true);
    if (a < HEAP_BASE) this.dirtyFrames = MAX_FRAMES;
  }

  private place(name: string, start: number, size: number, writable: boolean): Region {
    const id = this.freeIds.pop() ?? this.table.length;
    if (id > MAX_REGIONS) throw new VmMapError(`cannot map region '${name}': too many regions`);
    const region: Region = Object.freeze({ id, name, start, size, writable });
    this.table[id] = region;
    this.byName.set(name, region);
    if (id >= this.readEnd.length) this.growRegionArrays(id + 1);
    this.readEnd[id] = start + size;
    this.writeEnd[id] = writable ? start + size : 0;
    const first = start >>> PAGE_SHIFT;
    this.pageRegion.fill(id, first, first + Math.max(1, Math.ceil(size / PAGE_SIZE)));
    return region;
  }

  /** Lowest run of `pages` free pages with a free page on each side, growing the memory if needed. */
  private findFree(pages: number, name: string): number {
    const first = HEAP_BASE >>> PAGE_SHIFT;
    let run = 1; // the page before HEAP_BASE is the last stack's guard gap
    let p = first;
    for (; p < this.pageRegion.length; p++) {
      if (this.pageRegion[p] === 0) {
        run++;
        // run counts the leading guard page too; need one more for the trailing guard
        if (run === pages + 2) return (p - pages) * PAGE_SIZE;
      } else {
        run = 0;
      }
    }
    // Extend the free run at the end of the memory.
    const start = (p - run + 1) * PAGE_SIZE;
    const needed = start + (pages + 1) * PAGE_SIZE;
    if (needed > this.maxBytes) {
      throw new VmMapError(`cannot map region '${name}': ${pages * PAGE_SIZE} bytes exceed the ${this.maxBytes}-byte address space`);
    }
    try {
      this.memory.grow(Math.ceil((needed - this.bytes.length) / WASM_PAGE_SIZE));
    } catch (e) {
      throw new VmMapError(`cannot map region '${name}': the linear memory cannot grow to ${needed} bytes`, { cause: e });
    }
    this.refreshViews();
    return start;
  }

  private growRegionArrays(min: number): void {
    const cap = Math.max(min, this.readEnd.length * 2);
    const r = new Float64Array(cap);
    r.set(this.readEnd);
    const w = new Float64Array(cap);
    w.set(this.writeEnd);
    this.readEnd = r;
    this.writeEnd = w;
    this.generation++;
  }

  private refreshViews(): void {
    const buffer = this.memory.buffer;
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    const table = new Uint16Array(buffer.byteLength >>> PAGE_SHIFT);
    if (this.pageRegion !== undefined) table.set(this.pageRegion);
    this.pageRegion = table;
    this.generation++;
  }
}
