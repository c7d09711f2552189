import { type Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../src/program.ts";
import { captureOutput, runCli } from "./run-cli.ts";

/** `ferry <args>` on the whole program in this process (commander's exits turned into exit codes). */
function helpInProcess(args: string[]) {
  return captureOutput(async () => {
    const program = buildProgram();
    const exitOverride = (command: Command): void => {
      command.exitOverride();
      for (const sub of command.commands) exitOverride(sub);
    };
    exitOverride(program);
    try {
      await program.parseAsync(args, { from: "user" });
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      process.exitCode = error.exitCode;
    }
  });
}

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
      "outbox resolve",
      "phase",
      "phase get",
      "phase set",
      "phase history",
      "phase fleet",
      "backfill",
      "backfill run",
      "backfill runs",
      "backfill stop",
      "backfill status",
      "validate",
      "admin",
      "admin create-operator",
      "admin operators",
    ]);
  });

  it("prints usage for the program and for every command, exit code 0", async () => {
    // As a user runs it (a process of its own) for the program and a nested command; every command in process (one
    // process per command made this test take minutes on a busy 2-core machine).
    for (const path of [[], ["phase", "set"]]) {
      const result = await runCli([...path, "--help"]);
      const name = ["ferry", ...path].join(" ");
      expect(result.code, name).toBe(0);
      expect(result.stdout, name).toContain(`Usage: ${name}`);
      expect(result.stderr, name).toBe("");
    }
    for (const path of [[], ...paths]) {
      const result = await helpInProcess([...path, "--help"]);
      const name = ["ferry", ...path].join(" ");
      expect(result.code, name).toBe(0);
      expect(result.stdout, name).toContain(`Usage: ${name}`);
      expect(result.stderr, name).toBe("");
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
