import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectMysql } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./run-cli.ts";

const stack = useTestStack();
const dir = mkdtempSync(join(tmpdir(), "ferry-cli-analyze-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
});

describe("ferry analyze", () => {
  it("writes a contract, finds no drift on --check, then fails --check after a schema change", async () => {
    const out = join(dir, "store.yaml");
    const written = await runCli(["analyze", "--mysql-url", stack.mysqlUrl, "--out", out]);
    expect(written.stderr).toContain(`wrote ${out}`);
    expect(written.code).toBe(0);
    expect(written.stderr).toContain("7 tables -> 6 entities, 1 not migrated");
    const text = readFileSync(out, "utf8");
    expect(text.startsWith("# yaml-language-server: $schema=")).toBe(true);
    expect((await runCli(["contract", "check", out])).code).toBe(0);

    const clean = await runCli(["analyze", "--mysql-url", stack.mysqlUrl, "--out", out, "--check"]);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toContain("no schema drift");

    const db = await stack.mysql();
    await db.query("ALTER TABLE products ADD COLUMN weight_grams INT UNSIGNED NULL");
    const drifted = await runCli(["analyze", "--mysql-url", stack.mysqlUrl, "--out", out, "--check"]);
    expect(drifted.code).toBe(1);
    expect(drifted.stderr).toContain("schema drift (1):\n    products.weight_grams added (int(10) unsigned null)");
    expect(readFileSync(out, "utf8")).toBe(text);
  });

  it("prints the contract when there is no --out", async () => {
    const printed = await runCli(["analyze", "--mysql-url", stack.mysqlUrl]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain("entities:\n");
    expect(printed.stdout).toContain("  ShoppingCart:\n");
  });

  it("a database that does not exist: one clear message", async () => {
    const missing = await runCli([
      "analyze",
      "--mysql-url",
      stack.mysqlUrl,
      "--database",
      "no_such_db",
      "--out",
      join(dir, "x.yaml"),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error: database "no_such_db" does not exist');
    expect(missing.stderr).not.toContain("    at ");
    expect(existsSync(join(dir, "x.yaml"))).toBe(false);
  });

  it("capture records the statements run on the database while it listens, then analyze reads them", async () => {
    const out = join(dir, "captured.json");
    // The traffic goes once the capture says it is recording (a cold `ferry` process on a loaded machine may take
    // a while to get there), or the test ends with the capture's own failure.
    let recording = () => {};
    const started = new Promise<void>((resolve) => {
      recording = resolve;
    });
    const capture = runCli(
      ["analyze", "capture", "--seconds", "4", "--mysql-url", stack.mysqlUrl, "--out", out],
      {},
      undefined,
      (stderr) => {
        if (stderr.includes("recording statements on")) recording();
      },
    );
    const traffic = await connectMysql(stack.mysqlUrl);
    try {
      const ended = await Promise.race([started.then(() => undefined), capture]);
      if (ended !== undefined) throw new Error(`the capture ended before it recorded: ${JSON.stringify(ended)}`);
      for (let id = 1; id <= 5; id++) await traffic.query("SELECT * FROM users WHERE id = ?", [id]);
      await traffic.query("SELECT * FROM products WHERE category_id = ? ORDER BY name", [3]);
    } finally {
      await traffic.end();
    }
    const result = await capture;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`-> ${out}`);
    const workload = JSON.parse(readFileSync(out, "utf8")) as { statements: Array<{ sql: string; count: number }> };
    expect(workload.statements.map((s) => [s.count, s.sql])).toEqual([
      [5, "SELECT * FROM users WHERE id = ?"],
      [1, "SELECT * FROM products WHERE category_id = ? ORDER BY name"],
    ]);
    const analysed = await runCli(["analyze", "--mysql-url", stack.mysqlUrl, "--workload", out]);
    expect(analysed.code).toBe(0);
    expect(analysed.stderr).toMatch(
      /workload: 6 statements, 2 distinct -> \d+ access patterns \(2 observed, \d+ inferred from the schema, 0 unsupported\)/,
    );
    expect(analysed.stdout).toContain("  getUserById:\n");
  });

  it("--check on a contract file that does not exist fails, and a broken workload file is named", async () => {
    const missing = await runCli([
      "analyze",
      "--mysql-url",
      stack.mysqlUrl,
      "--out",
      join(dir, "none.yaml"),
      "--check",
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error: --check: ${join(dir, "none.yaml")} does not exist`);
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ not json");
    const bad = await runCli(["analyze", "--mysql-url", stack.mysqlUrl, "--workload", broken]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`error: ${broken} is not valid JSON`);
  });

  it("a database with only tables without primary keys and views: each with its reason, exit 1, no contract", async () => {
    const database = stack.name("nokeys");
    const db = await stack.mysql();
    await db.query(`CREATE DATABASE \`${database}\``);
    try {
      await db.query(
        `CREATE TABLE \`${database}\`.events (happened_at DATETIME NOT NULL, message VARCHAR(100) NOT NULL);
         CREATE VIEW \`${database}\`.recent AS SELECT * FROM \`${database}\`.events`,
      );
      const out = join(dir, "nokeys.yaml");
      const refused = await runCli(["analyze", "--mysql-url", stack.mysqlUrl, "--database", database, "--out", out]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        [
          `error: nothing in ${database} can be migrated:`,
          "  table events: no primary key: ferry keys every item by it; add one (e.g. an AUTO_INCREMENT id) and analyze again",
          "  view recent: a view holds no rows of its own; ferry migrates the tables it reads",
        ].join("\n"),
      );
      expect(refused.stderr).not.toContain("    at ");
      expect(existsSync(out)).toBe(false);
    } finally {
      await db.query(`DROP DATABASE \`${database}\``);
    }
  });

  it("without a workload, infers the schema's lookups and says so", async () => {
    const printed = await runCli(["analyze", "--mysql-url", stack.mysqlUrl]);
    expect(printed.code).toBe(0);
    expect(printed.stderr).toMatch(/no workload given: \d+ access patterns inferred from the schema/);
    expect(printed.stdout).toContain("  getUserByEmail:\n");
    expect(printed.stdout).toContain("      from: unique key users.uq_users_email (email)\n");
  });

  it("a workload file that does not exist: one clear message", async () => {
    const missing = await runCli(["analyze", "--mysql-url", stack.mysqlUrl, "--workload", join(dir, "nope.log")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error: workload file not found: ${join(dir, "nope.log")}`);
  });
});
