/**
 * Validation round trips on real stores beyond the demo store: the every-type contract (an attribute of every type the
 * codec knows, at the edges of each, a composite key with a BIGINT UNSIGNED past 2^53 and negative INTs, a
 * denormalised copy) and the backfill's key fixture (a skewed BIGINT, `_ci` text, a composite key with odd column
 * names, an empty table): rows -> backfill -> validate -> no difference; a changed value of each type is found.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DeleteItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { loadValidContract } from "@ferry/contract";
import { useTestStack } from "@ferry/stack/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { runBackfill } from "../src/backfill/worker.ts";
import { type Codec, createCodec } from "../src/codec/index.ts";
import { applyTables } from "../src/tables/index.ts";
import { EVERY_TYPE_CONTRACT, EVERY_TYPE_DDL, full, odd, sparse } from "../src/testing/index.ts";
import { repair, validate } from "../src/validation/index.ts";
import { setPhase } from "./backfill-fixtures-run.ts";
import { BACKFILL_KEYS_DDL } from "./backfill-keys-fixture.ts";

const stack = useTestStack();
const KEYS_CONTRACT = fileURLToPath(new URL("./fixtures/backfill-keys.yaml", import.meta.url));
const keysPrefix = () => `${stack.tablePrefix}keys_`;
let everyType: Codec;
let keys: Codec;

beforeAll(async () => {
  everyType = createCodec(await loadValidContract(EVERY_TYPE_CONTRACT));
  keys = createCodec(await loadValidContract(KEYS_CONTRACT));
  const db = await stack.mysql();
  // TIMESTAMP columns are read and written in the session's time zone: UTC, as the codec's values are.
  await db.query("SET time_zone = '+00:00'");
  await db.query(readFileSync(EVERY_TYPE_DDL, "utf8"));
  const sample = everyType.entity("Sample");
  for (const value of [full, sparse, odd]) await db.query("INSERT INTO samples SET ?", [sample.toRow(value)]);
  const tenants = new Set([full, sparse, odd].map((value) => String(value.tenantId)));
  for (const id of tenants) await db.query("INSERT INTO tenants (id, name) VALUES (?, ?)", [id, `Tenant ${id}`]);
  await db.query(readFileSync(BACKFILL_KEYS_DDL, "utf8"));
  const ids = [
    ...Array.from({ length: 50 }, (_, i) => BigInt(i + 1)),
    ...Array.from({ length: 20 }, (_, i) => 18446744073709551000n + BigInt(i)),
  ];
  await db.query({ sql: "INSERT INTO readings (id, value) VALUES ?", values: [ids.map((id) => [id.toString(), -7])] });
  const tags = ["alpha", "Beta", "éclair", "Ärger", "zeta#1", "100%"].map((name) => [name]);
  await db.query({ sql: "INSERT INTO tags (name) VALUES ?", values: [tags] });
  const lines = ["A-big", "b", "Zz"].flatMap((code) => [1, 2, 3].map((no) => [code, no, no * 2]));
  await db.query({ sql: "INSERT INTO `order lines` VALUES ?", values: [lines] });

  await applyTables(stack.dynamodb(), everyType.contract, { prefix: stack.tablePrefix });
  await applyTables(stack.dynamodb(), keys.contract, { prefix: keysPrefix() });
  await setPhase(stack, stack.tablePrefix, 2);
  await setPhase(stack, keysPrefix(), 2);
});

const services = async (codec: Codec, tablePrefix: string) => ({
  codec,
  mysql: await stack.mysql(),
  client: stack.dynamodb(),
  tablePrefix,
});

describe("validation round trips", () => {
  it("every type: rows -> backfill -> validate finds no difference; a changed value of each kind is found", async () => {
    const at = await services(everyType, stack.tablePrefix);
    const moved = await runBackfill(at, { contract: "every-type.yaml", who: "test" });
    expect(moved.rejected).toBe(0);
    // One tenant (every sample's), three samples.
    expect(moved.written).toBe(4);
    const { report, differences } = await validate(at, { recheckMs: 20 });
    expect(differences).toEqual([]);
    expect(report.clean).toBe(true);
    expect(report.entities.map((e) => [e.entity, e.rows, e.items, e.matched, e.staleCopies])).toEqual([
      ["Tenant", 1, 1, 1, 0],
      ["Sample", 3, 3, 3, 0],
    ]);

    // One attribute of a few types changed behind ferry's back: each found with both values, normalised.
    const sample = everyType.entity("Sample");
    await stack.dynamodb().send(
      new UpdateItemCommand({
        TableName: `${stack.tablePrefix}main`,
        Key: sample.key(full),
        UpdateExpression: "SET amount = :a, signedBig = :b, active = :c REMOVE note",
        ExpressionAttributeValues: {
          ":a": { N: "12345678901234.1235" },
          ":b": { N: "-9223372036854775807" },
          ":c": { BOOL: false },
        },
      }),
    );
    const changed = await validate(at, { recheckMs: 20, entities: ["Sample"] });
    expect(changed.differences.map((d) => [d.kind, d.key, d.fields.map((f) => f.field).sort()])).toEqual([
      [
        "mismatched",
        { tenantId: { $bigint: "18446744073709551615" }, seq: 42 },
        ["active", "amount", "note", "signedBig"],
      ],
    ]);
    const fields = Object.fromEntries(
      changed.differences[0]?.fields.map((f) => [f.field, [f.mysql, f.dynamodb]]) ?? [],
    );
    expect(fields.signedBig).toEqual(["-9223372036854775808", "-9223372036854775807"]);
    expect(fields.note?.[1]).toBeNull();

    const fixed = await repair(at, changed);
    expect(fixed.repair).toMatchObject({ updated: 1, failed: 0, left: 0 });
    expect((await validate(at, { recheckMs: 20 })).differences).toEqual([]);
  });

  it("composite and non-integer keys: rows -> backfill -> validate finds no difference", async () => {
    const at = await services(keys, keysPrefix());
    const moved = await runBackfill(at, { contract: "backfill-keys.yaml", who: "test", pageRows: 7 });
    expect(moved.rejected).toBe(0);
    const { report, differences } = await validate(at, { recheckMs: 20, pageRows: 7 });
    expect(differences).toEqual([]);
    expect(report.entities.map((e) => [e.entity, e.rows, e.items, e.matched])).toEqual([
      ["Reading", 70, 70, 70],
      ["Tag", 6, 6, 6],
      ["Line", 9, 9, 9],
      ["Empty", 0, 0, 0],
    ]);
    expect(report.clean).toBe(true);

    // A Line and a Tag item gone (composite and `_ci` text keys): found by their keys, repaired.
    const line = keys.entity("Line");
    const tag = keys.entity("Tag");
    for (const key of [line.key({ orderCode: "A-big", lineNo: 2 }), tag.key({ name: "Ärger" })]) {
      await stack.dynamodb().send(new DeleteItemCommand({ TableName: `${keysPrefix()}main`, Key: key }));
    }
    const gone = await validate(at, { recheckMs: 20 });
    expect(gone.differences.map((d) => [d.entity, d.kind, d.key])).toEqual([
      ["Tag", "missing-item", { name: "Ärger" }],
      ["Line", "missing-item", { orderCode: "A-big", lineNo: 2 }],
    ]);
    const fixed = await repair(at, gone);
    expect(fixed.repair).toMatchObject({ created: 2, failed: 0, left: 0 });
    expect((await validate(at, { recheckMs: 20 })).differences).toEqual([]);
  });
});
