import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { contractCommand } from "../src/commands/contract.ts";
import { captureOutput, runCli } from "./run-cli.ts";

// Paths as a user types them from the repository root (runCli's working directory).
const valid = "packages/contract/test/fixtures/store.yaml";
const mistakes = "packages/contract/test/fixtures/mistakes.yaml";

describe("ferry contract check", () => {
  it("prints ok with the counts, exit code 0", async () => {
    const result = await runCli(["contract", "check", valid]);
    expect(result.stdout).toBe(`${valid}: ok (6 entities, 14 access patterns)\n`);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  it("prints every error as file:line:col with its hint, exit code 1", async () => {
    const result = await runCli(["contract", "check", mistakes]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(`${mistakes}:2:10: error: unsupported contract version 2; this ferry reads version 1`);
    expect(lines).toContain(
      `${mistakes}:22:7: error: unknown property 'partiton' in entities.User.key; did you mean 'partition'?`,
    );
    expect(lines).toContain("  hint: expected one of: mysql, mariadb");
    expect(lines.filter((line) => /^\S+:\d+:\d+: error: /.test(line))).toHaveLength(30);
    expect(lines.at(-1)).toBe(`${mistakes}: 30 errors`);
    expect(result.stderr).not.toContain("    at ");
  });

  it("--json prints the error list", async () => {
    const bad = await runCli(["contract", "check", mistakes, "--json"]);
    expect(bad.code).toBe(1);
    const errors = JSON.parse(bad.stdout) as Array<Record<string, unknown>>;
    expect(errors).toHaveLength(30);
    expect(errors[0]).toEqual({
      file: mistakes,
      line: 2,
      column: 10,
      message: "unsupported contract version 2; this ferry reads version 1",
      path: ["version"],
    });
    const good = await runCli(["contract", "check", valid, "--json"]);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual([]);
  });

  it("reports a missing file in one clear line, exit code 1", async () => {
    const result = await runCli(["contract", "check", "contract/nope.yaml"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")[0]).toBe("error: cannot read contract contract/nope.yaml: no such file");
    expect(result.stderr).not.toContain("    at ");
  });

  it("--help describes the command", async () => {
    const result = await runCli(["contract", "check", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: ferry contract check [options] <file>");
    expect(result.stdout).toContain("file:line:column");
    expect(result.stdout).toContain("--json");
  });
});

describe("contractCommand (in process)", () => {
  function run(args: string[]) {
    return captureOutput(async () => {
      const program = new Command("ferry").exitOverride().addCommand(contractCommand());
      await program.parseAsync(["contract", "check", ...args], { from: "user" });
    });
  }

  const absolute = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

  it("checks a valid and an invalid contract", async () => {
    const ok = await run([absolute(valid)]);
    expect(ok).toEqual({ code: 0, stdout: `${absolute(valid)}: ok (6 entities, 14 access patterns)\n`, stderr: "" });
    const bad = await run([absolute(mistakes)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${absolute(mistakes)}:124:22: error: unknown entity 'Acount'`);
  });

  it("rejects a missing file with a ContractFileError", async () => {
    await expect(run([absolute("contract/nope.yaml")])).rejects.toThrow("no such file");
  });
});
