import { describe, expect, it } from "vitest";
import { isPhase, PHASES, writeTargets } from "../src/phases.ts";

describe("the five phases", () => {
  it("match DESIGN.md's table of flags", () => {
    const table = Object.values(PHASES).map((p) => [
      p.phase,
      p.flags.WRITE_MYSQL,
      p.flags.WRITE_DDB,
      p.flags.READ_MYSQL,
      p.flags.READ_DDB,
      p.authoritative,
    ]);
    expect(table).toEqual([
      [1, true, false, true, false, "mysql"],
      [2, true, true, true, false, "mysql"],
      [3, true, true, true, true, "mysql"],
      [4, true, true, false, true, "dynamodb"],
      [5, false, true, false, true, "dynamodb"],
    ]);
  });

  it("shadow-reads only in phase 3", () => {
    expect(
      Object.values(PHASES)
        .filter((p) => p.shadowRead)
        .map((p) => p.phase),
    ).toEqual([3]);
  });

  it("writes the authoritative store first", () => {
    expect(writeTargets(1)).toEqual(["mysql"]);
    expect(writeTargets(2)).toEqual(["mysql", "dynamodb"]);
    expect(writeTargets(3)).toEqual(["mysql", "dynamodb"]);
    expect(writeTargets(4)).toEqual(["dynamodb", "mysql"]);
    expect(writeTargets(5)).toEqual(["dynamodb"]);
  });

  it("recognises phase numbers and nothing else", () => {
    expect([0, 1, 5, 6, "3", 2.5, null].map(isPhase)).toEqual([false, true, true, false, false, false, false]);
  });
});
