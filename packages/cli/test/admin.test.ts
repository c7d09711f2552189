import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OperatorStore } from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, describe, expect, it } from "vitest";
import { type Env, runCli } from "./run-cli.ts";

const stack = useTestStack();
const emptyHome = mkdtempSync(join(tmpdir(), "ferry-admin-home-"));
afterAll(() => rmSync(emptyHome, { recursive: true, force: true }));

function environment(prefix: string): Env {
  return { DYNAMODB_ENDPOINT: stack.dynamodbEndpoint, FERRY_TABLE_PREFIX: prefix, FERRY_HOME: emptyHome, USER: "ci" };
}

describe("ferry admin", () => {
  it("create-operator reads the password from stdin, stores only its hash, and the account logs in", async () => {
    const prefix = `${stack.tablePrefix}cli_admin_`;
    const env = environment(prefix);
    const made = await runCli(["admin", "create-operator", "ada", "--password-stdin"], env, "correct horse battery\n");
    expect(made.stderr).toBe("log in to the admin console with this name and password\n");
    expect(made.stdout).toBe("operator ada (operator) created\n");
    expect(made.code).toBe(0);
    const viewer = await runCli(["admin", "create-operator", "bob", "--role", "viewer"], env, "staple of the battery");
    expect(viewer.stdout).toBe("operator bob (viewer) created\n");

    const operators = new OperatorStore(stack.dynamodb(), { tablePrefix: prefix });
    expect((await operators.authenticate("ada", "correct horse battery"))?.role).toBe("operator");
    expect((await operators.authenticate("bob", "staple of the battery"))?.role).toBe("viewer");
    expect((await operators.get("ada"))?.createdBy).toBe("ci");

    const listed = await runCli(["admin", "operators"], env);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^name\s+role\s+state\s+created\s+by$/);
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/).filter((_cell, i) => i !== 3))).toEqual([
      ["ada", "operator", "active", "ci"],
      ["bob", "viewer", "active", "ci"],
    ]);
  });

  it("refuses a taken name, a bad name, a short password and no password, with a message and exit 1", async () => {
    const prefix = `${stack.tablePrefix}cli_admin_refuse_`;
    const env = environment(prefix);
    expect((await runCli(["admin", "create-operator", "ada"], env, "correct horse battery")).code).toBe(0);
    const taken = await runCli(["admin", "create-operator", "ada"], env, "another good password");
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("there is an operator named ada already");
    const badName = await runCli(["admin", "create-operator", "Ada Lovelace"], env, "correct horse battery");
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain("a name is 2 to 32 lowercase letters");
    const short = await runCli(["admin", "create-operator", "bob"], env, "short\n");
    expect(short.code).toBe(1);
    expect(short.stderr).toContain("a password has at least 12 characters");
    const none = await runCli(["admin", "create-operator", "bob"], env, "");
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no password on stdin");
    const role = await runCli(["admin", "create-operator", "bob", "--role", "root"], env, "correct horse battery");
    expect(role.code).toBe(1);
    expect(role.stderr).toContain("Allowed choices are operator, viewer");
    const operators = new OperatorStore(stack.dynamodb(), { tablePrefix: prefix });
    expect((await operators.list()).map((o) => o.name)).toEqual(["ada"]);
    expect(await operators.authenticate("ada", "another good password")).toBeUndefined();
  });
});
