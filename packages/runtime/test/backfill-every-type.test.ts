/**
 * The backfill on the every-type contract (an attribute of every type the codec knows, a composite key, an index, a
 * parent entity): rows at the edges of every type round-trip, and rows the codec cannot map (invalid JSON, an item
 * over 400 KB, a zero date) are rejected with their key and reason, counted, and do not stop the run; past
 * `maxRejected` the run fails.
 */
import { readFileSync } from "node:fs";
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { BackfillFailed, BackfillLedger, runBackfill } from "../src/backfill/index.ts";
import { applyTables } from "../src/tables/index.ts";
import { EVERY_TYPE_CONTRACT, EVERY_TYPE_DDL, full, odd, sparse, useContractStores } from "../src/testing/index.ts";
import { rejection } from "./backfill-fixtures.ts";
import { differencesOf, setPhase } from "./backfill-fixtures-run.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: EVERY_TYPE_CONTRACT,
  prepare: async () => {
    const db = await stack.mysql();
    await db.query(readFileSync(EVERY_TYPE_DDL, "utf8"));
  },
});

async function rows() {
  const { mysql } = testbed.stores();
  const db = testbed.connection();
  await db.query("INSERT INTO tenants (id, name) VALUES (18446744073709551615, 'top'), (7, 'seven')");
  for (const value of [full, sparse, odd]) await mysql.create("Sample", value);
  for (let seq = 100; seq < 160; seq++) await mysql.create("Sample", { ...full, tenantId: 7n, seq, label: `n${seq}` });
  // Rows the codec cannot map, as a legacy database can hold them.
  await db.query("SET SESSION check_constraint_checks = 0, SESSION sql_mode = ''");
  await db.query({
    sql: "INSERT INTO samples (tenant_id, seq, label, amount, score, created_at, digest, payload) VALUES (7, 1, 'bad json', 1, 1, NOW(), 'abcd', ?)",
    values: ["{not json"],
  });
  await db.query({
    sql: "INSERT INTO samples (tenant_id, seq, label, amount, score, created_at, digest, payload) VALUES (7, 2, 'too big', 1, 1, NOW(), 'abcd', ?)",
    values: [JSON.stringify({ text: "x".repeat(450 * 1024) })],
  });
  await db.query(
    "INSERT INTO samples (tenant_id, seq, label, amount, score, created_at, digest) VALUES (7, 3, 'zero date', 1, 1, '0000-00-00 00:00:00', 'abcd')",
  );
  await db.query("SET SESSION check_constraint_checks = 1, SESSION sql_mode = DEFAULT");
}

const services = (tablePrefix: string) => ({
  codec: testbed.codec(),
  mysql: testbed.connection(),
  client: stack.dynamodb(),
  tablePrefix,
});

describe("the backfill on every type", () => {
  it("round-trips every type and rejects the rows it cannot map, with their keys and reasons", async () => {
    await rows();
    await setPhase(stack, stack.tablePrefix, 2);
    const result = await runBackfill(services(stack.tablePrefix), {
      contract: "every-type",
      who: "test",
      pageRows: 16,
    });
    expect(result.report.state).toBe("finished");
    expect(result.rejected).toBe(3);
    expect(result.report.rejected).toBe(3);
    const rejected = await new BackfillLedger(stack.dynamodb(), { tablePrefix: stack.tablePrefix }).rejected(
      result.runId,
    );
    expect(rejected.count).toBe(3);
    const reasons = Object.fromEntries(rejected.rows.map((row) => [String(row.key.seq), row.reason]));
    expect(Object.keys(reasons).sort()).toEqual(["1", "2", "3"]);
    expect(rejected.rows.every((row) => row.entity === "Sample" && row.key.tenantId === 7n)).toBe(true);
    expect(reasons["1"]).toMatch(/json/i);
    expect(reasons["2"]).toMatch(/bytes, over DynamoDB's limit of 409600/);
    expect(reasons["3"]).toMatch(/date|time/i);

    // Every other row is there, equal; the rejected ones are not.
    const differences = await differencesOf(stack, testbed, "Sample");
    expect(differences.sort()).toEqual([
      'Sample {"PK":{"S":"TENANT#00000000000000000007"},"SK":{"S":"SAMPLE#00000000000000000002"}}: no item',
      'Sample {"tenantId":"7","seq":1}: unreadable',
      'Sample {"tenantId":"7","seq":3}: unreadable',
    ]);
    expect(await differencesOf(stack, testbed, "Tenant")).toEqual([]);
  });

  it("fails the run once more rows than maxRejected were rejected", async () => {
    const prefix = `${stack.tablePrefix}max_`;
    await applyTables(stack.dynamodb(), testbed.contract(), { prefix });
    await setPhase(stack, prefix, 2);
    const error = await rejection(
      runBackfill(services(prefix), { contract: "every-type", who: "test", maxRejected: 2, entities: ["Sample"] }),
      BackfillFailed,
    );
    expect(error.message).toMatch(/3 rows rejected, over --max-rejected 2/);
    const runs = await new BackfillLedger(stack.dynamodb(), { tablePrefix: prefix }).runs();
    expect(runs[0]?.state).toBe("failed");
    expect(runs[0]?.failure).toMatch(/over --max-rejected 2/);
  });
});
