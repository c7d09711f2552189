/**
 * The codec against the real stores: MariaDB (tables made from the every-type fixture's DDL) and DynamoDB Local (a table with the
 * contract's keys and indexes). Every value goes in through the codec and must come back equal, both ways.
 */
import { readFileSync } from "node:fs";
import { GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { loadValidContract } from "@ferry/contract";
import { useTestStack } from "@ferry/stack/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { createCodec, type EntityCodec, type EntityValue, mysqlTypeCast } from "../src/codec/index.ts";
import { applyTables } from "../src/tables/index.ts";
import { EVERY_TYPE_CONTRACT, EVERY_TYPE_DDL, full, odd, sparse } from "../src/testing/index.ts";

const stack = useTestStack();
const DDL = readFileSync(EVERY_TYPE_DDL, "utf8");

const values = { full, sparse, odd };

let sample: EntityCodec;
let tenant: EntityCodec;
const TableName = `${stack.tablePrefix}main`;

// Both stores hold every value of `values`, written through the codec, before any test reads them.
beforeAll(async () => {
  const contract = await loadValidContract(EVERY_TYPE_CONTRACT);
  const codec = createCodec(contract);
  sample = codec.entity("Sample");
  tenant = codec.entity("Tenant");

  const db = await stack.mysql();
  // TIMESTAMP columns are read and written in the session's time zone: UTC, as the codec's values are.
  await db.query("SET time_zone = '+00:00'");
  await db.query(DDL);
  for (const value of Object.values(values)) await db.query("INSERT INTO samples SET ?", [sample.toRow(value)]);

  const client = stack.dynamodb();
  await applyTables(client, contract, { prefix: stack.tablePrefix });
  for (const value of Object.values(values)) {
    await client.send(new PutItemCommand({ TableName, Item: sample.toItem({ ...value, tenantName: "Acme" }) }));
  }
});

describe("MySQL round trip: toRow -> INSERT -> SELECT -> fromRow", () => {
  async function select(value: EntityValue): Promise<Record<string, unknown>> {
    const db = await stack.mysql();
    const [rows] = await db.query(
      { sql: "SELECT * FROM samples WHERE tenant_id = ? AND seq = ?", typeCast: mysqlTypeCast },
      [sample.toRow({ tenantId: value.tenantId }).tenant_id, value.seq],
    );
    const [row] = rows as Array<Record<string, unknown>>;
    if (!row) throw new Error(`no row for seq ${String(value.seq)}`);
    return row;
  }

  it.each(Object.entries(values))("%s comes back equal", async (_name, value) => {
    expect(sample.fromRow(await select(value))).toEqual(value);
  });

  it("keeps DECIMAL(20,6), BIGINT UNSIGNED, BIGINT's minimum and microseconds exact in MySQL itself", async () => {
    const db = await stack.mysql();
    const [rows] = await db.query(
      "SELECT amount, unsigned_big, signed_big, precise_at, CAST(payload AS CHAR) AS payload, HEX(`blob`) AS bytes FROM samples WHERE seq = 42",
    );
    expect(rows).toEqual([
      {
        amount: "12345678901234.123400",
        unsigned_big: "18446744073709551615",
        signed_big: "-9223372036854775808",
        precise_at: "2026-01-02 03:04:05.123456",
        // MariaDB keeps JSON as the text written: the codec's, numbers beyond 2^53 exact.
        payload: sample.toRow(full).payload,
        bytes: "000100FF00",
      },
    ]);
  });

  it("reads the store's own spellings: the empty SET and NULLs", async () => {
    const row = await select(sparse);
    expect(row.tags).toBe("");
    expect(row.payload).toBeNull();
    expect(row.extras).toBeNull();
  });
});

describe("DynamoDB round trip: toItem -> PutItem -> GetItem -> fromItem", () => {
  async function get(value: EntityValue) {
    const { Item } = await stack
      .dynamodb()
      .send(new GetItemCommand({ TableName, Key: sample.key(value), ConsistentRead: true }));
    if (!Item) throw new Error(`no item for seq ${String(value.seq)}`);
    return Item;
  }

  it.each(Object.entries(values))("%s comes back equal", async (_name, value) => {
    expect(sample.fromItem(await get(value))).toEqual({ ...value, tenantName: "Acme" });
  });

  it("stores native DynamoDB types: N for numbers, SS for sets, M/L/NULL for JSON, B for bytes", async () => {
    const item = await get(full);
    expect(item.amount).toEqual({ N: "12345678901234.1234" });
    expect(item.price).toEqual({ N: "10.5" });
    expect(item.unsignedBig).toEqual({ N: "18446744073709551615" });
    expect(item.tags?.SS?.sort()).toEqual(["blue", "red"]);
    expect(item.payload?.M?.nothing).toEqual({ NULL: true });
    expect(item.payload?.M?.big).toEqual({ N: "12345678901234567890" });
    expect(item.payload?.M?.nested?.M?.list?.L?.[1]).toEqual({ NULL: true });
    expect(item.blob).toEqual({ B: new Uint8Array([0, 1, 0, 255, 0]) });
    const empty = await get(sparse);
    for (const absent of ["tags", "extras", "payload", "note", "price"]) expect(empty).not.toHaveProperty(absent);
  });

  it("sorts the item collection by the padded sort key, negatives first", async () => {
    const client = stack.dynamodb();
    const tenantId = 9n;
    const seqs = [42, -1, 0, -2147483648, 7, 2147483647, -30, 100];
    for (const seq of seqs) {
      await client.send(new PutItemCommand({ TableName, Item: sample.toItem({ ...sparse, tenantId, seq }) }));
    }
    // The parent's item in the same collection: the sort-key prefix leaves it out.
    await client.send(new PutItemCommand({ TableName, Item: tenant.toItem({ id: tenantId, name: "Nine" }) }));
    const { Items = [] } = await client.send(
      new QueryCommand({
        TableName,
        KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues: {
          ":pk": sample.key({ tenantId, seq: 0 }).PK ?? { S: "" },
          ":prefix": { S: sample.render("SAMPLE#{seq}", {}, { prefixOnly: true }) },
        },
      }),
    );
    expect(Items.map((item) => sample.fromItem(item).seq)).toEqual([...seqs].sort((a, b) => a - b));
  });

  it("writes index keys only when their placeholders have values (sparse GSI2)", async () => {
    const client = stack.dynamodb();
    const status = await client.send(
      new QueryCommand({
        TableName,
        IndexName: "GSI1",
        KeyConditionExpression: "GSI1PK = :pk",
        ExpressionAttributeValues: {
          ":pk": sample.indexKey("GSI1", { status: "live", createdAt: full.createdAt, seq: 0 }).GSI1PK ?? { S: "" },
        },
      }),
    );
    expect(status.Items?.map((item) => sample.fromItem(item).label)).toEqual([full.label]);
    // Only `full` has a birthday and an opening time.
    const birthdays = await client.send(
      new QueryCommand({
        TableName,
        IndexName: "GSI2",
        KeyConditionExpression: "GSI2PK = :pk AND begins_with(GSI2SK, :prefix)",
        ExpressionAttributeValues: {
          ":pk": { S: sample.render("SAMPLE#BIRTHDAY#{birthday}", full) },
          ":prefix": { S: sample.render("{active}#{opensAt}#{amount}", { active: true }, { prefixOnly: true }) },
        },
      }),
    );
    expect(birthdays.Items?.map((item) => item.GSI2SK?.S)).toEqual(["true#09:30:00.250#12345678901234.123400"]);
    expect((await get(sparse)).GSI2PK).toBeUndefined();
    expect((await get(odd)).GSI2SK).toEqual({ S: "false#-838:59:59.000#00000000000000.000001" });
  });
});

describe("both stores agree", () => {
  it.each(Object.entries(values))("%s normalises the same from MySQL and from DynamoDB", async (_name, value) => {
    const db = await stack.mysql();
    const [rows] = await db.query(
      { sql: "SELECT * FROM samples WHERE tenant_id = ? AND seq = ?", typeCast: mysqlTypeCast },
      [String(value.tenantId), value.seq],
    );
    const fromMysql = sample.fromRow((rows as Array<Record<string, unknown>>)[0] ?? {});
    const { Item = {} } = await stack
      .dynamodb()
      .send(
        new GetItemCommand({ TableName: `${stack.tablePrefix}main`, Key: sample.key(value), ConsistentRead: true }),
      );
    const fromDynamo = sample.fromItem(Item);
    expect(sample.diff(fromMysql, fromDynamo)).toEqual([]);
    expect(sample.normalize(fromMysql)).toEqual(sample.normalize(value));
    expect(sample.diff(fromMysql, { ...fromDynamo, amount: "1.000000" })).toEqual([
      { field: "amount", left: sample.normalize(value).amount, right: "1.000000" },
    ]);
  });
});
