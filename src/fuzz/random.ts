import { SeededRandom } from '../writer/rng.js';

/**
 * The fuzzer's own seeded generator (mulberry32): the same seed gives the same numbers on every
 * machine and Node version, so a case is reproducible from (seed, target, case index) alone.
 * Never Math.random.
 */
export class Rng {
  // The writer's generator (the same mulberry32): saved regression seeds replay unchanged.
  private readonly source: SeededRandom;

  constructor(seed: number) {
    this.source = new SeededRandom(seed);
  }

  /** Next 32-bit unsigned integer. */
  u32(): number {
    return this.source.next32();
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** An integer in [0, n) (n ≥ 1). */
  below(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** An integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.below(items.length)] as T;
  }

  /** Picks by weight: `[[weight, value], …]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of items) total += w;
    let r = this.float() * total;
    for (const [w, v] of items) {
      r -= w;
      if (r < 0) return v;
    }
    return items[items.length - 1]![1];
  }

  /** A size skewed towards small values: 1, 2, 4 … up to `max`, then uniform below that power. */
  smallSize(max: number): number {
    const bits = Math.max(1, Math.ceil(Math.log2(max + 1)));
    const cap = Math.min(max, 2 ** this.int(0, bits));
    return this.int(1, Math.max(1, cap));
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** FNV-1a over a string, for deriving per-case seeds. */
export function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The seed of one case: independent of every other case, so any case can be replayed alone. */
export function caseSeed(runSeed: number, target: string, index: number): number {
  let h = hashString(target, 0x811c9dc5 ^ (runSeed >>> 0));
  h = Math.imul(h ^ (index >>> 0), 0x01000193);
  h = Math.imul(h ^ (index / 4294967296), 0x01000193);
  // One round of the generator to spread nearby seeds apart.
  return new Rng(h >>> 0).u32();
}

/** A short, stable content hash (hex) used to name saved inputs. */
export function contentHash(bytes: Uint8Array, extra = ''): string {
  let a = 0x811c9dc5, b = 0x01000193 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul(b ^ bytes[i]!, 0x5bd1e995) ^ (b >>> 13);
  }
  a = hashString(extra, a);
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
