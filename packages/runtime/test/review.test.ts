/**
 * Review findings on the router, the transactions, the shadow reads and the fleet wiring, each shown on real MariaDB
 * and DynamoDB Local.
 */
import { createMysqlPool } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it, onTestFinished } from "vitest";
import { addShadowCounts, PhaseChangeRefused, recordValidation } from "../src/control/index.ts";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import { AlreadyExists, ConditionFailed, NotFound, TransactionFailed, UniqueViolation } from "../src/errors.ts";
import { FleetMember } from "../src/fleet-member.ts";
import { IdAllocator } from "../src/ids/index.ts";
import { Metrics } from "../src/metrics/index.ts";
import { MysqlEntityStore, type MysqlExecutor } from "../src/mysql/index.ts";
import { EntityRouter, type SecondaryFailure } from "../src/router/index.ts";
import { ShadowReader } from "../src/shadow/index.ts";
import { SettablePhase, useContractStores } from "../src/testing.ts";

const stack = useTestStack();

const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const failures: SecondaryFailure[] = [];
const phase = new SettablePhase(1);

function router(options: { mysql?: MysqlExecutor; metrics?: Metrics; shadow?: ShadowReader } = {}) {
  const codec = testbed.codec();
  return new EntityRouter({
    phase,
    codec,
    mysql: new MysqlEntityStore(options.mysql ?? testbed.connection(), codec),
    dynamodb: new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix }),
    ids: new IdAllocator(stack.dynamodb(), { tablePrefix: stack.tablePrefix }),
    onSecondaryFailure: (failure) => failures.push(failure),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.shadow ? { shadow: options.shadow } : {}),
  });
}

let serial = 0;
const user = () => {
  const n = ++serial;
  return {
    username: `review_${n}`,
    email: `review_${n}@example.com`,
    passwordHash: "scrypt$x",
    firstName: "Re",
    lastName: null,
    isSeller: false,
  };
};

describe("review", () => {
  it("FleetMember: an outbox that cannot be read does not let a store become authoritative (3 -> 4)", async () => {
    // The app's MySQL is unreachable, so the entries waiting for DynamoDB (kept in MySQL) cannot be counted.
    const unreachable = createMysqlPool("mysql://root@127.0.0.1:1/nothing", { connectionLimit: 1 });
    onTestFinished(() => unreachable.end());
    const member = new FleetMember({
      contract: testbed.contract(),
      mysql: unreachable,
      dynamodb: stack.dynamodb(),
      tablePrefix: `${stack.tablePrefix}review_fleet_`,
      app: "review",
      log: () => {},
    });
    const store = member.phaseStore;
    await store.set(3, { who: "review", force: true, reason: "setup" });
    await recordValidation(store.client, store.tablePrefix, { clean: true, mismatches: 0 });
    await addShadowCounts(store.client, store.tablePrefix, { comparisons: 5000, mismatches: 0 });
    const error = await store.set(4, { who: "review" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhaseChangeRefused);
    expect((error as PhaseChangeRefused).reasons.join("\n")).toMatch(/outbox for dynamodb cannot be read/);
    expect((await store.get()).phase).toBe(3);
  });

  it("the authoritative delete is timed like every other store call", async () => {
    phase.value = 2;
    const metrics = new Metrics();
    const r = router({ metrics });
    const created = (await r.create("User", user())) as { id: bigint };
    expect(await r.delete("User", { id: created.id })).toBe(true);
    const text = metrics.prometheus();
    expect(text).toMatch(/ferry_store_request_seconds_count\{store="dynamodb",operation="delete"\} 1/);
    expect(text).toMatch(/ferry_store_request_seconds_count\{store="mysql",operation="delete"\} 1/);
  });

  it("a checkout of a product that does not exist fails with NotFound in every phase (not ConditionFailed on DynamoDB)", async () => {
    phase.value = 2;
    const buyer = (await router().create("User", user())) as { id: bigint };
    const input = {
      order: { userId: buyer.id, totalAmount: "1.00" },
      lines: [{ productId: 987_654_321n, quantity: 1, priceAtTime: "1.00" }],
      cart: [],
    };
    for (const p of [1, 4] as const) {
      phase.value = p;
      const error = await router()
        .transact("checkout", input)
        .catch((e: unknown) => e);
      expect(error, `phase ${p}`).toBeInstanceOf(TransactionFailed);
      expect(error, `phase ${p}`).toMatchObject({ step: 1, element: 0, entity: "Product" });
      expect((error as TransactionFailed).reason, `phase ${p}`).toBeInstanceOf(NotFound);
    }
    // A product that is there and short of stock is still a ConditionFailed, on both.
    phase.value = 2;
    const product = (await router().create("Product", {
      sellerId: 1n,
      categoryId: 1n,
      name: "Review thing",
      imageUrl: "https://img.example/review.png",
      price: "1.00",
      inventoryQuantity: 0,
    })) as { id: bigint };
    for (const p of [1, 4] as const) {
      phase.value = p;
      const error = await router()
        .transact("checkout", { ...input, lines: [{ productId: product.id, quantity: 1, priceAtTime: "1.00" }] })
        .catch((e: unknown) => e);
      expect((error as TransactionFailed).reason, `phase ${p}`).toBeInstanceOf(ConditionFailed);
    }
  });

  it("phase 3: the shadow budget counts the shadow read's own time, not the served read's", async () => {
    phase.value = 2;
    const created = (await router().create("User", user())) as { id: bigint };
    // A MySQL that answers, slowly (a busy server): each statement takes longer than the shadow budget.
    const slow: MysqlExecutor = {
      query: async (options) => {
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        return testbed.connection().query(options);
      },
    };
    const codec = testbed.codec();
    const metrics = new Metrics();
    // A budget a busy DynamoDB Local keeps easily, and a MySQL slower than it.
    const shadow = new ShadowReader({
      codec,
      metrics,
      sampleRate: () => 1,
      budgetMs: 2_000,
      sink: { record: () => {} },
    });
    onTestFinished(() => shadow.stop());
    phase.value = 3;
    const served = await router({ mysql: slow, shadow }).get("User", { id: created.id });
    expect(served).toBeDefined();
    await shadow.idle();
    // DynamoDB answers well within the budget once asked: a comparison, not a timeout.
    expect(shadow.counters.timeouts.value({ entity: "User" })).toBe(0);
    expect(shadow.counters.comparisons.value({ entity: "User" })).toBe(1);
  });

  it("a second cart line for the same user and product is a UniqueViolation in every phase (not AlreadyExists)", async () => {
    phase.value = 2;
    const buyer = (await router().create("User", user())) as { id: bigint };
    const product = (await router().create("Product", {
      sellerId: 1n,
      categoryId: 1n,
      name: "Review cart thing",
      imageUrl: "https://img.example/review-cart.png",
      price: "2.00",
      inventoryQuantity: 3,
    })) as { id: bigint };
    const line = await router().create("ShoppingCart", { userId: buyer.id, productId: product.id, quantity: 1 });
    for (const p of [1, 4, 5] as const) {
      phase.value = p;
      const error = await router()
        .create("ShoppingCart", { userId: buyer.id, productId: product.id, quantity: 2 })
        .catch((e: unknown) => e);
      expect(error, `phase ${p}`).toBeInstanceOf(UniqueViolation);
      expect(error, `phase ${p}`).toMatchObject({ rule: "uq_shopping_carts_user_product" });
    }
    // The same line again (its own id) is still AlreadyExists on DynamoDB, as MySQL's PRIMARY says.
    const codec = testbed.codec();
    const dynamodb = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix });
    const again = await dynamodb.create("ShoppingCart", line).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(AlreadyExists);
  });
});
