import { describe, expect, it } from "vitest";
import { ITEMS_PER_SEGMENT, scanSegments } from "../src/validation/validate.ts";

/** A seeded generator, so the draw is the same every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("scanSegments: a segment holds about a page of items, whatever the table's size", () => {
  it("a small or unknown table gets `parallel` segments, all read", () => {
    expect(scanSegments(4, 1, seeded(1), 0)).toEqual({ total: 4, chosen: [0, 1, 2, 3] });
    expect(scanSegments(4, 1, seeded(1), 1_000)).toEqual({ total: 4, chosen: [0, 1, 2, 3] });
  });

  it("a large table gets one segment per ITEMS_PER_SEGMENT items, all read", () => {
    const { total, chosen } = scanSegments(4, 1, seeded(1), 1_750_000);
    expect(total).toBe(Math.ceil(1_750_000 / ITEMS_PER_SEGMENT));
    expect(chosen).toEqual(Array.from({ length: total }, (_, i) => i));
  });

  it("a sample draws about R of the segments, distinct and in range, out of at least parallel / R", () => {
    const small = scanSegments(4, 0.1, seeded(7), 0);
    expect(small.total).toBe(40);
    expect(small.chosen).toHaveLength(4);
    const large = scanSegments(4, 0.1, seeded(7), 2_000_000);
    expect(large.total).toBe(500);
    expect(large.chosen).toHaveLength(50);
    expect(new Set(large.chosen).size).toBe(50);
    expect(large.chosen.every((segment) => segment >= 0 && segment < 500)).toBe(true);
    expect([...large.chosen].sort((a, b) => a - b)).toEqual(large.chosen);
  });

  it("never past DynamoDB's 1,000,000 segments, and a tiny sample still reads one", () => {
    expect(scanSegments(4, 1e-9, seeded(3), 0).total).toBe(1_000_000);
    expect(scanSegments(4, 1e-9, seeded(3), 0).chosen).toHaveLength(1);
  });
});
