/**
 * The contract the analyzer proposes for a schema with no workload (packages/analyzer/test/fixtures/inferred: a
 * self-reference, a cycle, nullable foreign keys, a foreign key to a unique key, composite keys and foreign keys, a link
 * table) through
 * its GENERATED repositories (test/generated/inferred-shop, committed and checked for staleness): after a backfill,
 * every inferred access pattern answers the same from MySQL (phase 1) as from DynamoDB (phase 5), and in phase 3 its
 * shadow reads compare equal: no mismatch.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadValidContract } from "@ferry/contract";
import {
  applyTables,
  createCodec,
  FixedPhase,
  Metrics,
  type Mismatch,
  type Phase,
  PhaseStore,
  runBackfill,
  ShadowReader,
} from "@ferry/runtime";
import { connectMysql } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generate, staleFiles } from "../src/index.ts";
import { contract, createStore, type Store } from "./generated/inferred-shop/src/index.ts";

const stack = useTestStack();
const root = fileURLToPath(new URL("../../../", import.meta.url));
const fixtures = join(root, "packages/analyzer/test/fixtures/inferred");
const codec = createCodec(contract);
let connection: Awaited<ReturnType<typeof connectMysql>>;

beforeAll(async () => {
  const db = await stack.mysql();
  await db.query(readFileSync(join(fixtures, "schema.sql"), "utf8"));
  await db.query(readFileSync(join(fixtures, "data.sql"), "utf8"));
  connection = await connectMysql(stack.mysqlUrl);
  await applyTables(stack.dynamodb(), contract, { prefix: stack.tablePrefix });
  await new PhaseStore(stack.dynamodb(), { tablePrefix: stack.tablePrefix }).set(2, {
    who: "test",
    reason: "dual writes",
  });
  const result = await runBackfill(
    { codec, mysql: connection, client: stack.dynamodb(), tablePrefix: stack.tablePrefix },
    { contract: "inferred-shop", who: "test" },
  );
  expect(result.report.state).toBe("finished");
}, 600_000);
afterAll(async () => {
  await connection.end();
});

function storeIn(phase: Phase, shadow?: ShadowReader): Store {
  return createStore({
    phase: new FixedPhase(phase),
    mysql: connection,
    dynamodb: stack.dynamodb(),
    tablePrefix: stack.tablePrefix,
    // Reads only: no write is made, so none can fail.
    onSecondaryFailure: (failure) => {
      throw failure.error;
    },
    ...(shadow === undefined ? {} : { shadow }),
  });
}

/** Every page of a listing, each read with the cursor of the store that served the one before. */
async function all<T>(read: (page: { limit: number; cursor?: string }) => Promise<{ items: T[]; cursor?: string }>) {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await read({ limit: 500, ...(cursor === undefined ? {} : { cursor }) });
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return items;
}

/** Each inferred pattern, with the values it is read with: some that find rows, one that finds none. */
const READS: Record<string, (store: Store) => Promise<unknown[]>> = {
  listCategoriesByParentId: (s) =>
    Promise.all([1, 2, 4].map((parentId) => all((p) => s.categories.listCategoriesByParentId({ parentId }, p)))),
  listDepartmentsByHeadId: (s) =>
    Promise.all([1, 3, 2].map((headId) => all((p) => s.departments.listDepartmentsByHeadId({ headId }, p)))),
  listEmployeesByDepartmentId: (s) =>
    Promise.all(
      [1, 2, 9].map((departmentId) => all((p) => s.employees.listEmployeesByDepartmentId({ departmentId }, p))),
    ),
  listEmployeesByManagerId: (s) =>
    Promise.all([1, 3, 2].map((managerId) => all((p) => s.employees.listEmployeesByManagerId({ managerId }, p)))),
  listOrderLinesByOrderId: (s) =>
    Promise.all([1, 3, 5, 9].map((orderId) => all((p) => s.orderLines.listOrderLinesByOrderId({ orderId }, p)))),
  listOrderLinesByProductSku: (s) =>
    Promise.all(
      ["MUG-1", "KITE-1", "NONE"].map((productSku) =>
        all((p) => s.orderLines.listOrderLinesByProductSku({ productSku }, p)),
      ),
    ),
  listOrdersByUserId: (s) =>
    Promise.all([1, 2, 3, 9].map((userId) => all((p) => s.orders.listOrdersByUserId({ userId }, p)))),
  listOrdersByStatus: (s) =>
    Promise.all(
      (["placed", "shipped", "cancelled"] as const).map((status) =>
        all((p) => s.orders.listOrdersByStatus({ status }, p)),
      ),
    ),
  listProductTagsByProductId: (s) =>
    Promise.all([1, 6, 3].map((productId) => all((p) => s.productTags.listProductTagsByProductId({ productId }, p)))),
  listProductTagsByTagId: (s) =>
    Promise.all([1, 2, 3].map((tagId) => all((p) => s.productTags.listProductTagsByTagId({ tagId }, p)))),
  getProductBySku: (s) => Promise.all(["MUG-1", "KITE-1", "NONE"].map((sku) => s.products.getProductBySku({ sku }))),
  listProductsByCategoryId: (s) =>
    Promise.all([2, 3, 4, 1].map((categoryId) => all((p) => s.products.listProductsByCategoryId({ categoryId }, p)))),
  getTagByLabel: (s) => Promise.all(["gift", "new", "none"].map((label) => s.tags.getTagByLabel({ label }))),
  listUserEventsByUserId: (s) =>
    Promise.all([1, 3, 9].map((userId) => all((p) => s.userEvents.listUserEventsByUserId({ userId }, p)))),
  getCouponByCode: (s) => Promise.all(["SPRING", "NONE"].map((code) => s.coupons.getCouponByCode({ code }))),
  listOrdersByCouponId: (s) =>
    Promise.all([1, 2, 9].map((couponId) => all((p) => s.orders.listOrdersByCouponId({ couponId }, p)))),
  listLineReturnsByOrderIdAndLineNo: (s) =>
    Promise.all(
      [
        [3, 1],
        [5, 1],
        [1, 1],
      ].map(([orderId, lineNo]) =>
        all((p) =>
          s.lineReturns.listLineReturnsByOrderIdAndLineNo({ orderId: orderId as number, lineNo: lineNo as number }, p),
        ),
      ),
    ),
  getUserByEmail: (s) =>
    Promise.all(["ada@example.com", "NOBODY@example.com"].map((email) => s.users.getUserByEmail({ email }))),
};

describe("the repositories generated from a contract inferred from the schema alone", () => {
  it("are committed as the contract generates them, and cover every inferred pattern", async () => {
    const files = generate(await loadValidContract(join(fixtures, "contract.yaml")), {
      contractPath: "packages/analyzer/test/fixtures/inferred/contract.yaml",
      outDir: "packages/codegen/test/generated/inferred-shop",
      root,
    });
    expect(staleFiles(files, join(root, "packages/codegen/test/generated/inferred-shop"))).toEqual([]);
    const inferred = Object.entries(contract.accessPatterns ?? {}).filter(([, p]) => p.inferred !== undefined);
    expect(inferred.length).toBe(Object.keys(contract.accessPatterns ?? {}).length);
    expect(Object.keys(READS).sort()).toEqual(inferred.map(([name]) => name).sort());
  });

  it("answers every inferred pattern the same from MySQL (phase 1) and from DynamoDB (phase 5)", async () => {
    const mysql = storeIn(1);
    const dynamodb = storeIn(5);
    for (const [name, read] of Object.entries(READS)) {
      const [fromMysql, fromDynamo] = await Promise.all([read(mysql), read(dynamodb)]);
      expect(fromDynamo, name).toEqual(fromMysql);
      // Something was found: a pattern that finds nothing on both stores proves nothing.
      expect(fromMysql.flat().filter((found) => found !== undefined).length, name).toBeGreaterThan(0);
    }
    // The user's 3,000 events came back whole, newest first, across pages.
    const events = await all((p) => dynamodb.userEvents.listUserEventsByUserId({ userId: 1 }, p));
    expect(events.length).toBe(3_000);
    expect(events.map((e) => e.happenedAt)).toEqual(
      events
        .map((e) => e.happenedAt)
        .sort()
        .reverse(),
    );
  });

  it("in phase 3, every inferred pattern's shadow reads compare equal: no mismatch", async () => {
    const mismatches: Mismatch[] = [];
    const errors: unknown[] = [];
    const reader = new ShadowReader({
      codec,
      metrics: new Metrics(),
      sampleRate: () => 1,
      sink: { record: (mismatch) => mismatches.push(mismatch) },
      // Generous: a DynamoDB Local busy with the other suites must not turn a comparison into a timeout.
      budgetMs: 10_000,
      onError: (error) => errors.push(error),
    });
    const store = storeIn(3, reader);
    for (const read of Object.values(READS)) await read(store);
    await reader.idle();
    const counted = (name: "comparisons" | "mismatches" | "timeouts") =>
      codec.entities.reduce((sum, entity) => sum + reader.counters[name].value({ entity }), 0);
    expect({ mismatches, errors, timeouts: counted("timeouts") }).toEqual({ mismatches: [], errors: [], timeouts: 0 });
    expect(counted("mismatches")).toBe(0);
    // Every read was compared: one per page or item read (the listings of 3,000 events take several pages).
    expect(counted("comparisons")).toBeGreaterThanOrEqual(45);
  });
});
