import { createServer } from "node:net";
import { ResourceNotFoundException } from "@aws-sdk/client-dynamodb";
import { loadValidContract } from "@ferry/contract";
import { connectMysql, dynamoDbClient } from "@ferry/stack";
import { SeededRandom } from "@ferry/stack/random";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Codec, createCodec, type EntityValue } from "../src/codec/index.ts";
import { readShadowCounts, readShadowMinutes } from "../src/control/index.ts";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import { Metrics } from "../src/metrics/index.ts";
import { MysqlEntityStore } from "../src/mysql/index.ts";
import {
  ITEM_FIELD,
  type Mismatch,
  MismatchLog,
  MismatchLogError,
  ShadowBudgetExceeded,
  type ShadowErrorContext,
  ShadowReader,
  type ShadowReaderOptions,
  shadowReadsAfter,
  withCorrelationId,
} from "../src/shadow/index.ts";
import { applyTables } from "../src/tables/index.ts";

const stack = useTestStack();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let codec: Codec;
let connection: Awaited<ReturnType<typeof connectMysql>>;
let mysql: MysqlEntityStore;
let dynamodb: DynamoEntityStore;
let userId: unknown;
let productIds: unknown[];
const otherClients: ReturnType<typeof dynamoDbClient>[] = [];

beforeAll(async () => {
  const contract = await loadValidContract(new URL("../../../contract/store.yaml", import.meta.url).pathname);
  codec = createCodec(contract);
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
  connection = await connectMysql(stack.mysqlUrl);
  await applyTables(stack.dynamodb(), contract, { prefix: stack.tablePrefix });
  mysql = new MysqlEntityStore(connection, codec);
  dynamodb = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix });
  const [users] = await connection.query("SELECT id FROM users ORDER BY id LIMIT 1");
  const [products] = await connection.query("SELECT id FROM products ORDER BY id LIMIT 3");
  userId = (users as Array<{ id: unknown }>)[0]?.id;
  productIds = (products as Array<{ id: unknown }>).map((row) => row.id);
  // The demo set's first user and products (MySQL's BIGINT comes back as a string).
  expect([userId, productIds]).toEqual(["1", ["1", "2", "3"]]);
});

afterAll(async () => {
  await connection.end();
  for (const client of otherClients) client.destroy();
});

/** A reader of its own: its own metrics, its own mismatch log and shadow counters (a control table of its own). */
function shadowReader(name: string, options: Partial<ShadowReaderOptions> = {}) {
  const metrics = options.metrics ?? new Metrics();
  const tablePrefix = `${stack.tablePrefix}${name}_`;
  const log = new MismatchLog(stack.dynamodb(), { tablePrefix, metrics });
  const errors: Array<{ error: unknown; context: ShadowErrorContext }> = [];
  const reader = new ShadowReader({
    codec,
    metrics,
    sampleRate: () => 1,
    sink: log,
    control: { client: stack.dynamodb(), tablePrefix },
    flushIntervalMs: 60_000,
    // Generous: a DynamoDB Local busy with the other suites must not turn a comparison into a timeout; the tests of
    // the budget give their own.
    budgetMs: 10_000,
    onError: (error, context) => errors.push({ error, context }),
    ...options,
  });
  const count = (counter: "comparisons" | "mismatches" | "errors" | "timeouts" | "skipped") =>
    counter === "skipped"
      ? reader.counters.skipped.value({ entity: "OrderItem", reason: "in-flight" })
      : reader.counters[counter].value({ entity: "OrderItem" });
  return { reader, log, metrics, errors, tablePrefix, count };
}

/** A new order on MySQL with three items (of three products), for one test; its id. */
async function newOrder(): Promise<bigint> {
  const order = await mysql.create("Order", { userId: BigInt(String(userId)), totalAmount: "30.00", status: "paid" });
  const orderId = order.id as bigint;
  for (const [i, productId] of productIds.entries()) {
    await mysql.create("OrderItem", {
      orderId,
      productId: BigInt(String(productId)),
      quantity: i + 1,
      priceAtTime: `${10 + i}.50`,
    });
  }
  return orderId;
}

/** The items of an order on MySQL (ordered by product id, as DynamoDB's sort key orders them). */
async function orderItems(orderId: bigint): Promise<EntityValue[]> {
  const page = await mysql.list("OrderItem", {
    where: { orderId },
    order: { attribute: "productId", direction: "asc" },
    limit: 100,
  });
  return page.items;
}

/** Copies an order item to DynamoDB as the dual write does: with its denormalised copies of the product. */
async function copyToDynamo(item: EntityValue): Promise<void> {
  const product = await mysql.get("Product", { id: item.productId });
  await dynamodb.create("OrderItem", { ...item, productName: product?.name, productImageUrl: product?.imageUrl });
}

/** A mismatch the log recorded for the order item (served by MySQL, shadowed from DynamoDB); its id and time are its own. */
function recorded(item: EntityValue, correlationId: unknown, fields: Mismatch["fields"]) {
  return {
    id: expect.stringMatching(UUID),
    at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    entity: "OrderItem",
    key: { id: String(item.id), orderId: String(item.orderId), productId: String(item.productId) },
    servedBy: "mysql",
    shadowFrom: "dynamodb",
    correlationId,
    fields,
  };
}

const keyOf = (item: EntityValue) => ({ id: item.id, orderId: item.orderId, productId: item.productId });

describe("ShadowReader", () => {
  it("counts equal results as a comparison without a mismatch, though DynamoDB's item has denormalised copies", async () => {
    const { reader, log, count } = shadowReader("equal");
    const [item] = await orderItems(await newOrder());
    if (!item) throw new Error("no order item");
    await copyToDynamo(item);
    const onDynamo = await dynamodb.get("OrderItem", keyOf(item));
    const product = await mysql.get("Product", { id: item.productId });
    expect(onDynamo).toEqual({ ...item, productName: product?.name, productImageUrl: product?.imageUrl });

    const served = await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served: mysql.get("OrderItem", keyOf(item)),
      shadow: () => dynamodb.get("OrderItem", keyOf(item)),
    });
    expect(served).toEqual(item);
    await reader.idle();
    expect([count("comparisons"), count("mismatches"), count("errors"), count("timeouts")]).toEqual([1, 0, 0, 0]);
    await log.flush();
    expect((await log.list()).mismatches).toEqual([]);
  });

  it("records a changed field as one mismatch with both normalised values, the key and the correlation id", async () => {
    const { reader, log, count } = shadowReader("changed");
    const [item] = await orderItems(await newOrder());
    if (!item) throw new Error("no order item");
    await copyToDynamo(item);
    await dynamodb.update("OrderItem", keyOf(item), { quantity: Number(item.quantity) + 5 });

    const served = await withCorrelationId("req-42", () =>
      reader.read({
        entity: "OrderItem",
        key: keyOf(item),
        served: mysql.get("OrderItem", keyOf(item)),
        shadow: () => dynamodb.get("OrderItem", keyOf(item)),
      }),
    );
    // The served (MySQL) value, whatever the shadow says.
    expect(served?.quantity).toBe(item.quantity);
    await reader.idle();
    expect([count("comparisons"), count("mismatches")]).toEqual([1, 1]);
    await log.flush();
    const { mismatches } = await log.list();
    expect(mismatches).toEqual([
      recorded(item, "req-42", [
        { field: "quantity", served: String(item.quantity), shadow: String(Number(item.quantity) + 5) },
      ]),
    ]);
    expect(Date.parse(mismatches[0]?.at ?? "")).not.toBeNaN();

    // A correlation id given with the read wins; with none at all, each read gets a random one.
    await withCorrelationId("outer", () =>
      reader.read({
        entity: "OrderItem",
        key: keyOf(item),
        served: mysql.get("OrderItem", keyOf(item)),
        shadow: () => dynamodb.get("OrderItem", keyOf(item)),
        correlationId: "given",
      }),
    );
    await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served: mysql.get("OrderItem", keyOf(item)),
      shadow: () => dynamodb.get("OrderItem", keyOf(item)),
    });
    await reader.idle();
    await log.flush();
    const ids = (await log.list()).mismatches.map((mismatch) => mismatch.correlationId);
    // Sorted, as two mismatches may be recorded within the same millisecond; a UUID sorts before "g".
    expect([...ids].sort()).toEqual([expect.stringMatching(UUID), "given", "req-42"]);
  });

  it("never calls the shadow read at sampling rate 0", async () => {
    const { reader, count } = shadowReader("never", { sampleRate: () => 0 });
    const [item] = await orderItems(await newOrder());
    let calls = 0;
    for (let i = 0; i < 20; i++) {
      const served = await reader.read({
        entity: "OrderItem",
        key: keyOf(item ?? {}),
        served: Promise.resolve(item),
        shadow: async () => {
          calls++;
          return item;
        },
      });
      expect(served).toBe(item);
    }
    await reader.idle();
    expect(calls).toBe(0);
    expect(count("comparisons")).toBe(0);
  });

  it("in a read-only request (shadowReadsAfter), starts the shadow read only once the request has answered", async () => {
    const { reader, count } = shadowReader("after");
    const [item] = await orderItems(await newOrder());
    const events: string[] = [];
    const answer = await shadowReadsAfter(async () => {
      const served = await reader.read({
        entity: "OrderItem",
        key: keyOf(item ?? {}),
        served: Promise.resolve(item),
        startAfter: Promise.resolve(),
        shadow: async () => {
          events.push("shadow");
          return item;
        },
      });
      // The request goes on (more awaits, as rendering a page would) and no shadow read has started yet.
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      events.push("answered");
      return served;
    });
    expect(answer).toBe(item);
    await reader.idle();
    expect(events).toEqual(["answered", "shadow"]);
    expect(count("comparisons")).toBe(1);
    // Outside such a request it starts as soon as the served read has: before the caller's next turns.
    const outside: string[] = [];
    await reader.read({
      entity: "OrderItem",
      key: keyOf(item ?? {}),
      served: Promise.resolve(item),
      startAfter: Promise.resolve(),
      shadow: async () => {
        outside.push("shadow");
        return item;
      },
    });
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    outside.push("answered");
    await reader.idle();
    expect(outside).toEqual(["shadow", "answered"]);
  });

  it("shadows about half the reads at rate 0.5, and reads the rate on every call", async () => {
    let rate = 0.5;
    const random = new SeededRandom(7);
    const { reader, count } = shadowReader("half", { sampleRate: () => rate, random: () => random.fraction() });
    const [item] = await orderItems(await newOrder());
    let calls = 0;
    const read = () =>
      reader.read({
        entity: "OrderItem",
        key: keyOf(item ?? {}),
        served: Promise.resolve(item),
        shadow: async () => {
          calls++;
          return item;
        },
      });
    for (let i = 0; i < 1000; i++) await read();
    await reader.idle();
    // Bounds, not a value: how many reads are sampled is the reader's business, "about half" is the contract.
    expect(calls).toBeGreaterThan(450);
    expect(calls).toBeLessThan(550);
    expect(count("comparisons")).toBe(calls);
    expect(count("mismatches")).toBe(0);

    // A change of the setting applies to the next read.
    rate = 1;
    const before = calls;
    for (let i = 0; i < 10; i++) await read();
    rate = 0;
    for (let i = 0; i < 10; i++) await read();
    expect(calls - before).toBe(10);
  });

  it("returns the served result while a hanging shadow read is still running, and counts it as a timeout", async () => {
    const { reader, count, errors } = shadowReader("hang", { budgetMs: 50, maxInFlight: 2 });
    const [item] = await orderItems(await newOrder());
    if (!item) throw new Error("no order item");
    const hangs: NodeJS.Timeout[] = [];
    const signals: AbortSignal[] = [];
    let shadowsSettled = 0;
    /** A shadow read that hangs for longer than the test may take, ignoring its abort signal (cleared at the end). */
    const hanging = (signal: AbortSignal) => {
      signals.push(signal);
      return new Promise<EntityValue>((resolve) => {
        hangs.push(
          setTimeout(() => {
            shadowsSettled++;
            resolve(item);
          }, 600_000),
        );
      });
    };
    try {
      // A real served read: its result is back while the shadow read still hangs.
      const served = await reader.read({
        entity: "OrderItem",
        key: keyOf(item),
        served: mysql.get("OrderItem", keyOf(item)),
        shadow: hanging,
      });
      expect(served).toEqual(item);
      expect(shadowsSettled).toBe(0);

      // A served value that is already there comes back without waiting for the budget either: no timer has run
      // yet, so its comparison is still pending and no timeout has been counted for it.
      const timeoutsBefore = count("timeouts");
      const immediate = await reader.read({
        entity: "OrderItem",
        key: keyOf(item),
        served: Promise.resolve(item),
        shadow: hanging,
      });
      expect(immediate).toBe(item);
      expect(count("timeouts")).toBe(timeoutsBefore);
      // A bound: the first read's comparison may or may not still be pending too (it waited for MySQL).
      expect(reader.state().comparing).toBeGreaterThanOrEqual(1);

      // The comparisons give up at the budget, well before the hangs end: timeouts, nothing thrown, nothing compared.
      await reader.idle();
      expect(shadowsSettled).toBe(0);
      expect(count("timeouts")).toBe(2);
      expect([count("comparisons"), count("errors")]).toEqual([0, 0]);
      expect(errors).toEqual([]);
      expect(signals.map((signal) => signal.aborted)).toEqual([true, true]);
      expect(signals[0]?.reason).toBeInstanceOf(ShadowBudgetExceeded);

      // The abandoned reads still run: with maxInFlight 2 the next sampled read is served and not shadowed.
      expect(reader.state().inFlight).toBe(2);
      let called = false;
      const next = await reader.read({
        entity: "OrderItem",
        key: keyOf(item),
        served: Promise.resolve(item),
        shadow: async () => {
          called = true;
          return item;
        },
      });
      expect(next).toBe(item);
      expect(called).toBe(false);
      expect(count("skipped")).toBe(1);
    } finally {
      for (const hang of hangs) clearTimeout(hang);
    }
  });

  it("returns the served result when the shadow read fails, counting the error; a served error is passed on as is", async () => {
    const { reader, count, errors } = shadowReader("fail");
    const [item] = await orderItems(await newOrder());
    if (!item) throw new Error("no order item");
    const unreachable = new Error("DynamoDB is unreachable");
    const served = await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served: mysql.get("OrderItem", keyOf(item)),
      shadow: () => Promise.reject(unreachable),
    });
    expect(served).toEqual(item);
    // A shadow function that throws before returning a promise is counted the same way.
    const again = await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served: Promise.resolve(item),
      shadow: () => {
        throw unreachable;
      },
    });
    expect(again).toBe(item);
    // A real failing shadow read: a table that does not exist.
    const missing = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: `${stack.tablePrefix}missing_` });
    await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served: Promise.resolve(item),
      shadow: () => missing.get("OrderItem", keyOf(item)),
    });
    await reader.idle();
    expect([count("errors"), count("comparisons"), count("timeouts")]).toEqual([3, 0, 0]);
    expect(errors.slice(0, 2)).toEqual([
      { error: unreachable, context: { stage: "shadow", entity: "OrderItem" } },
      { error: unreachable, context: { stage: "shadow", entity: "OrderItem" } },
    ]);
    expect(errors[2]).toEqual({
      error: expect.objectContaining({ message: "Cannot do operations on a non-existent table" }),
      context: { stage: "shadow", entity: "OrderItem" },
    });
    expect(errors[2]?.error).toBeInstanceOf(ResourceNotFoundException);
    expect(errors).toHaveLength(3);

    // The served store's error reaches the caller unchanged; there is nothing to compare.
    const refused = new Error("MySQL refused the query");
    await expect(
      reader.read({
        entity: "OrderItem",
        key: keyOf(item),
        served: Promise.reject(refused),
        shadow: async () => item,
      }),
    ).rejects.toBe(refused);
    await reader.idle();
    expect([count("errors"), count("comparisons")]).toEqual([3, 0]);
  });

  it("counts an item read by key on one side only as a mismatch of the whole item, and none on both as agreement", async () => {
    const { reader, log, count } = shadowReader("presence");
    const [item] = await orderItems(await newOrder());
    if (!item) throw new Error("no order item");
    const nowhere = { ...keyOf(item), id: BigInt(String(item.id)) + 1_000_000n };
    for (const key of [keyOf(item), nowhere]) {
      await reader.read({
        entity: "OrderItem",
        key,
        served: mysql.get("OrderItem", key),
        shadow: () => dynamodb.get("OrderItem", key),
      });
    }
    await reader.idle();
    expect([count("comparisons"), count("mismatches")]).toEqual([2, 1]);
    await log.flush();
    const { mismatches } = await log.list();
    expect(mismatches).toEqual([
      recorded(item, expect.stringMatching(UUID), [
        { field: ITEM_FIELD, served: JSON.stringify(codec.entity("OrderItem").normalize(item)), shadow: null },
      ]),
    ]);
  });

  it("compares listing pages by identity: an item missing on the shadow side is a mismatch", async () => {
    const { reader, log, count } = shadowReader("page");
    const orderId = await newOrder();
    const items = await orderItems(orderId);
    const missing = items.at(-1) as EntityValue;
    for (const item of items.slice(0, -1)) await copyToDynamo(item);

    const page = await withCorrelationId("list-1", () =>
      reader.readPage({
        entity: "OrderItem",
        key: { orderId },
        served: mysql.list("OrderItem", {
          where: { orderId },
          order: { attribute: "productId", direction: "asc" },
          limit: 100,
        }),
        shadow: () => dynamodb.query("OrderItem", { values: { orderId }, limit: 100 }),
      }),
    );
    expect(page.items).toEqual(items);
    await reader.idle();
    // One page, one comparison; it differs, so one mismatch, recorded for the missing item only.
    expect([count("comparisons"), count("mismatches")]).toEqual([1, 1]);
    await log.flush();
    const { mismatches } = await log.list();
    expect(mismatches).toEqual([
      recorded(missing, "list-1", [
        { field: ITEM_FIELD, served: JSON.stringify(codec.entity("OrderItem").normalize(missing)), shadow: null },
      ]),
    ]);

    // The same page with the item on both sides, in another order, is no mismatch.
    await copyToDynamo(missing);
    await reader.readPage({
      entity: "OrderItem",
      key: { orderId },
      served: mysql.list("OrderItem", { where: { orderId }, limit: 100 }),
      shadow: () => dynamodb.query("OrderItem", { values: { orderId }, order: "desc", limit: 100 }),
    });
    await reader.idle();
    expect([count("comparisons"), count("mismatches")]).toEqual([2, 1]);
  });

  it("reads a difference again: a write that crossed the two reads settles, and is no mismatch", async () => {
    const { reader, log, count } = shadowReader("crossed", { recheckMs: 20 });
    const [item] = await orderItems(await newOrder());
    if (!item) throw new Error("no order item");
    await copyToDynamo(item);
    const quantity = Number(item.quantity);
    const bothAgain = () => Promise.all([mysql.get("OrderItem", keyOf(item)), dynamodb.get("OrderItem", keyOf(item))]);
    // The served read answers before the write; the write reaches both stores before the shadow read.
    const crossing = (to: number) => async () => {
      await dynamodb.update("OrderItem", keyOf(item), { quantity: to });
      await mysql.update("OrderItem", keyOf(item), { quantity: to });
      return dynamodb.get("OrderItem", keyOf(item));
    };
    const served = mysql.get("OrderItem", keyOf(item));
    await served;
    await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served,
      shadow: crossing(quantity + 1),
      recheck: bothAgain,
    });
    await reader.idle();
    const settled = () => reader.counters.settled.value({ entity: "OrderItem" });
    expect([count("comparisons"), count("mismatches"), settled()]).toEqual([1, 0, 1]);
    // Without a recheck the same crossing is a mismatch (as it was before rechecks).
    const before = mysql.get("OrderItem", keyOf(item));
    await before;
    await reader.read({ entity: "OrderItem", key: keyOf(item), served: before, shadow: crossing(quantity + 2) });
    await reader.idle();
    expect([count("comparisons"), count("mismatches"), settled()]).toEqual([2, 1, 1]);
    await log.flush();
    expect((await log.list()).mismatches.map((m) => m.fields)).toEqual([
      [{ field: "quantity", served: String(quantity + 1), shadow: String(quantity + 2) }],
    ]);
  });

  it("drops a comparison that a move of the authoritative store came between: neither a comparison nor a mismatch", async () => {
    const { reader, log, count } = shadowReader("moved", { recheckMs: 20 });
    const [item] = await orderItems(await newOrder());
    if (!item) throw new Error("no order item");
    await copyToDynamo(item);
    // Under the new phase the write reached DynamoDB only (its copy to MySQL waits): the stores still differ when read
    // again, and the process routes by phase 4 by then.
    let phase = 3;
    const served = mysql.get("OrderItem", keyOf(item));
    await served;
    await dynamodb.update("OrderItem", keyOf(item), { quantity: Number(item.quantity) + 5 });
    phase = 4;
    await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served,
      shadow: () => dynamodb.get("OrderItem", keyOf(item)),
      recheck: () => Promise.all([mysql.get("OrderItem", keyOf(item)), dynamodb.get("OrderItem", keyOf(item))]),
      stillShadowing: () => phase === 3,
    });
    await reader.idle();
    expect([count("comparisons"), count("mismatches")]).toEqual([0, 0]);
    // The same difference within phase 3 is a mismatch.
    phase = 3;
    const again = mysql.get("OrderItem", keyOf(item));
    await again;
    await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served: again,
      shadow: () => dynamodb.get("OrderItem", keyOf(item)),
      recheck: () => Promise.all([mysql.get("OrderItem", keyOf(item)), dynamodb.get("OrderItem", keyOf(item))]),
      stillShadowing: () => phase === 3,
    });
    await reader.idle();
    expect([count("comparisons"), count("mismatches")]).toEqual([1, 1]);
    await log.flush();
  });

  it("reads a difference again while it lasts: a copy that lands after the first recheck settles too, and is no mismatch", async () => {
    const { reader, count } = shadowReader("slow-copy", { recheckMs: 20 });
    const [item] = await orderItems(await newOrder());
    if (!item) throw new Error("no order item");
    await copyToDynamo(item);
    const quantity = Number(item.quantity);
    // A write reached MySQL; its copy to DynamoDB is slow (a loaded machine): it lands only before the second recheck.
    await mysql.update("OrderItem", keyOf(item), { quantity: quantity + 3 });
    let rechecks = 0;
    await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served: mysql.get("OrderItem", keyOf(item)),
      shadow: () => dynamodb.get("OrderItem", keyOf(item)),
      recheck: async () => {
        rechecks++;
        if (rechecks === 2) await dynamodb.update("OrderItem", keyOf(item), { quantity: quantity + 3 });
        return Promise.all([mysql.get("OrderItem", keyOf(item)), dynamodb.get("OrderItem", keyOf(item))]);
      },
    });
    await reader.idle();
    const settled = reader.counters.settled.value({ entity: "OrderItem" });
    expect([rechecks, count("comparisons"), count("mismatches"), settled]).toEqual([2, 1, 0, 1]);
  });

  it("keeps a difference still there when read again as a mismatch (what differs then); a failed recheck keeps the first", async () => {
    const { reader, log, count, errors } = shadowReader("still", { recheckMs: 20 });
    const [item] = await orderItems(await newOrder());
    if (!item) throw new Error("no order item");
    await copyToDynamo(item);
    const quantity = Number(item.quantity);
    await dynamodb.update("OrderItem", keyOf(item), { quantity: quantity + 5 });
    let rechecks = 0;
    await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served: mysql.get("OrderItem", keyOf(item)),
      shadow: () => dynamodb.get("OrderItem", keyOf(item)),
      recheck: async () => {
        rechecks++;
        // Meanwhile the divergent item changed again: the mismatch records it as it is now.
        await dynamodb.update("OrderItem", keyOf(item), { quantity: quantity + 7 });
        return Promise.all([mysql.get("OrderItem", keyOf(item)), dynamodb.get("OrderItem", keyOf(item))]);
      },
    });
    await reader.idle();
    // A recheck that fails is counted as an error (and reported), and the first difference stands as a mismatch.
    await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served: mysql.get("OrderItem", keyOf(item)),
      shadow: () => dynamodb.get("OrderItem", keyOf(item)),
      recheck: () => Promise.reject(new Error("recheck refused")),
    });
    await reader.idle();
    // Read again three times (after 20, 80 and 320 ms), every time different.
    expect([rechecks, count("comparisons"), count("mismatches"), count("errors")]).toEqual([3, 2, 2, 1]);
    expect(reader.counters.settled.value({ entity: "OrderItem" })).toBe(0);
    expect(errors.map((e) => [String(e.error), e.context.stage])).toEqual([["Error: recheck refused", "shadow"]]);
    await log.flush();
    expect((await log.list()).mismatches.map((m) => m.fields)).toEqual([
      [{ field: "quantity", served: String(quantity), shadow: String(quantity + 7) }],
      [{ field: "quantity", served: String(quantity), shadow: String(quantity + 7) }],
    ]);
  });

  it("reads a differing page again on both stores: an item added between the reads settles, a page that still differs does not", async () => {
    const { reader, log, count } = shadowReader("page-crossed", { recheckMs: 20 });
    const orderId = await newOrder();
    const items = await orderItems(orderId);
    const late = items.at(-1) as EntityValue;
    for (const item of items.slice(0, -1)) await copyToDynamo(item);
    const servedPage = () => mysql.list("OrderItem", { where: { orderId }, limit: 100 });
    const shadowPage = (limit: number) => dynamodb.query("OrderItem", { values: { orderId }, limit });
    let rechecks = 0;
    await reader.readPage({
      entity: "OrderItem",
      key: { orderId },
      served: servedPage(),
      // The shadow page is read before the item's copy reaches DynamoDB; the copy lands right after.
      shadow: async () => {
        const page = await shadowPage(100);
        await copyToDynamo(late);
        return page;
      },
      recheck: () => {
        rechecks++;
        return Promise.all([servedPage(), shadowPage(100)]);
      },
    });
    await reader.idle();
    const settled = () => reader.counters.settled.value({ entity: "OrderItem" });
    expect([rechecks, count("comparisons"), count("mismatches"), settled()]).toEqual([1, 1, 0, 1]);
    // Every item is the same on both stores by key, but DynamoDB's page leaves one out every time it is read: the
    // page itself differs, and reading the items by key again would not show it.
    await reader.readPage({
      entity: "OrderItem",
      key: { orderId },
      served: servedPage(),
      shadow: () => shadowPage(items.length - 1),
      recheck: () => Promise.all([servedPage(), shadowPage(items.length - 1)]),
    });
    await reader.idle();
    expect([count("comparisons"), count("mismatches"), settled()]).toEqual([2, 1, 1]);
    await log.flush();
    expect((await log.list()).mismatches.map((m) => [m.key.productId, m.fields[0]?.field])).toEqual([
      [String(late.productId), ITEM_FIELD],
    ]);
  });

  it("adds its comparison counts to the control table on flush() and stop(), for the phase store's 3 -> 4 check", async () => {
    const { reader, tablePrefix, count } = shadowReader("counts");
    const [a, b] = await orderItems(await newOrder());
    if (!a || !b) throw new Error("no order items");
    const compare = (served: EntityValue, shadow: EntityValue) =>
      reader.read({
        entity: "OrderItem",
        key: keyOf(served),
        served: Promise.resolve(served),
        shadow: async () => shadow,
      });
    await compare(a, a);
    await compare(b, b);
    await compare(a, { ...a, priceAtTime: "0.01" });
    await reader.idle();
    expect([count("comparisons"), count("mismatches")]).toEqual([3, 1]);
    // Not yet added (the interval is a minute).
    expect(await readShadowCounts(stack.dynamodb(), tablePrefix)).toMatchObject({ comparisons: 0, mismatches: 0 });
    await reader.flush();
    expect(await readShadowCounts(stack.dynamodb(), tablePrefix)).toMatchObject({ comparisons: 3, mismatches: 1 });
    expect(reader.state().unflushed).toEqual({ comparisons: 0, mismatches: 0, errors: 0, timeouts: 0 });

    await compare(b, b);
    // A shadow read that fails is counted as an error, in the control table too.
    await reader.read({
      entity: "OrderItem",
      key: keyOf(a),
      served: Promise.resolve(a),
      shadow: async () => {
        throw new Error("the shadow store is down");
      },
    });
    await reader.idle();
    await reader.stop();
    expect(await readShadowCounts(stack.dynamodb(), tablePrefix)).toMatchObject({
      comparisons: 4,
      mismatches: 1,
      errors: 1,
      timeouts: 0,
    });
    // The same counts by the minute, for the console's chart.
    const minutes = await readShadowMinutes(stack.dynamodb(), tablePrefix, {
      from: Date.now() - 10 * 60_000,
      to: Date.now() + 60_000,
    });
    const summed = (name: "comparisons" | "mismatches" | "errors" | "timeouts") =>
      minutes.reduce((sum, minute) => sum + minute[name], 0);
    expect([summed("comparisons"), summed("mismatches"), summed("errors"), summed("timeouts")]).toEqual([4, 1, 1, 0]);
    expect(minutes.every((minute) => /^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/.test(minute.minute))).toBe(true);
    // Stopped: reads are still served, and no longer shadowed.
    let called = false;
    expect(
      await reader.read({
        entity: "OrderItem",
        key: keyOf(a),
        served: Promise.resolve(a),
        shadow: async () => {
          called = true;
          return a;
        },
      }),
    ).toBe(a);
    expect(called).toBe(false);
  });

  it("exposes its counters and the stores' latency histogram as Prometheus text", async () => {
    const metrics = new Metrics();
    const { reader, log } = shadowReader("prometheus", { metrics });
    const items = await orderItems(await newOrder());
    const [, same, changed] = items as [EntityValue, EntityValue, EntityValue];
    await copyToDynamo(same);
    await copyToDynamo({ ...changed, quantity: Number(changed.quantity) + 1 });
    // As the router calls it: each store call timed, the served one started first.
    const read = (item: EntityValue) =>
      reader.read({
        entity: "OrderItem",
        key: keyOf(item),
        served: metrics.time("mysql", "get", () => mysql.get("OrderItem", keyOf(item))),
        shadow: () => metrics.time("dynamodb", "get", () => dynamodb.get("OrderItem", keyOf(item))),
      });
    await read(same);
    await read(changed);
    await reader.read({
      entity: "OrderItem",
      key: keyOf(same),
      served: Promise.resolve(same),
      shadow: () => Promise.reject(new Error("down")),
    });
    await reader.idle();
    await log.flush();

    const text = metrics.prometheus();
    for (const line of [
      "# TYPE ferry_shadow_comparisons_total counter",
      'ferry_shadow_comparisons_total{entity="OrderItem"} 2',
      'ferry_shadow_mismatches_total{entity="OrderItem"} 1',
      'ferry_shadow_errors_total{entity="OrderItem"} 1',
      "# TYPE ferry_shadow_timeouts_total counter",
      "# TYPE ferry_store_request_seconds histogram",
      'ferry_store_request_seconds_count{store="mysql",operation="get"} 2',
      'ferry_store_request_seconds_count{store="dynamodb",operation="get"} 2',
      'ferry_store_request_seconds_bucket{store="dynamodb",operation="get",le="+Inf"} 2',
      "ferry_shadow_mismatch_log_errors_total 0",
    ]) {
      expect(text).toContain(`${line}\n`);
    }
  });
});

describe("MismatchLog", () => {
  function mismatch(n: number, entity: string): Mismatch {
    return {
      id: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
      at: new Date(Date.UTC(2030, 0, 1, 0, 0, n)).toISOString(),
      entity,
      key: { id: String(n) },
      servedBy: "mysql",
      shadowFrom: "dynamodb",
      correlationId: `req-${n}`,
      fields: [{ field: "name", served: `served ${n}`, shadow: n % 2 === 0 ? null : `shadow ${n}` }],
    };
  }

  it("lists what it recorded newest first, a page at a time, and by entity", async () => {
    const log = new MismatchLog(stack.dynamodb(), { tablePrefix: `${stack.tablePrefix}log_` });
    // 40 mismatches: more than one batch of 25.
    for (let n = 1; n <= 40; n++) log.record(mismatch(n, n % 4 === 0 ? "Order" : "User"));
    await log.flush();
    expect(log.state()).toEqual({ recorded: 40, written: 40, failed: 0, dropped: 0, queued: 0 });

    const seen: Mismatch[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await log.list({ limit: 15, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...page.mismatches);
      cursor = page.cursor;
      pages++;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen.map((m) => m.key.id)).toEqual(Array.from({ length: 40 }, (_, i) => String(40 - i)));
    expect(seen[0]).toEqual(mismatch(40, "Order"));
    expect(seen[1]).toEqual(mismatch(39, "User"));

    const orders = await log.list({ entity: "Order", limit: 4 });
    expect(orders.mismatches.map((m) => m.key.id)).toEqual(["40", "36", "32", "28"]);
    const rest = await log.list({ entity: "Order", limit: 100, cursor: orders.cursor as string });
    expect(rest.mismatches.map((m) => m.key.id)).toEqual(["24", "20", "16", "12", "8", "4"]);
    expect(rest.cursor).toBeUndefined();
    expect((await log.list({ limit: 40 })).cursor).toBeUndefined();

    await expect(log.list({ cursor: "not-a-cursor" })).rejects.toBeInstanceOf(MismatchLogError);
    await expect(log.list({ limit: 0 })).rejects.toThrow("a mismatch list limit is a whole number from 1 to 1000");
  });

  it("never throws when DynamoDB is unreachable: failed writes are counted and kept, overflow is dropped", async () => {
    const port = await closedPort();
    const client = dynamoDbClient(`http://127.0.0.1:${port}`);
    otherClients.push(client);
    const metrics = new Metrics();
    const failures: unknown[] = [];
    const log = new MismatchLog(client, {
      tablePrefix: `${stack.tablePrefix}down_`,
      metrics,
      maxQueued: 2,
      onError: (error) => failures.push(error),
    });
    log.record(mismatch(1, "User"));
    log.record(mismatch(2, "User"));
    log.record(mismatch(3, "User"));
    await log.flush();
    expect(log.state()).toMatchObject({ recorded: 2, written: 0, dropped: 1, queued: 2 });
    // A bound: the flush failed once; a retry the log schedules by itself may have failed again by now. Each failed
    // write of the two queued mismatches is counted, and told once.
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(log.state().failed).toBe(2 * failures.length);
    const text = metrics.prometheus();
    expect(text).toContain("ferry_shadow_mismatch_log_dropped_total 1\n");
    expect(text).toContain(`ferry_shadow_mismatch_log_errors_total ${failures.length}\n`);

    // The shadow counters are kept for the next flush when the control table cannot be reached.
    const reader = new ShadowReader({
      codec,
      metrics,
      sampleRate: () => 1,
      sink: log,
      control: { client, tablePrefix: `${stack.tablePrefix}down_` },
      flushIntervalMs: 60_000,
    });
    const [item] = await orderItems(await newOrder());
    if (!item) throw new Error("no order item");
    await reader.read({
      entity: "OrderItem",
      key: keyOf(item),
      served: Promise.resolve(item),
      shadow: async () => item,
    });
    await reader.idle();
    await reader.flush();
    expect(reader.state().unflushed).toEqual({ comparisons: 1, mismatches: 0, errors: 0, timeouts: 0 });
    expect(reader.counters.countFlushErrors.value()).toBe(1);
    await log.stop();
  });
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
