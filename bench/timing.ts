/** Latency measurement shared by the benchmarks: alternating calls, percentiles. */

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
};

/**
 * Runs a and b alternately `rounds` times (ABAB / BABA, after `warmup` pairs) and returns each one's latencies in ms,
 * so that both see the same machine noise.
 */
export async function interleaved(
  rounds: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  warmup = 300,
  /** Run after every call, untimed: lets background work a call leaves (shadow reads) finish before the next call. */
  settle: () => Promise<unknown> = async () => undefined,
): Promise<{ a: number[]; b: number[] }> {
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const times = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    const order: Array<["a" | "b", () => Promise<unknown>]> =
      i % 2 === 0
        ? [
            ["a", a],
            ["b", b],
          ]
        : [
            ["b", b],
            ["a", a],
          ];
    for (const [name, fn] of order) {
      const start = performance.now();
      await fn();
      times[name].push(performance.now() - start);
      await settle();
    }
  }
  return times;
}
