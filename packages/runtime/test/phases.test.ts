import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { isPhase, PHASES, writeTargets } from "../src/phases.ts";

/** The rows of the phase table in docs/architecture.md, as the code's values. */
function documentedPhases(): unknown[][] {
  const text = readFileSync(new URL("../../../docs/architecture.md", import.meta.url), "utf8");
  const rows = text.split("\n").filter((line) => /^\| [1-5] /.test(line));
  const on = (cell: string) => cell.startsWith("on");
  return rows.map((line) => {
    const [phase, , writeMysql, writeDdb, readMysql, readDdb, authoritative] = line
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim());
    return [
      Number(phase),
      on(writeMysql ?? ""),
      on(writeDdb ?? ""),
      on(readMysql ?? ""),
      on(readDdb ?? ""),
      authoritative === "MySQL" ? "mysql" : "dynamodb",
    ];
  });
}

describe("the five phases", () => {
  it("match the table of flags in docs/architecture.md", () => {
    const table = Object.values(PHASES).map((p) => [
      p.phase,
      p.flags.WRITE_MYSQL,
      p.flags.WRITE_DDB,
      p.flags.READ_MYSQL,
      p.flags.READ_DDB,
      p.authoritative,
    ]);
    const expected = [
      [1, true, false, true, false, "mysql"],
      [2, true, true, true, false, "mysql"],
      [3, true, true, true, true, "mysql"],
      [4, true, true, false, true, "dynamodb"],
      [5, false, true, false, true, "dynamodb"],
    ];
    expect(table).toEqual(expected);
    expect(documentedPhases()).toEqual(expected);
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
