import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../src/program.ts";
import { runCli } from "./run-cli.ts";

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [path, ...commandPaths(sub, path)];
  });
}

describe("ferry --help", () => {
  const paths = commandPaths(buildProgram());

  it("knows the commands of this stage", () => {
    expect(paths.map((p) => p.join(" "))).toEqual([
      "stack",
      "stack up",
      "stack down",
      "stack status",
      "seed",
      "start",
      "contract",
      "contract check",
      "analyze",
      "analyze capture",
      "generate",
      "tables",
      "tables apply",
      "tables show",
      "outbox",
      "outbox status",
      "outbox drain",
      "phase",
      "phase get",
      "phase set",
      "phase history",
      "phase fleet",
    ]);
  });

  it("prints usage for the program and for every command, exit code 0", async () => {
    const results = await Promise.all([[], ...paths].map((path) => runCli([...path, "--help"])));
    for (const [i, result] of results.entries()) {
      const path = ["ferry", ...([[], ...paths][i] ?? [])].join(" ");
      expect(result.code, path).toBe(0);
      expect(result.stdout, path).toContain(`Usage: ${path}`);
      expect(result.stderr, path).toBe("");
    }
  });

  it("rejects an unknown option and a malformed number with a clear message", async () => {
    const unknown = await runCli(["seed", "--userz", "3"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("unknown option '--userz'");

    const notANumber = await runCli(["seed", "--users", "lots"]);
    expect(notANumber.code).toBe(1);
    expect(notANumber.stderr).toContain('expected a whole number from 0 to 9,007,199,254,740,991, got "lots"');
    expect(notANumber.stderr).not.toContain("    at ");
  });
});
