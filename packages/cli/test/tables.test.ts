import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { tableDefinitionsJson } from "@ferry/codegen/tables";
import { loadValidContract } from "@ferry/contract";
import { createTableInputs } from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, describe, expect, it } from "vitest";
import { tablesCommand } from "../src/commands/tables.ts";
import { type CliResult, type Env, repoRoot, runCli, runInProcess } from "./run-cli.ts";

const stack = useTestStack();

// Paths as a user types them from the repository root (runCli's working directory).
const storeContract = "contract/store.yaml";
const mistakes = "packages/contract/test/fixtures/mistakes.yaml";
const emptyHome = mkdtempSync(join(tmpdir(), "ferry-tables-home-"));
afterAll(() => rmSync(emptyHome, { recursive: true, force: true }));

/** `ferry tables ...` in a separate process as a user runs it, or in this process; with the test stack. */
function inProcessOrNot(mode: "process" | "in-process") {
  return (args: string[], env: Env = {}): Promise<CliResult> => {
    const merged: Env = {
      DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
      FERRY_TABLE_PREFIX: undefined,
      FERRY_HOME: emptyHome,
      ...env,
    };
    return mode === "process"
      ? runCli(["tables", ...args], merged)
      : runInProcess(tablesCommand, ["tables", ...args], merged);
  };
}

async function tableExists(name: string): Promise<boolean> {
  try {
    await stack.dynamodb().send(new DescribeTableCommand({ TableName: name }));
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === "ResourceNotFoundException") return false;
    throw error;
  }
}

describe.each([
  ["ferry tables (a separate process)", "process"],
  ["tablesCommand (in process)", "in-process"],
] as const)("%s", (_title, mode) => {
  const ferryTables = inProcessOrNot(mode);
  const prefix = (what: string) => `${stack.tablePrefix}${mode === "process" ? "p" : "i"}${what}_`;

  it("apply creates the tables, then leaves them unchanged (exit code 0)", async () => {
    const p = prefix("apply");
    const first = await ferryTables(["apply", "--contract", storeContract], { FERRY_TABLE_PREFIX: p });
    expect(first.stdout).toBe(`${p}main: created\n`);
    expect(first.stderr).toContain(
      `applying ${storeContract} to DynamoDB at ${stack.dynamodbEndpoint} (table prefix ${p})\n`,
    );
    expect(first.stderr).toContain(`  creating table ${p}main with indexes GSI1, GSI2, GSI3\n`);
    expect(first.code).toBe(0);
    expect(await tableExists(`${p}main`)).toBe(true);

    const again = await ferryTables(["apply", "--contract", storeContract, "--prefix", p, "--quiet"]);
    expect(again.stdout).toBe(`${p}main: unchanged\n`);
    expect(again.stderr).toBe(
      `applying ${storeContract} to DynamoDB at ${stack.dynamodbEndpoint} (table prefix ${p})\n`,
    );
    expect(again.code).toBe(0);
  });

  it("apply --dry-run prints the plan and changes nothing", async () => {
    const p = prefix("dry");
    const result = await ferryTables(["apply", "--contract", storeContract, "--prefix", p, "--dry-run"]);
    expect(result.stdout).toBe(`${p}main: would be created with indexes GSI1, GSI2, GSI3\n`);
    expect(result.stderr).toContain("dry run: nothing is changed");
    expect(result.code).toBe(0);
    expect(await tableExists(`${p}main`)).toBe(false);
  });

  it("apply reports drift and exits with code 2, with or without --dry-run", async () => {
    const p = prefix("drift");
    const store = await loadValidContract(join(repoRoot, storeContract));
    const [definition] = createTableInputs(store, { prefix: p });
    if (!definition) throw new Error("no table definition");
    await stack.dynamodb().send(
      new CreateTableCommand({
        ...definition,
        AttributeDefinitions: [
          ...(definition.AttributeDefinitions ?? []),
          { AttributeName: "old", AttributeType: "S" },
        ],
        GlobalSecondaryIndexes: [
          ...(definition.GlobalSecondaryIndexes ?? []),
          {
            IndexName: "Old",
            KeySchema: [{ AttributeName: "old", KeyType: "HASH" }],
            Projection: { ProjectionType: "ALL" },
          },
        ],
      }),
    );
    const drift = `  drift: ${p}main: index Old is not in the contract; ferry never deletes an index (drop it by hand once nothing reads it)\n`;
    for (const extra of [[], ["--dry-run"]]) {
      const result = await ferryTables(["apply", "--contract", storeContract, "--prefix", p, ...extra]);
      expect(result.stdout).toBe(
        `${p}main: ${extra.length > 0 ? "no changes" : "unchanged"}\n\ndrift (1, left as it is; exit code 2):\n${drift}`,
      );
      expect(result.code).toBe(2);
    }
  });

  it("apply says clearly when DynamoDB cannot be reached (exit code 1, no stack trace)", async () => {
    const p = prefix("down");
    const result = await ferryTables([
      "apply",
      "--contract",
      storeContract,
      "--prefix",
      p,
      "--dynamodb-endpoint",
      "http://127.0.0.1:1",
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      `error: cannot reach DynamoDB at http://127.0.0.1:1 to describe table ${p}main (connect ECONNREFUSED 127.0.0.1:1)\n`,
    );
    expect(result.stderr).toContain("pnpm ferry stack up");
    expect(result.stderr).not.toContain("    at ");
  });

  it("apply and show print every contract error as file:line:col (exit code 1)", async () => {
    for (const command of ["apply", "show"]) {
      const result = await ferryTables([command, "--contract", mistakes]);
      expect(result.code, command).toBe(1);
      expect(result.stdout, command).toBe("");
      const lines = result.stderr.trimEnd().split("\n");
      expect(lines[0]).toBe(`${mistakes}:2:10: error: unsupported contract version 2; this ferry reads version 1`);
      expect(lines.at(-1)).toBe(`${mistakes}: 30 errors`);
    }
    const missing = await ferryTables(["apply", "--contract", "contract/nope.yaml"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.split("\n")[0]).toBe("error: cannot read contract contract/nope.yaml: no such file");
  });

  it("show prints the table definitions as JSON or as a CloudFormation template", async () => {
    const store = await loadValidContract(join(repoRoot, storeContract));
    const cloudformation = ["--format", "cloudformation"];
    const [json, prefixed, template, withPrefix, bad] = await Promise.all([
      ferryTables(["show", "--contract", storeContract]),
      ferryTables(["show", "--contract", storeContract], { FERRY_TABLE_PREFIX: "dev_" }),
      ferryTables(["show", "--contract", storeContract, ...cloudformation]),
      ferryTables(["show", "--contract", storeContract, ...cloudformation, "--prefix", "prod_"]),
      ferryTables(["show", "--contract", storeContract, "--format", "yaml"]),
    ]);
    expect(json).toEqual({ code: 0, stdout: tableDefinitionsJson(store), stderr: "" });
    expect(prefixed.stdout).toBe(tableDefinitionsJson(store, { prefix: "dev_" }));

    expect(template.code).toBe(0);
    const parsed = JSON.parse(template.stdout) as {
      AWSTemplateFormatVersion: string;
      Parameters: { TablePrefix: { Default: string } };
      Resources: Record<string, { Type: string }>;
    };
    expect(parsed.AWSTemplateFormatVersion).toBe("2010-09-09");
    expect(parsed.Parameters.TablePrefix.Default).toBe("");
    expect(parsed.Resources.MainTable?.Type).toBe("AWS::DynamoDB::Table");
    expect((JSON.parse(withPrefix.stdout) as typeof parsed).Parameters.TablePrefix.Default).toBe("prod_");

    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("argument 'yaml' is invalid. Allowed choices are json, cloudformation.");
  });

  it("--help documents the commands, the flags and the exit codes", async () => {
    const apply = await ferryTables(["apply", "--help"]);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain("Usage: ferry tables apply [options]");
    for (const flag of ["--contract <file>", "--prefix <prefix>", "--dynamodb-endpoint <url>", "--dry-run"]) {
      expect(apply.stdout).toContain(flag);
    }
    expect(apply.stdout).toContain("Exit codes:");
    expect(apply.stdout).toContain("2  drift was found");
    const show = await ferryTables(["show", "--help"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("Usage: ferry tables show [options]");
    expect(show.stdout).toContain("--format <format>  json: CreateTable inputs; cloudformation");
    const tables = await ferryTables(["--help"]);
    expect(tables.stdout).toContain("Usage: ferry tables [options] [command]");
    expect(tables.stdout).toMatch(/apply \[options\]\s+create the contract's missing tables/);
  });
});
