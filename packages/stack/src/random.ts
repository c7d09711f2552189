/**
 * Deterministic randomness for making data: the store's seed and legacy workload, the analyzer's synthetic
 * schemas and general logs, benchmarks and tests. Integer arithmetic only (Math.imul), so every platform agrees.
 *
 * It lives in @ferry/stack (as `@ferry/stack/random`) because every layer that makes such data may import the
 * stack and nothing else in common: the store's legacy database (apps/store/src/legacy), the analyzer, the
 * runtime's tests and the benchmarks.
 *
 * Two shapes of one generator (mulberry32): `SeededRandom`, one sequence from a seed; and `RowRandom`, where every
 * row draws from its own stream, keyed by (seed, stream, id), so a row's values never depend on which rows were
 * made before it, in what batch or on which connection.
 */

/** A 32-bit integer hash with good avalanche (Chris Wellons' "lowbias32"). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** A stable 32-bit tag for a name (FNV-1a), used to tell the streams of different tables apart. */
export function tag(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return mix32(h >>> 0);
}

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
export class SeededRandom {
  /** The generator's 32-bit state. */
  protected state: number;

  /** `seed`: its low 32 bits are the starting state. */
  constructor(seed = 0) {
    this.state = seed | 0;
  }

  /** The next 32-bit unsigned integer (mulberry32). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A number in [0, 1): the next 32-bit integer over 2^32. */
  fraction(): number {
    return this.next() / 2 ** 32;
  }

  /** An integer in [0, n), n <= 2^32 (multiply-shift; bias below 2^-32 * n, negligible here). */
  below(n: number): number {
    return Math.floor((this.next() * n) / 2 ** 32);
  }

  /** An integer in [low, high], both ends included. */
  between(low: number, high: number): number {
    return low + this.below(high - low + 1);
  }

  /** True with probability `percent` / 100. */
  chance(percent: number): boolean {
    return this.below(10_000) < percent * 100;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }

  /** Picks by integer weights: `weighted([[70, "a"], [30, "b"]])`. */
  weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T {
    let total = 0;
    for (const [weight] of choices) total += weight;
    let roll = this.below(total);
    for (const [weight, value] of choices) {
      if (roll < weight) return value;
      roll -= weight;
    }
    throw new Error("weighted pick from an empty list");
  }
}

/**
 * A SeededRandom whose state is set from (seed, stream, id) by `at()`. One instance is reused for many rows:
 * `rng.at(id)` then draw.
 */
export class RowRandom extends SeededRandom {
  private readonly base: number;

  /** `seed` is any non-negative safe integer; `stream` names the table or purpose. */
  constructor(seed: number, stream: string) {
    super();
    const low = seed >>> 0;
    const high = Math.floor(seed / 2 ** 32) >>> 0;
    this.base = mix32(mix32(low ^ tag(stream)) ^ mix32(high + 0x9e3779b9));
  }

  /** Positions the generator on the stream of row `id` (a non-negative integer below 2^53). */
  at(id: number): this {
    const low = id >>> 0;
    const high = Math.floor(id / 2 ** 32) >>> 0;
    this.state = mix32(this.base ^ mix32(low + 0x632be5ab)) ^ mix32(high ^ 0x85157af5);
    return this;
  }
}
