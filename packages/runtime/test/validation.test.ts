/**
 * Validation and repair on real stores (the store's demo data, MariaDB and DynamoDB Local): clean after the backfill;
 * each kind of difference found with its fields; a write in flight between the stores not reported; repair makes each
 * go away; the report kept in the control table and the guard rail's result recorded.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  paginateScan,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { runBackfill } from "../src/backfill/worker.ts";
import { checkPreconditions } from "../src/control/guard-rails.ts";
import { PhaseStore } from "../src/control/phase-store.ts";
import { controlTableName } from "../src/control/table.ts";
import { readValidation } from "../src/control/validation-result.ts";
import { uniqueMarker, uniqueMarkerKey } from "../src/dynamodb/unique-markers.ts";
import type { MysqlExecutor } from "../src/mysql/index.ts";
import { mysqlStatements } from "../src/mysql/sql.ts";
import { useContractStores } from "../src/testing/index.ts";
import {
  type Difference,
  getValidationReport,
  listValidationReports,
  repair,
  ValidationError,
  validate,
} from "../src/validation/index.ts";
import { estimateTableItems } from "../src/validation/validate.ts";
import { rejection } from "./backfill-fixtures.ts";
import { setPhase } from "./backfill-fixtures-run.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const services = () => ({
  codec: testbed.codec(),
  mysql: testbed.connection(),
  client: stack.dynamodb(),
  tablePrefix: stack.tablePrefix,
});
const TABLE = () => `${stack.tablePrefix}main`;
const FAST = { recheckMs: 20, who: "test", contract: "store.yaml" };

async function firstId(table: string, offset = 0): Promise<bigint> {
  const [rows] = (await testbed
    .connection()
    .query(`SELECT id FROM ${table} ORDER BY id LIMIT 1 OFFSET ${offset}`)) as unknown as [Array<{ id: number }>];
  return BigInt(rows[0]?.id ?? 0);
}

const big = (id: bigint) => ({ $bigint: id.toString() });

/** The differences without their reasons, sorted, for strict comparison. */
function plain(differences: readonly Difference[]) {
  return differences
    .map(({ reason: _reason, ...rest }) => rest)
    .sort((a, b) => JSON.stringify([a.kind, a.key, a.marker]).localeCompare(JSON.stringify([b.kind, b.key, b.marker])));
}

describe("ferry validate", () => {
  it("finds the stores equal after the backfill, keeps the report and records the result for the guard rail", async () => {
    await setPhase(stack, stack.tablePrefix, 2);
    const backfill = await runBackfill(services(), { contract: "store.yaml", who: "test" });
    expect(backfill.report.state).toBe("finished");
    expect(backfill.rejected).toBe(0);

    // No DescribeTable: DynamoDB Local answers one by summing every item's size, and nothing else meanwhile.
    const send = vi.spyOn(stack.dynamodb(), "send");
    const sent: string[] = [];
    const { report, differences } = await validate(services(), FAST).finally(() => {
      sent.push(...send.mock.calls.map(([command]) => command.constructor.name));
      send.mockRestore();
    });
    expect(sent).not.toContain("DescribeTableCommand");
    expect(sent.filter((name) => name === "ScanCommand").length).toBeGreaterThanOrEqual(4);
    expect(differences).toEqual([]);
    expect(report.clean).toBe(true);
    expect(report.full).toBe(true);
    expect(report.entities.map((e) => e.entity)).toEqual(testbed.codec().entities);
    const [users] = (await testbed.connection().query("SELECT COUNT(*) AS n FROM users")) as unknown as [
      Array<{ n: number }>,
    ];
    const user = report.entities.find((e) => e.entity === "User");
    expect(user).toMatchObject({ rows: Number(users[0]?.n), items: Number(users[0]?.n), matched: Number(users[0]?.n) });
    expect(user?.markers).toBe(2 * Number(users[0]?.n));
    for (const entity of report.entities) {
      expect(entity.rows).toBeGreaterThan(0);
      expect(entity).toMatchObject({ matched: entity.rows, items: entity.rows, missing: 0, extra: 0, mismatched: 0 });
    }
    expect(report.totals.rows).toBe(backfill.written + backfill.skipped);
    // The scan's size is estimated from MySQL, never under what the table holds (items, markers, word items).
    let held = 0;
    for await (const page of paginateScan({ client: stack.dynamodb() }, { TableName: TABLE(), Select: "COUNT" })) {
      held += page.Count ?? 0;
    }
    const exact = new Map(report.entities.map((entity) => [entity.entity, entity.rows]));
    const estimate = await estimateTableItems(services(), "main", (entity) => {
      const rows = exact.get(entity);
      return rows === undefined ? undefined : Promise.resolve(rows);
    });
    expect(held).toBeGreaterThan(report.totals.rows);
    expect(estimate).toBeGreaterThanOrEqual(held);
    expect(estimate).toBeLessThan(10 * held);
    // Without exact counts, InnoDB's (fresh after ANALYZE TABLE) gives about the same.
    for (const entity of testbed.codec().entities) {
      await testbed.connection().query(`ANALYZE TABLE ${mysqlStatements(testbed.codec(), entity).table}`);
    }
    const innodb = await estimateTableItems(services(), "main");
    expect(innodb).toBeGreaterThan(estimate / 2);
    expect(innodb).toBeLessThan(estimate * 2);
    console.log(
      `validation of the demo store: ${report.totals.rows} rows, ${report.totals.items} items, ${report.totals.markers} markers in ${report.durationMs} ms: ${report.itemsPerSecond} items/s`,
    );

    const stored = await getValidationReport(stack.dynamodb(), stack.tablePrefix, report.id);
    expect(stored).toEqual(report);
    const listed = await listValidationReports(stack.dynamodb(), stack.tablePrefix, { limit: 5 });
    expect(listed.reports[0]?.id).toBe(report.id);
    const result = await readValidation(stack.dynamodb(), stack.tablePrefix);
    const phase = await new PhaseStore(stack.dynamodb(), { tablePrefix: stack.tablePrefix }).get();
    expect(result).toEqual({
      clean: true,
      at: report.at,
      mismatches: 0,
      dualWriteSince: phase.dualWriteSince,
      reportId: report.id,
    });
    // What the 3 -> 4 guard rail makes of it.
    const rails = await checkPreconditions({
      client: stack.dynamodb(),
      tablePrefix: stack.tablePrefix,
      table: controlTableName(stack.tablePrefix),
      from: 3,
      to: 4,
      current: phase,
    });
    expect(rails.find((rail) => rail.name === "validation")).toMatchObject({
      met: true,
      reason: `the last validation (at ${report.at}) was clean`,
    });
  });

  it("finds each kind of difference, with its fields, and repair makes every one go away", async () => {
    const codec = testbed.codec();
    const client = stack.dynamodb();
    const product = codec.entity("Product");
    const users = codec.entity("User");
    const { mysql } = testbed.stores();

    // A row without its item.
    const missingId = await firstId("products", 0);
    await client.send(new DeleteItemCommand({ TableName: TABLE(), Key: product.key({ id: missingId }) }));
    // An item without its row.
    const someProduct = (await mysql.get("Product", { id: await firstId("products", 1) })) ?? {};
    const extraId = 9_000_001n;
    await client.send(
      new PutItemCommand({
        TableName: TABLE(),
        Item: { ...product.toItem({ ...someProduct, id: extraId }), __version: { N: "1" } },
      }),
    );
    // A field that differs.
    const mismatchedId = await firstId("products", 2);
    const before = (await mysql.get("Product", { id: mismatchedId }))?.name;
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE(),
        Key: product.key({ id: mismatchedId }),
        UpdateExpression: "SET #n = :n",
        ExpressionAttributeNames: { "#n": "name" },
        ExpressionAttributeValues: { ":n": { S: "changed behind ferry's back" } },
      }),
    );
    // A marker missing.
    const markerUser = (await mysql.get("User", { id: await firstId("users", 0) })) ?? {};
    const emailMarker = uniqueMarkerKey(users, "uq_users_email", markerUser) ?? {};
    await client.send(new DeleteItemCommand({ TableName: TABLE(), Key: emailMarker }));
    // Orphan markers: one names an item that is not there, one an item that does not hold its value.
    const ghost = uniqueMarker(users, "uq_users_email", { email: "ghost@example.com" }, users.key({ id: 9_000_002n }));
    const other = (await mysql.get("User", { id: await firstId("users", 1) })) ?? {};
    const stale = uniqueMarker(users, "uq_users_username", { username: "old-name" }, users.key(other));
    for (const item of [ghost, stale]) await client.send(new PutItemCommand({ TableName: TABLE(), Item: item ?? {} }));

    const found = await validate(services(), { ...FAST, entities: ["Product", "User"] });
    expect(found.report.clean).toBe(false);
    expect(found.report.full).toBe(false);
    const ghostId = ghost?.PK?.S;
    const staleId = stale?.PK?.S;
    expect(plain(found.differences)).toEqual(
      plain([
        { entity: "Product", kind: "missing-item", key: { id: big(missingId) }, fields: [] },
        { entity: "Product", kind: "extra-item", key: { id: big(extraId) }, fields: [] },
        {
          entity: "Product",
          kind: "mismatched",
          key: { id: big(mismatchedId) },
          fields: [{ field: "name", mysql: String(before), dynamodb: "changed behind ferry's back" }],
        },
        {
          entity: "User",
          kind: "missing-marker",
          key: { id: big(markerUser.id as bigint) },
          fields: [{ field: "email", mysql: String(markerUser.email).toLowerCase(), dynamodb: null }],
          rule: "uq_users_email",
          marker: emailMarker.PK?.S as string,
        },
        {
          entity: "User",
          kind: "orphan-marker",
          key: { PK: users.key({ id: 9_000_002n }).PK?.S, SK: "USER" },
          fields: [],
          rule: "uq_users_email",
          marker: ghostId as string,
        },
        {
          entity: "User",
          kind: "orphan-marker",
          key: { id: big(other.id as bigint) },
          fields: [{ field: "username", mysql: null, dynamodb: String(other.username) }],
          rule: "uq_users_username",
          marker: staleId as string,
        },
      ]),
    );
    const byEntity = Object.fromEntries(found.report.entities.map((e) => [e.entity, e]));
    expect(byEntity.Product).toMatchObject({ missing: 1, extra: 1, mismatched: 1 });
    expect(byEntity.Product?.matched).toBe((byEntity.Product?.rows ?? 0) - 2);
    expect(byEntity.User).toMatchObject({ missing: 1, extra: 2, mismatched: 0 });
    expect(byEntity.User?.matched).toBe((byEntity.User?.rows ?? 0) - 1);
    // Not clean, for the guard rail too.
    expect(await readValidation(client, stack.tablePrefix)).toMatchObject({
      clean: false,
      mismatches: 6,
      reportId: found.report.id,
    });

    const repaired = await repair(services(), found, { who: "test" });
    expect(repaired.failures).toEqual([]);
    expect(repaired.repair).toMatchObject({
      target: "dynamodb",
      phase: 2,
      created: 1,
      updated: 1,
      deleted: 1,
      markersRestored: 1,
      markersFreed: 2,
      failed: 0,
      left: 0,
    });
    expect(repaired.after.differences).toEqual([]);
    expect(repaired.repair.changes.map((c) => [c.kind, c.done]).sort()).toEqual(
      [
        ["extra-item", "deleted on dynamodb"],
        ["missing-item", "created on dynamodb"],
        ["mismatched", "updated on dynamodb"],
        ["missing-marker", "1 marker(s) put back"],
        ["orphan-marker", "marker deleted"],
        ["orphan-marker", "marker deleted"],
      ].sort(),
    );
    const stored = await getValidationReport(client, stack.tablePrefix, found.report.id);
    expect(stored?.repair).toEqual(repaired.repair);
    // The item came back at MySQL's value, the marker names its owner, the orphans are gone.
    expect((await testbed.stores().dynamodb.get("Product", { id: mismatchedId }))?.name).toBe(before);
    const marker = await client.send(
      new GetItemCommand({ TableName: TABLE(), Key: emailMarker, ConsistentRead: true }),
    );
    expect(marker.Item?.ownerPK?.S).toBe(users.key(markerUser).PK?.S);
    for (const id of [ghostId, staleId]) {
      const gone = await client.send(
        new GetItemCommand({
          TableName: TABLE(),
          Key: { PK: { S: id ?? "" }, SK: { S: id ?? "" } },
          ConsistentRead: true,
        }),
      );
      expect(gone.Item).toBeUndefined();
    }

    const again = await validate(services(), FAST);
    expect(again.differences).toEqual([]);
    expect(again.report.clean).toBe(true);
    expect((await readValidation(client, stack.tablePrefix))?.clean).toBe(true);
  });

  it("reports a sensitive field that differs as two tags, never its values; repair still makes it go away", async () => {
    const users = testbed.codec().entity("User");
    const hash = users.attribute("passwordHash");
    const { mysql, dynamodb } = testbed.stores();
    const row = await mysql.create("User", {
      username: "hidden-hash",
      email: "hidden-hash@example.com",
      passwordHash: "$scrypt$mysql-secret",
      firstName: "Hana",
      isSeller: false,
    });
    const id = row.id as bigint;
    await dynamodb.create("User", { ...row, passwordHash: "$scrypt$dynamo-secret" });
    const found = await validate(services(), { ...FAST, entities: ["User"] });
    const tags = ["$scrypt$mysql-secret", "$scrypt$dynamo-secret"].map((value) => hash.shown(hash.normalize(value)));
    expect(tags[0]).toMatch(/^hidden #[0-9a-f]{8}$/);
    expect(tags[0]).not.toBe(tags[1]);
    const mine = found.differences.filter((difference) => JSON.stringify(plain([difference])).includes(`"${id}"`));
    expect(plain(mine)).toEqual(
      plain([
        {
          entity: "User",
          kind: "mismatched",
          key: { id: big(id) },
          fields: [{ field: "passwordHash", mysql: tags[0] as string, dynamodb: tags[1] as string }],
        },
      ]),
    );
    const stored = JSON.stringify(await getValidationReport(stack.dynamodb(), stack.tablePrefix, found.report.id));
    expect(stored).toContain("hidden #");
    expect(stored).not.toContain("secret");
    const repaired = await repair(services(), found, { who: "test" });
    expect(repaired.after.differences).toEqual([]);
    expect((await dynamodb.get("User", { id }))?.passwordHash).toBe("$scrypt$mysql-secret");
  });

  it("asks again for a scan page or a batch of items whose connection dropped, and finds what it finds without that", async () => {
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    onTestFinished(() => client.destroy());
    // Outside the SDK's own retries: the first three Scans and the first two BatchGetItems fail as a connection that
    // DynamoDB Local dropped fails (ECONNRESET, "socket hang up").
    const failures: Record<string, number> = { ScanCommand: 3, BatchGetItemCommand: 2 };
    const seen: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName);
        if ((failures[command] ?? 0) > 0) {
          failures[command] = (failures[command] ?? 0) - 1;
          seen.push(command);
          throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        }
        return next(args);
      },
      { step: "initialize", name: "dropConnections" },
    );
    // And MySQL's connection is lost on every third statement, twice (2013, as a server restart does).
    let statements = 0;
    let lost = 0;
    const mysql: MysqlExecutor = {
      query: (options) => {
        statements++;
        if (statements % 3 === 0 && lost < 2) {
          lost++;
          return Promise.reject(Object.assign(new Error("Lost connection to server during query"), { errno: 2013 }));
        }
        return testbed.connection().query(options);
      },
    };
    const options = { ...FAST, entities: ["Category", "User"] };
    const expected = await validate(services(), options);
    const found = await validate({ ...services(), client, mysql }, options);
    expect(lost).toBe(2);
    expect(seen.sort()).toEqual([
      "BatchGetItemCommand",
      "BatchGetItemCommand",
      "ScanCommand",
      "ScanCommand",
      "ScanCommand",
    ]);
    expect(plain(found.differences)).toEqual(plain(expected.differences));
    expect(found.report.entities.map(({ entity, rows, items, matched }) => ({ entity, rows, items, matched }))).toEqual(
      expected.report.entities.map(({ entity, rows, items, matched }) => ({ entity, rows, items, matched })),
    );
  });

  it("does not report a write in flight: a difference gone at the recheck is settled", async () => {
    const id = await firstId("products", 3);
    // The authoritative write has landed on MySQL; its DynamoDB copy is on its way.
    await testbed.connection().query("UPDATE products SET name = 'in flight' WHERE id = ?", [id.toString()]);
    const seen: Difference[] = [];
    const { report, differences } = await validate(services(), {
      ...FAST,
      entities: ["Product"],
      beforeRecheck: async (_entity, suspects) => {
        seen.push(...suspects);
        // The copy lands between the first look and the recheck (with the row's new ON UPDATE timestamp).
        const row = await testbed.stores().mysql.get("Product", { id });
        await testbed.stores().dynamodb.update("Product", { id }, { name: "in flight", updatedAt: row?.updatedAt });
      },
    });
    expect(seen.map((s) => [s.kind, s.key, s.fields])).toEqual([
      [
        "mismatched",
        { id: big(id) },
        [
          { field: "name", mysql: "in flight", dynamodb: expect.any(String) },
          { field: "updatedAt", mysql: expect.any(String), dynamodb: expect.any(String) },
        ],
      ],
    ]);
    expect(differences).toEqual([]);
    expect(report.clean).toBe(true);
    expect(report.entities[0]?.settled).toBe(1);
  });

  it("leaves a denormalised copy the live path leaves: a seller's new name is not a difference of the products", async () => {
    const { dynamodb } = testbed.stores();
    const [rows] = (await testbed
      .connection()
      .query("SELECT seller_id AS id FROM products ORDER BY id LIMIT 1")) as unknown as [Array<{ id: number }>];
    const sellerId = BigInt(rows[0]?.id ?? 0);
    // As the live path does in phase 2: the user's row and item change, the products' copies stay.
    await testbed
      .connection()
      .query("UPDATE users SET username = 'renamed-seller' WHERE id = ?", [sellerId.toString()]);
    const row = await testbed.stores().mysql.get("User", { id: sellerId });
    await dynamodb.update("User", { id: sellerId }, { username: "renamed-seller", updatedAt: row?.updatedAt });
    const { report, differences } = await validate(services(), { ...FAST, entities: ["Product", "User"] });
    expect(differences).toEqual([]);
    expect(report.entities.find((e) => e.entity === "Product")?.staleCopies).toBeGreaterThan(0);
  });

  it("checks a sample of the rows and segments of the scan", async () => {
    let draws = 0;
    const { report } = await validate(services(), {
      ...FAST,
      entities: ["Product"],
      sample: 0.5,
      random: () => (draws++ % 2 === 0 ? 0.1 : 0.9),
    });
    const [rows] = (await testbed.connection().query("SELECT COUNT(*) AS n FROM products")) as unknown as [
      Array<{ n: number }>,
    ];
    expect(report.entities[0]?.rows).toBe(Math.ceil(Number(rows[0]?.n) / 2));
    expect(report.sample).toBe(0.5);
    expect(report.full).toBe(false);
    expect(report.clean).toBe(true);
  });

  it("validates some entities without reading the others' MySQL tables: one that is not there does not matter", async () => {
    await testbed.connection().query("RENAME TABLE shopping_carts TO shopping_carts_away");
    try {
      const { report, differences } = await validate(services(), { ...FAST, entities: ["Category"] });
      expect(differences).toEqual([]);
      expect(report.entities.map((entity) => [entity.entity, entity.matched > 0, entity.missing])).toEqual([
        ["Category", true, 0],
      ]);
    } finally {
      await testbed.connection().query("RENAME TABLE shopping_carts_away TO shopping_carts");
    }
  });

  it("refuses an unknown entity, a sample out of range and a missing table, and records nothing", async () => {
    const before = await listValidationReports(stack.dynamodb(), stack.tablePrefix, { limit: 100 });
    const latest = await readValidation(stack.dynamodb(), stack.tablePrefix);
    const unknown = await rejection(validate(services(), { ...FAST, entities: ["Nope"] }), ValidationError);
    expect(unknown.message).toMatch(/^the contract has no entity 'Nope' \(it has Category, /);
    for (const sample of [0, 1.5, Number.NaN]) {
      const error = await rejection(validate(services(), { ...FAST, sample }), ValidationError);
      expect(error.message).toBe(`the sample is a fraction of the rows, more than 0 and at most 1; got ${sample}`);
    }
    const noTable = await rejection(
      validate({ ...services(), tablePrefix: `${stack.tablePrefix}missing_` }, FAST),
      ValidationError,
    );
    expect(noTable.message).toBe(
      `Category: DynamoDB has no table '${stack.tablePrefix}missing_main' (create it with ferry tables apply)`,
    );
    await testbed.connection().query("RENAME TABLE categories TO categories_away");
    try {
      const noMysql = await rejection(validate(services(), FAST), ValidationError);
      expect(noMysql.message).toBe("Category: MySQL has no table 'categories' in this database");
    } finally {
      await testbed.connection().query("RENAME TABLE categories_away TO categories");
    }
    expect(await listValidationReports(stack.dynamodb(), stack.tablePrefix, { limit: 100 })).toEqual(before);
    expect(await readValidation(stack.dynamodb(), stack.tablePrefix)).toEqual(latest);
  });
  it("finds an item left under a key its row no longer addresses, and repair deletes it (KeySync: MySQL has no row with its identity)", async () => {
    const carts = testbed.codec().entity("ShoppingCart");
    const { mysql, dynamodb } = testbed.stores();
    const row = (await mysql.list("ShoppingCart", { limit: 1 })).items[0] ?? {};
    const otherProduct = await firstId("products", 5);
    expect(otherProduct).not.toBe(row.productId);
    // The cart line was for another product before (its key moved while DynamoDB missed the move).
    const ghost = { ...row, productId: otherProduct };
    await stack
      .dynamodb()
      .send(new PutItemCommand({ TableName: TABLE(), Item: { ...carts.toItem(ghost), __version: { N: "7" } } }));
    const found = await validate(services(), { ...FAST, entities: ["ShoppingCart"] });
    expect(found.differences).toEqual([
      {
        entity: "ShoppingCart",
        kind: "extra-item",
        key: { id: big(row.id as bigint), userId: big(row.userId as bigint), productId: big(otherProduct) },
        fields: [],
        reason: "its row has another key now",
      },
    ]);
    const repaired = await repair(services(), found);
    expect(repaired.failures).toEqual([]);
    expect(repaired.repair).toMatchObject({ deleted: 1, created: 0, updated: 0, left: 0 });
    expect(await dynamodb.get("ShoppingCart", { id: row.id, userId: row.userId, productId: otherProduct })).toBe(
      undefined,
    );
    expect(await dynamodb.get("ShoppingCart", { id: row.id, userId: row.userId, productId: row.productId })).toEqual(
      row,
    );
    expect((await validate(services(), { ...FAST, entities: ["ShoppingCart"] })).differences).toEqual([]);
  });

  it("reports a marker an earlier ferry kept for a rule the item's key enforces as not needed, and repair frees it", async () => {
    const carts = testbed.codec().entity("ShoppingCart");
    const { mysql } = testbed.stores();
    const row = (await mysql.list("ShoppingCart", { limit: 1 })).items[0] ?? {};
    // Written as the earlier ferry wrote every rule's marker: it names the line's own item.
    const legacy = uniqueMarker(carts, "uq_shopping_carts_user_product", row, carts.key(row)) ?? {};
    await stack.dynamodb().send(new PutItemCommand({ TableName: TABLE(), Item: legacy }));
    const found = await validate(services(), { ...FAST, entities: ["ShoppingCart"] });
    expect(found.differences).toEqual([
      {
        entity: "ShoppingCart",
        kind: "orphan-marker",
        key: { PK: carts.key(row).PK?.S, SK: carts.key(row).SK?.S },
        fields: [],
        rule: "uq_shopping_carts_user_product",
        marker: legacy.PK?.S,
        reason: "not needed: the item's key enforces the rule",
      },
    ]);
    const repaired = await repair(services(), found);
    expect(repaired.failures).toEqual([]);
    expect(repaired.repair).toMatchObject({ markersFreed: 1, left: 0 });
    const markerKey = uniqueMarkerKey(carts, "uq_shopping_carts_user_product", row) ?? {};
    const gone = await stack.dynamodb().send(new GetItemCommand({ TableName: TABLE(), Key: markerKey }));
    expect(gone.Item).toBeUndefined();
    expect((await validate(services(), { ...FAST, entities: ["ShoppingCart"] })).differences).toEqual([]);
  });

  it("repairs from DynamoDB in phase 4 (MySQL takes DynamoDB's value), and refuses in phase 5", async () => {
    await setPhase(stack, stack.tablePrefix, 3);
    await setPhase(stack, stack.tablePrefix, 4);
    const id = await firstId("products", 4);
    // In phase 4 DynamoDB is authoritative: its value wins.
    await stack.dynamodb().send(
      new UpdateItemCommand({
        TableName: TABLE(),
        Key: testbed.codec().entity("Product").key({ id }),
        UpdateExpression: "SET #n = :n",
        ExpressionAttributeNames: { "#n": "name" },
        ExpressionAttributeValues: { ":n": { S: "DynamoDB's name" } },
      }),
    );
    const found = await validate(services(), { ...FAST, entities: ["Product"] });
    expect(found.differences.map((d) => [d.kind, d.key, d.fields])).toEqual([
      ["mismatched", { id: big(id) }, [{ field: "name", mysql: expect.any(String), dynamodb: "DynamoDB's name" }]],
    ]);
    const repaired = await repair(services(), found);
    expect(repaired.repair).toMatchObject({ phase: 4, target: "mysql", updated: 1, failed: 0, left: 0 });
    expect((await testbed.stores().mysql.get("Product", { id }))?.name).toBe("DynamoDB's name");

    await setPhase(stack, stack.tablePrefix, 5);
    const refused = await rejection(repair(services(), found), ValidationError);
    expect(refused.message).toBe(
      "the phase is 5: MySQL is no longer written, so there is no authoritative copy to repair from",
    );
  });
});
