import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { describeGoal, type Goal, held, publish, writeSummary } from "../report.ts";

const dirs: string[] = [];
function results(): string {
  const dir = mkdtempSync(join(tmpdir(), "ferry-bench-report-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

describe("goals", () => {
  it("are judged from the figure and the bound, and a figure that is not a number never holds", () => {
    const goal = (value: number, op: Goal["op"], bound: number): Goal => ({ figure: "f", value, op, bound });
    expect([held(goal(0.8, ">=", 0.8)), held(goal(0.79, ">=", 0.8))]).toEqual([true, false]);
    expect([held(goal(1.15, "<=", 1.15)), held(goal(1.16, "<=", 1.15))]).toEqual([true, false]);
    expect([held(goal(0, "=", 0)), held(goal(1, "=", 0))]).toEqual([true, false]);
    expect([held(goal(9.99, "<", 10)), held(goal(10, "<", 10)), held(goal(1, ">", 0)), held(goal(0, ">", 0))]).toEqual([
      true,
      false,
      true,
      false,
    ]);
    expect([held(goal(Number.NaN, "<=", 1)), held(goal(Number.POSITIVE_INFINITY, ">=", 1))]).toEqual([false, false]);
  });

  it("are described with their figure, goal and baseline", () => {
    expect(
      describeGoal({
        figure: "product page: phase 5 requests/s, of phase 1's",
        value: 0.6789,
        unit: "x",
        op: ">=",
        bound: 0.8,
        baseline: "phase 1: 1,538 requests/s",
      }),
    ).toBe("product page: phase 5 requests/s, of phase 1's: 0.679x (goal >= 0.8x; against phase 1: 1,538 requests/s)");
    expect(describeGoal({ figure: "seed", value: 123456.7, unit: "rows/s", op: ">=", bound: 100_000 })).toBe(
      "seed: 123,457 rows/s (goal >= 100,000 rows/s)",
    );
  });
});

describe("figures", () => {
  it("show enough digits to tell a figure from its bound when they differ", () => {
    expect(describeGoal({ figure: "r", value: 0.7996, unit: "x", op: ">=", bound: 0.8 })).toBe(
      "r: 0.7996x (goal >= 0.8x)",
    );
    expect(describeGoal({ figure: "m", value: 300.4, unit: "MB", op: "<=", bound: 300 })).toBe(
      "m: 300.4 MB (goal <= 300 MB)",
    );
  });

  it("that are not numbers are written, summarised and judged MISS without breaking the report", () => {
    const dir = results();
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const since = new Date(Date.now() - 1_000);
    publish(
      {
        name: "empty",
        rows: [],
        goals: [
          { figure: "rate over nothing", value: Number.NaN, unit: "x", op: ">=", bound: 0.8, baseline: "0 requests/s" },
          { figure: "infinite", value: Number.POSITIVE_INFINITY, op: "<=", bound: 1 },
        ],
      },
      dir,
    );
    expect(console.log).toHaveBeenCalledWith(expect.stringContaining("MISS  rate over nothing: n/a (goal >= 0.8x"));
    const text = readFileSync(writeSummary([{ name: "empty", seconds: 1 }], since, dir).file, "utf8");
    expect(text).toContain("| empty | rate over nothing | n/a | 0 requests/s | >= 0.8x | MISS |");
    expect(text).toContain("| empty | infinite | n/a | - | <= 1 | MISS |");
  });
});

describe("the summary of a run", () => {
  it("has one row per goal of every benchmark, and one for a benchmark that did not finish", () => {
    const dir = results();
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const since = new Date(Date.now() - 1_000);
    publish(
      {
        name: "alpha",
        rows: [{ measure: "m", value: 1 }],
        goals: [
          { figure: "a | ratio", value: 1.2, unit: "x", op: "<=", bound: 1.15, baseline: "b: 3 ms" },
          { figure: "failures", value: 0, op: "=", bound: 0 },
        ],
      },
      dir,
    );
    const { file, unfinished } = writeSummary(
      [
        { name: "alpha", seconds: 12.4 },
        { name: "beta", seconds: 3, failure: "it exited with 1" },
        { name: "gamma", seconds: 1 },
      ],
      since,
      dir,
    );
    expect(unfinished).toBe(2);
    const text = readFileSync(file, "utf8");
    const rows = text
      .split("\n")
      .filter((line) => /^\| (alpha|beta|gamma) \| .*\|$/.test(line) && !/\| \d+ \|$/.test(line));
    expect(rows).toEqual([
      "| alpha | a \\| ratio | 1.2x | b: 3 ms | <= 1.15x | MISS |",
      "| alpha | failures | 0 | - | = 0 | PASS |",
      "| beta | (did not finish) | | | | MISS |",
      "| gamma | (did not finish) | | | | MISS |",
    ]);
    expect(text).toContain("1 PASS, 3 MISS.");
    expect(text).toContain("- **beta** did not finish: it exited with 1");
    expect(text).toContain("- **gamma** did not finish: it wrote no report");
  });

  it("does not take a report written before the run began", () => {
    const dir = results();
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    publish({ name: "old", rows: [], goals: [{ figure: "f", value: 1, op: "=", bound: 1 }] }, dir);
    const text = readFileSync(
      writeSummary([{ name: "old", seconds: 1 }], new Date(Date.now() + 60_000), dir).file,
      "utf8",
    );
    expect(text).toContain("| old | (did not finish) | | | | MISS |");
    expect(text).toContain("0 PASS, 1 MISS.");
  });
});
