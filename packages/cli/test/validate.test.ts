/**
 * `ferry validate` on real MariaDB and DynamoDB Local: exit 0 when the stores agree (table or JSON), 1 with the
 * differences side by side, --repair makes them go away, 2 with one clear message and nothing recorded for a bad
 * contract, an unknown entity, a sample out of range or a missing table.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import {
  applyTables,
  createCodec,
  listValidationReports,
  PhaseStore,
  readValidation,
  runBackfill,
} from "@ferry/runtime";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { contract } from "@ferry/store-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateCommand } from "../src/commands/validate.ts";
import { runCli, runInProcess } from "./run-cli.ts";

const stack = useTestStack();
const home = mkdtempSync(join(tmpdir(), "ferry-validate-home-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const env = () => ({
  MYSQL_URL: stack.mysqlUrl,
  DYNAMODB_ENDPOINT: stack.dynamodbEndpoint,
  FERRY_TABLE_PREFIX: stack.tablePrefix,
  FERRY_HOME: home,
});
const CONTRACT = ["--contract", "contract/store.yaml"];
const codec = createCodec(contract);

beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
  await applyTables(stack.dynamodb(), contract, { prefix: stack.tablePrefix });
  await new PhaseStore(stack.dynamodb(), { tablePrefix: stack.tablePrefix }).set(2, {
    who: "tester",
    reason: "dual writes",
  });
  const moved = await runBackfill(
    { codec, mysql: await stack.mysql(), client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
    { contract: "store.yaml", who: "tester" },
  );
  expect(moved.rejected).toBe(0);
});

async function productId(offset: number): Promise<string> {
  const [rows] = (await (
    await stack.mysql()
  ).query(`SELECT id FROM products ORDER BY id LIMIT 1 OFFSET ${offset}`)) as unknown as [Array<{ id: number }>];
  return String(rows[0]?.id);
}

describe("ferry validate", () => {
  it("exits 0 with a table when the stores agree, and prints the report as JSON", async () => {
    const table = await runCli(["validate", ...CONTRACT, "--recheck-ms", "10", "--quiet"], env());
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toMatch(/^ {2}entity +rows +items +matched +missing +extra +mismatched$/);
    expect(lines.find((line) => line.trim().startsWith("User "))).toMatch(/^ {2}User +(\d+) +\1 +\1 +0 +0 +0$/);
    expect(table.stdout).toMatch(/\nclean: \d+ rows, \d+ items, \d+ markers in [\d.]+ s \([\d,]+\/s\)\nreport \S+\n$/);

    const json = await runCli(["validate", ...CONTRACT, "--json", "--entities", "User,Product"], env());
    expect(json.stderr).toBe("");
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ clean: true, full: false, sample: 1, contract: "contract/store.yaml" });
    expect(report.entities.map((e: { entity: string }) => e.entity)).toEqual(["User", "Product"]);
    const listed = await listValidationReports(stack.dynamodb(), stack.tablePrefix, { limit: 1 });
    expect(listed.reports[0]?.id).toBe(report.id);
  });

  it("exits 1 with the differences side by side, and 0 once --repair made them go away", async () => {
    const product = codec.entity("Product");
    const missing = await productId(0);
    const changed = await productId(1);
    await stack
      .dynamodb()
      .send(
        new DeleteItemCommand({ TableName: `${stack.tablePrefix}main`, Key: product.key({ id: BigInt(missing) }) }),
      );
    await stack.dynamodb().send(
      new UpdateItemCommand({
        TableName: `${stack.tablePrefix}main`,
        Key: product.key({ id: BigInt(changed) }),
        UpdateExpression: "SET inventoryQuantity = :q",
        ExpressionAttributeValues: { ":q": { N: "99999" } },
      }),
    );
    const [rows] = (await (
      await stack.mysql()
    ).query("SELECT inventory_quantity AS q FROM products WHERE id = ?", [changed])) as unknown as [
      Array<{ q: number }>,
    ];

    const found = await runCli(["validate", ...CONTRACT, "--entities", "Product", "--recheck-ms", "10", "-q"], env());
    expect(found.stderr).toBe("");
    expect(found.code).toBe(1);
    expect(found.stdout).toMatch(/^ {2}Product +(\d+) +(\d+) +(\d+) +1 +0 +1$/m);
    expect(found.stdout).toContain(`Product: 2 differences\n`);
    expect(found.stdout).toContain(`  missing-item   {"id":"${missing}"}\n      no item under its key\n`);
    expect(found.stdout).toContain(
      `  mismatched     {"id":"${changed}"}\n      inventoryQuantity  mysql "${rows[0]?.q}"  dynamodb "99999"\n`,
    );
    expect(found.stdout).toMatch(/\n2 differences \(some entities\): /);
    expect(await readValidation(stack.dynamodb(), stack.tablePrefix)).toMatchObject({ clean: false, mismatches: 2 });

    const repaired = await runCli(
      ["validate", ...CONTRACT, "--entities", "Product", "--recheck-ms", "10", "-q", "--repair"],
      env(),
    );
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toContain(
      "repaired on dynamodb (phase 2): 1 created, 1 updated, 0 deleted, 0 markers put back, 0 orphan markers deleted; 0 failed; 0 differences left among the repaired keys",
    );
    expect(repaired.stderr).toBe("run `ferry validate` again for a full clean result the guard rail takes\n");

    const again = await runCli(["validate", ...CONTRACT, "--recheck-ms", "10", "--json"], env());
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ clean: true, full: true });
    expect(await readValidation(stack.dynamodb(), stack.tablePrefix)).toMatchObject({ clean: true, mismatches: 0 });
  });

  it("exits 2 with one clear message, and records nothing, when asked for what it cannot do", async () => {
    const before = await listValidationReports(stack.dynamodb(), stack.tablePrefix, { limit: 100 });
    const latest = await readValidation(stack.dynamodb(), stack.tablePrefix);
    const broken = join(home, "broken.yaml");
    writeFileSync(broken, "version: 1\nname: broken\nentities: 3\n");
    const cases: Array<[string[], RegExp]> = [
      [
        [...CONTRACT, "--entities", "User,Nope"],
        /^error: the contract has no entity 'Nope' \(it has Category, .*\)\n$/,
      ],
      [
        [...CONTRACT, "--sample", "1.5"],
        /^error: --sample is a fraction of the rows, more than 0 and at most 1; got "1.5"\n$/,
      ],
      [
        [...CONTRACT, "--sample", "0"],
        /^error: --sample is a fraction of the rows, more than 0 and at most 1; got "0"\n$/,
      ],
      [[...CONTRACT, "--parallel", "0"], /^error: --parallel is a whole number from 1 to 1000; got "0"\n$/],
      [
        [...CONTRACT, "--prefix", "nowhere_"],
        /^error: Category: DynamoDB has no table 'nowhere_main' \(create it with ferry tables apply\)\n$/,
      ],
      [["--contract", broken], /broken\.yaml/],
    ];
    for (const [args, message] of cases) {
      const result = await runInProcess(validateCommand, ["validate", ...args], env());
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout, args.join(" ")).toBe("");
      expect(result.stderr, args.join(" ")).toMatch(message);
      expect(result.stderr).not.toContain("    at ");
    }
    expect(await listValidationReports(stack.dynamodb(), stack.tablePrefix, { limit: 100 })).toEqual(before);
    expect(await readValidation(stack.dynamodb(), stack.tablePrefix)).toEqual(latest);
  });

  it("escapes control characters of stored data in the table, and shows items no entity claims", async () => {
    const key = { PK: { S: "GHOST#\u001b[2J\u0007" }, SK: { S: "GHOST\u202e" } };
    await stack.dynamodb().send(
      new PutItemCommand({
        TableName: `${stack.tablePrefix}main`,
        Item: { ...key, __entity: { S: "Ghost\u001b[31m\r\n" } },
      }),
    );
    try {
      const found = await runCli(["validate", ...CONTRACT, "--recheck-ms", "10", "-q"], env());
      expect(found.code).toBe(1);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the terminal.
      expect(found.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
      expect(found.stdout).toContain("items no entity claims: 1 (not repaired: nothing says what they should be)\n");
      expect(found.stdout).toContain(
        `  main {"PK":"GHOST#\\u001b[2J\\u0007","SK":"GHOST\\u202e"}: __entity 'Ghost\\x1b[31m\\x0d\\x0a' is not an entity of the contract\n`,
      );
    } finally {
      await stack.dynamodb().send(new DeleteItemCommand({ TableName: `${stack.tablePrefix}main`, Key: key }));
    }
  });

  it("--repair in phase 5 exits 2 before validating or recording anything", async () => {
    const phases = new PhaseStore(stack.dynamodb(), { tablePrefix: stack.tablePrefix });
    await phases.set(5, { who: "tester", reason: "repair refused", force: true, confirm: true });
    const before = await listValidationReports(stack.dynamodb(), stack.tablePrefix, { limit: 100 });
    const latest = await readValidation(stack.dynamodb(), stack.tablePrefix);
    const result = await runInProcess(validateCommand, ["validate", ...CONTRACT, "--repair", "-q"], env());
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^error: --repair: the phase is 5, MySQL is no longer written/);
    expect(await listValidationReports(stack.dynamodb(), stack.tablePrefix, { limit: 100 })).toEqual(before);
    expect(await readValidation(stack.dynamodb(), stack.tablePrefix)).toEqual(latest);
  });
});
