/**
 * The seeded random generator: the same numbers for the same seed, on every machine and in every version (the
 * store's synthetic seed, the analyzer's synthetic schema and the benchmarks depend on it; the seed's own tests pin
 * what it makes). These numbers are the ones the copies it replaced gave.
 */
import { describe, expect, it } from "vitest";
import { RowRandom, SeededRandom } from "../src/random.ts";

describe("SeededRandom (mulberry32)", () => {
  it("gives the same sequence for the same seed", () => {
    const random = new SeededRandom(7);
    expect([random.next(), random.next(), random.next()]).toEqual([50271532, 266108690, 4195786334]);
    expect(new SeededRandom(7).fraction()).toBe(50271532 / 2 ** 32);
  });

  it("draws integers in range, chances, picks and weighted picks from the same stream", () => {
    const random = new SeededRandom(1);
    expect([
      random.below(10),
      random.between(5, 15),
      random.chance(50),
      random.pick(["a", "b", "c"]),
      random.weighted([
        [70, "x"],
        [30, "y"],
      ]),
    ]).toEqual([6, 5, false, "c", "y"]);
    expect(() => random.pick([])).toThrow("pick from an empty list");
  });
});

describe("RowRandom", () => {
  it("gives each row its own stream, whatever was drawn before", () => {
    const random = new RowRandom(42, "orders");
    const third = random.at(3).next();
    random.at(1).next();
    expect(random.at(3).next()).toBe(third);
    expect(third).toBe(1626783783);
    expect(new RowRandom(42, "users").at(3).next()).not.toBe(third);
  });
});
