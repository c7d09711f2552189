import { type AddressInfo, createServer, type Socket } from "node:net";
import { ResourceNotFoundException } from "@aws-sdk/client-dynamodb";
import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { CATEGORIES, seedStore } from "@ferry/store";
import { describe, expect, it, onTestFinished } from "vitest";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import { AlreadyExists, UniqueViolation } from "../src/errors.ts";
import { Metrics } from "../src/metrics/index.ts";
import type { MysqlExecutor } from "../src/mysql/index.ts";
import type { Phase, PhaseSource } from "../src/phases.ts";
import { CursorStoreChanged } from "../src/router/index.ts";
import { type Mismatch, ShadowReader, shadowReadsAfter, withCorrelationId } from "../src/shadow/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { routingOver } from "./routing.ts";
import { expectError, keyed, rejection, uniqueViolation } from "./store-errors.ts";

const stack = useTestStack();

const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
/** Each test's own phase, failed secondary writes and routers. */
const routing = routingOver(stack, testbed);

const stores = () => testbed.stores();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const user = (n: number) => ({
  username: `router_${n}`,
  email: `router_${n}@example.com`,
  passwordHash: "scrypt$x",
  firstName: "Ro",
  lastName: null,
  isSeller: false,
});

/** A shadow reader that samples every read, stopped after the test; what it finds goes to `mismatches`. */
function shadowReader(budgetMs: number, metrics = new Metrics(), mismatches: Mismatch[] = []): ShadowReader {
  const shadow = new ShadowReader({
    codec: testbed.codec(),
    metrics,
    sampleRate: () => 1,
    budgetMs,
    // A difference is read again after 20, 80 and 320 ms (not 250 ms, 1 s and 4 s).
    recheckMs: 20,
    sink: { record: (mismatch) => void mismatches.push(mismatch) },
  });
  onTestFinished(() => shadow.stop());
  return shadow;
}

describe("the router", () => {
  it("phase 1 writes and reads MySQL only", async () => {
    const { router, failures } = routing(1);
    const created = await router().create("User", user(1));
    expect(typeof created.id).toBe("bigint");
    expect(await stores().dynamodb.get("User", { id: created.id })).toBeUndefined();
    expect((await router().get("User", { id: created.id }))?.username).toBe("router_1");
    expect(failures).toEqual([]);
  });

  it("phase 2 writes MySQL then DynamoDB with the same id, reads MySQL; updates and deletes reach both", async () => {
    const { router, failures } = routing(2);
    const r = router();
    const created = await r.create("User", user(2));
    const { mysql, dynamodb } = stores();
    expect((await dynamodb.get("User", { id: created.id }))?.email).toBe("router_2@example.com");
    await r.update("User", { id: created.id }, { firstName: "Changed" });
    const inMysql = await mysql.get("User", { id: created.id });
    const inDynamo = await dynamodb.get("User", { id: created.id });
    expect(inMysql?.firstName).toBe("Changed");
    expect(inDynamo?.firstName).toBe("Changed");
    // ON UPDATE updated_at: one value written to both stores, not each server's clock.
    expect(inDynamo?.updatedAt).toBe(inMysql?.updatedAt);
    expect(inMysql?.updatedAt).not.toBe(created.updatedAt);
    expect(await r.delete("User", { id: created.id })).toBe(true);
    expect(await mysql.get("User", { id: created.id })).toBeUndefined();
    expect(await dynamodb.get("User", { id: created.id })).toBeUndefined();
    expect(failures).toEqual([]);
  });

  it("phases 4 and 5 read DynamoDB; phase 5 leaves MySQL alone", async () => {
    const { router, phase } = routing(2);
    const created = await router().create("User", user(4));
    await testbed.connection().query("UPDATE users SET first_name = 'OnlyInMysql' WHERE id = ?", [String(created.id)]);
    phase.value = 4;
    expect((await router().get("User", { id: created.id }))?.firstName).toBe("Ro");
    await router().update("User", { id: created.id }, { firstName: "Four" });
    expect((await stores().mysql.get("User", { id: created.id }))?.firstName).toBe("Four");
    phase.value = 5;
    await router().update("User", { id: created.id }, { firstName: "Five" });
    expect((await stores().mysql.get("User", { id: created.id }))?.firstName).toBe("Four");
    expect((await router().get("User", { id: created.id }))?.firstName).toBe("Five");
  });

  it("a failed secondary write does not fail the call and is handed over for replay", async () => {
    const { router, failures } = routing(2);
    const broken = router({ tablePrefix: `${stack.tablePrefix}missing_` });
    const created = await broken.create("User", user(6));
    expect(await stores().mysql.get("User", { id: created.id })).toEqual(created);
    expect(failures).toEqual([
      {
        entity: "User",
        operation: "create",
        store: "dynamodb",
        key: { id: created.id },
        value: created,
        error: expect.objectContaining({ message: "Cannot do operations on a non-existent table" }),
      },
    ]);
    expect(failures[0]?.error).toBeInstanceOf(ResourceNotFoundException);
  });

  it("a cursor from one store is refused after the phase moved reads to the other", async () => {
    const { router, phase } = routing(2);
    const r = router();
    const first = await r.list("Category", { index: "GSI1", values: {}, limit: 2 });
    // The first two categories of the demo set, by id (GSI1 sorts the categories by id).
    expect(first.items.map(({ id, parentId, name }) => ({ id, parentId, name }))).toEqual(
      CATEGORIES.slice(0, 2).map((c) => ({ id: BigInt(c.id), parentId: null, name: c.name })),
    );
    // MySQL's cursor: it continues after the second category.
    expect(JSON.parse(Buffer.from(first.cursor ?? "", "base64url").toString("utf8"))).toEqual({
      v: 1,
      store: "mysql",
      entity: "Category",
      where: expect.stringMatching(/^[\w-]{22}$/),
      last: ["2"],
    });
    phase.value = 4;
    const refused = await r
      .list("Category", { index: "GSI1", values: {}, limit: 2, cursor: first.cursor })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(CursorStoreChanged);
    expect(refused).toMatchObject({ issuedBy: "mysql", readingFrom: "dynamodb" });
    expect((refused as CursorStoreChanged).message).toBe(
      "this listing's cursor comes from mysql, and reads now come from dynamodb (the migration phase changed): restart the listing",
    );
  });

  it("a write in flight while the phase changes lands on every store its phase named (the phase is read once per call)", async () => {
    const { router, failures } = routing(1);
    // The phase moves on right after the router read it: 1 -> 2, 2 -> 3, 3 -> 4, 4 -> 5.
    for (const from of [1, 2, 3, 4] as const) {
      let reads = 0;
      const moving: PhaseSource = { phase: () => (reads++ === 0 ? from : ((from + 1) as Phase)) };
      const created = await router({ phase: moving }).create("User", user(20 + from));
      const { mysql, dynamodb } = stores();
      const inMysql = await mysql.get("User", { id: created.id });
      const inDynamo = await dynamodb.get("User", { id: created.id });
      // Phase 1 writes MySQL only (the backfill, started once the fleet is in phase 2, copies it); 2-4 write both.
      expect(inMysql, `from phase ${from}`).toEqual(created);
      if (from === 1) expect(inDynamo).toBeUndefined();
      else expect(inDynamo, `from phase ${from}`).toEqual(created);
    }
    expect(failures).toEqual([]);
  });

  it("times every store call, the authoritative delete too", async () => {
    const { router } = routing(2);
    const metrics = new Metrics();
    const r = router({ metrics });
    const created = await r.create("User", user(40));
    expect(await r.delete("User", { id: created.id })).toBe(true);
    const text = metrics.prometheus();
    for (const store of ["mysql", "dynamodb"]) {
      for (const operation of ["create", "delete"]) {
        expect(text).toContain(`ferry_store_request_seconds_count{store="${store}",operation="${operation}"} 1\n`);
      }
    }
  });
});

describe("the router's shadow reads in phase 3", () => {
  it("serves MySQL, compares DynamoDB after normalisation, and records a field-level mismatch", async () => {
    const { router, phase, failures } = routing(2);
    const created = await router().create("User", user(30));
    // DynamoDB drifts behind the router's back.
    await stores().dynamodb.update("User", { id: created.id }, { firstName: "Drifted" });
    phase.value = 3;
    const metrics = new Metrics();
    const mismatches: Mismatch[] = [];
    // Generous: a DynamoDB Local busy with other suites must not turn the comparison into a timeout.
    const shadow = shadowReader(10_000, metrics, mismatches);
    const r = router({ metrics, shadow });
    const served = await withCorrelationId("req-30", () => r.get<{ firstName: string }>("User", { id: created.id }));
    expect(served).toEqual(created);
    await shadow.idle();
    expect(mismatches).toEqual([
      {
        id: expect.stringMatching(UUID),
        at: expect.stringMatching(ISO_MILLIS),
        entity: "User",
        key: { id: String(created.id) },
        servedBy: "mysql",
        shadowFrom: "dynamodb",
        correlationId: "req-30",
        fields: [{ field: "firstName", served: "Ro", shadow: "Drifted" }],
      },
    ]);
    // Equal values: a comparison, no mismatch. The first page of categories, copied to DynamoDB as MySQL has them.
    const { mysql, dynamodb } = stores();
    const categories = await mysql.list("Category", { order: { attribute: "id", direction: "asc" }, limit: 5 });
    for (const category of categories.items) await dynamodb.create("Category", category);
    expect((await r.list("Category", { index: "GSI1", values: {}, limit: 5 })).items).toEqual(categories.items);
    await shadow.idle();
    expect(shadow.counters.comparisons.value({ entity: "User" })).toBe(1);
    expect(shadow.counters.comparisons.value({ entity: "Category" })).toBe(1);
    expect(shadow.counters.mismatches.value({ entity: "Category" })).toBe(0);
    expect(mismatches).toHaveLength(1);
    // The drift is still there when read again: a mismatch, not settled.
    expect(shadow.counters.settled.value({ entity: "User" })).toBe(0);
    // Every store call is timed: the get on each store, and the three rechecks of its difference on each.
    const text = metrics.prometheus();
    expect(text).toContain('ferry_store_request_seconds_count{store="mysql",operation="get"} 4\n');
    expect(text).toContain('ferry_store_request_seconds_count{store="dynamodb",operation="get"} 4\n');
    expect(failures).toEqual([]);
  });

  it("in a request that writes (shadowReadsAfter), a difference its own write made is read again and settles", async () => {
    const { router, phase, failures } = routing(2);
    const created = await router().create("User", user(37));
    phase.value = 3;
    const mismatches: Mismatch[] = [];
    const shadow = shadowReader(10_000, new Metrics(), mismatches);
    // What reaches DynamoDB, in order.
    const calls: string[] = [];
    const r = router({
      shadow,
      wrapDynamo: (store) => {
        const get = store.get.bind(store);
        const update = store.update.bind(store);
        store.get = (...args) => {
          calls.push("get");
          return get(...args);
        };
        store.update = (...args) => {
          calls.push("update");
          return update(...args);
        };
        return store;
      },
    });
    // The request reads the user (served by MySQL), then changes it (on MySQL and, before it answers, on DynamoDB).
    // Its shadow read starts only once it has answered: it reads the change, which the served read did not see.
    const served = await withCorrelationId("req-37", () =>
      shadowReadsAfter(async () => {
        const before = await r.get<{ firstName: string }>("User", { id: created.id });
        await r.update("User", { id: created.id }, { firstName: "Changed" });
        calls.push("answered");
        return before;
      }),
    );
    expect(served?.firstName).toBe("Ro");
    await shadow.idle();
    // The shadow read after the answer, then the recheck's (the recheck reads MySQL too).
    expect(calls).toEqual(["update", "answered", "get", "get"]);
    // Read again on both stores, the two agree: a comparison, settled, and no mismatch.
    expect(mismatches).toEqual([]);
    expect(shadow.counters.comparisons.value({ entity: "User" })).toBe(1);
    expect(shadow.counters.mismatches.value({ entity: "User" })).toBe(0);
    expect(shadow.counters.settled.value({ entity: "User" })).toBe(1);
    expect(failures).toEqual([]);
  });

  it("a DynamoDB that never answers does not hold the response past the shadow budget", async () => {
    // A port that accepts connections and never answers.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address() as AddressInfo;
    const hanging = dynamoDbClient(`http://127.0.0.1:${address.port}`);
    onTestFinished(async () => {
      hanging.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const { router } = routing(3);
    const shadow = shadowReader(50);
    const r = router({ dynamodb: hanging, shadow });
    const [first] = (await testbed.connection().query("SELECT id FROM users ORDER BY id LIMIT 1")) as unknown as [
      Array<{ id: string }>,
    ];
    const id = BigInt(first[0]?.id ?? "1");
    const started = performance.now();
    const served = await r.get("User", { id });
    const elapsed = performance.now() - started;
    expect(served).toEqual(await stores().mysql.get("User", { id }));
    // Served by MySQL while the shadow read still hangs; it is given up at the budget and counted.
    await expect.poll(() => shadow.counters.timeouts.value({ entity: "User" })).toBe(1);
    // A bound, not a value: how long MySQL takes to answer depends on the machine's load (a minute is far beyond it on
    // CI's loaded cores; the shadow read would hang for ever).
    expect(elapsed).toBeLessThan(60_000);
    // The hanging request itself is given up (aborted), not left to pile up.
    await expect.poll(() => shadow.state().inFlight).toBe(0);
  });

  it("the shadow budget counts the shadow read's own time, not the served read's", async () => {
    const { router, phase } = routing(2);
    const created = await router().create("User", user(31));
    // A MySQL that answers, slowly (a busy server): each statement takes longer than the shadow budget.
    const slow: MysqlExecutor = {
      query: async (options) => {
        await new Promise((resolve) => setTimeout(resolve, 25_000));
        return testbed.connection().query(options);
      },
    };
    // A budget a busy DynamoDB Local keeps easily (even on CI's loaded cores), and a MySQL slower than it.
    const shadow = shadowReader(20_000);
    phase.value = 3;
    const served = await router({ mysql: slow, shadow }).get("User", { id: created.id });
    expect(served).toEqual(created);
    await shadow.idle();
    // DynamoDB answers well within the budget once asked: a comparison, not a timeout.
    expect(shadow.counters.timeouts.value({ entity: "User" })).toBe(0);
    expect(shadow.counters.comparisons.value({ entity: "User" })).toBe(1);
  });
});

describe("the router's unique rules hold the same in every phase", () => {
  it("refuses a duplicate email in phase 5 as in phase 1", async () => {
    const { router, phase } = routing(1);
    await router().create("User", { ...user(7), email: "dup@example.com" });
    const inOne = await rejection(router().create("User", { ...user(8), email: "dup@example.com" }));
    expectError(
      inOne,
      UniqueViolation,
      uniqueViolation("mysql", "User", "uq_users_email", { email: "dup@example.com" }),
    );
    phase.value = 5;
    const stored = await router().create("User", { ...user(9), id: 900_000n, email: "dup5@example.com" });
    // MySQL's column defaults, applied by the router when DynamoDB is authoritative.
    expect(stored.createdAt).toMatch(ISO_MILLIS);
    expect(stored.updatedAt).toBe(stored.createdAt);
    expect(stored.isSeller).toBe(false);
    const inFive = await rejection(router().create("User", { ...user(10), id: 900_001n, email: "dup5@example.com" }));
    const email = { email: "dup5@example.com" };
    expectError(inFive, UniqueViolation, uniqueViolation("dynamodb", "User", "uq_users_email", email));
  });

  it("a second cart line for the same user and product is a UniqueViolation in every phase (not AlreadyExists)", async () => {
    const { router, phase } = routing(2);
    const buyer = await router().create("User", user(50));
    const thing = await router().create("Product", {
      sellerId: 1n,
      categoryId: 1n,
      name: "Router cart thing",
      imageUrl: "https://img.example/router-cart.png",
      price: "2.00",
      inventoryQuantity: 3,
    });
    const line = await router().create("ShoppingCart", { userId: buyer.id, productId: thing.id, quantity: 1 });
    /** The write refused in phases 1, 4 and 5 with MySQL's UniqueViolation over the buyer and the first product. */
    const refusedEverywhere = async (write: () => Promise<unknown>, what: string) => {
      for (const [p, store] of [
        [1, "mysql"],
        [4, "dynamodb"],
        [5, "dynamodb"],
      ] as const) {
        phase.value = p;
        const values = { userId: buyer.id, productId: thing.id };
        const violation = uniqueViolation(store, "ShoppingCart", "uq_shopping_carts_user_product", values);
        expectError(await rejection(write()), UniqueViolation, violation, `${what}, phase ${p}`);
      }
    };
    await refusedEverywhere(
      () => router().create("ShoppingCart", { userId: buyer.id, productId: thing.id, quantity: 2 }),
      "create",
    );
    // A second product's line moved onto the first's product: the same UniqueViolation (its DynamoDB key is taken).
    phase.value = 2;
    const other = await router().create("Product", {
      sellerId: 1n,
      categoryId: 1n,
      name: "Router cart other thing",
      imageUrl: "https://img.example/router-cart-2.png",
      price: "3.00",
      inventoryQuantity: 3,
    });
    const second = await router().create("ShoppingCart", { userId: buyer.id, productId: other.id, quantity: 1 });
    await refusedEverywhere(
      () =>
        router().update(
          "ShoppingCart",
          { id: second.id, userId: buyer.id, productId: other.id },
          { productId: thing.id },
        ),
      "move",
    );
    // The same line again (its own id) is still AlreadyExists on DynamoDB, as MySQL's PRIMARY says.
    const dynamodb = new DynamoEntityStore(stack.dynamodb(), testbed.codec(), { tablePrefix: stack.tablePrefix });
    const again = await rejection(dynamodb.create("ShoppingCart", line));
    const key = { id: line.id, userId: buyer.id, productId: thing.id };
    expectError(again, AlreadyExists, keyed("exists", "dynamodb", "ShoppingCart", key));
  });
});
