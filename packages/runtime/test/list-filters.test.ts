/**
 * A listing's filters (the contract's `filters`, the router's `filter`): the same items, in the same order, page by
 * page, on MySQL (WHERE) and on DynamoDB (a key condition on the sort key's stretch, and a filter), and the other way
 * round when the page asks for it.
 */
import { type DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { beforeAll, describe, expect, it } from "vitest";
import type { Condition } from "../src/condition.ts";
import type { EntityRouter } from "../src/router/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { routingOver } from "./routing.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const routing = routingOver(stack, testbed);

// Prices on both sides of 10 and 100 (text order and number order differ there), and stock 0 on some.
const PRICES = ["9.99", "10.00", "10.00", "99.50", "100.00", "2.05", "1000.00", "0.50", "55.55", "10.01"];
const STOCK = [3, 0, 5, 1, 0, 2, 7, 0, 4, 9];

let categoryId: bigint;
let products: Array<{ id: bigint; price: string; inventoryQuantity: number }>;

beforeAll(async () => {
  const { router } = routing(2);
  const category = await router().create("Category", { name: "Filter test", parentId: null });
  categoryId = category.id as bigint;
  products = [];
  for (const [i, price] of PRICES.entries()) {
    const created = await router().create("Product", {
      sellerId: 1n,
      categoryId,
      name: `Filtered ${i}`,
      price,
      inventoryQuantity: STOCK[i],
    });
    products.push({ id: created.id as bigint, price, inventoryQuantity: STOCK[i] as number });
  }
});

/** Every page of a listing, `limit` at a time: the ids in order. */
async function everyId(
  router: EntityRouter,
  filter: Condition[],
  order: "asc" | "desc",
  limit: number,
  index = "GSI3",
): Promise<bigint[]> {
  const ids: bigint[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const page = await router.list("Product", {
      index,
      values: { categoryId },
      order,
      limit,
      filter,
      ...(cursor ? { cursor } : {}),
    });
    ids.push(...page.items.map((item) => item.id as bigint));
    cursor = page.cursor;
    if (cursor === undefined) return ids;
  }
  throw new Error("the listing never ended");
}

const cents = (price: string) => Math.round(Number(price) * 100);

/** What the listing must hold: the products meeting `keep`, by price then id. */
function expected(keep: (p: (typeof products)[number]) => boolean, order: "asc" | "desc"): bigint[] {
  const sorted = products
    .filter(keep)
    .sort((a, b) => cents(a.price) - cents(b.price) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((p) => p.id);
  return order === "asc" ? sorted : sorted.reverse();
}

const cases: Array<[string, Condition[], (p: (typeof products)[number]) => boolean]> = [
  ["no filter", [], () => true],
  [
    "a price range",
    [
      { attribute: "price", op: ">=", value: "10.00" },
      { attribute: "price", op: "<=", value: "100.00" },
    ],
    (p) => cents(p.price) >= 1000 && cents(p.price) <= 10000,
  ],
  [
    "exclusive bounds",
    [
      { attribute: "price", op: ">", value: "10.00" },
      { attribute: "price", op: "<", value: "1000" },
    ],
    (p) => cents(p.price) > 1000 && cents(p.price) < 100000,
  ],
  ["a lowest price only", [{ attribute: "price", op: ">=", value: "55.55" }], (p) => cents(p.price) >= 5555],
  ["one price", [{ attribute: "price", op: "=", value: "10" }], (p) => cents(p.price) === 1000],
  ["in stock", [{ attribute: "inventoryQuantity", op: ">", value: 0 }], (p) => p.inventoryQuantity > 0],
  [
    "a highest price, in stock",
    [
      { attribute: "price", op: "<=", value: "10.00" },
      { attribute: "inventoryQuantity", op: ">", value: 0 },
    ],
    (p) => cents(p.price) <= 1000 && p.inventoryQuantity > 0,
  ],
];

describe("a listing's filters", () => {
  for (const [name, filter, keep] of cases) {
    it(`${name}: the same items in the same order on both stores, both ways, in pages of 1, 3 and 50`, async () => {
      const { router, phase } = routing(1);
      for (const order of ["asc", "desc"] as const) {
        const want = expected(keep, order);
        expect(want.length).toBeGreaterThan(0);
        for (const limit of [1, 3, 50]) {
          phase.value = 1;
          expect(await everyId(router(), filter, order, limit), `MySQL ${order} by ${limit}`).toEqual(want);
          phase.value = 5;
          expect(await everyId(router(), filter, order, limit), `DynamoDB ${order} by ${limit}`).toEqual(want);
        }
      }
    });
  }

  it("on an index sorted by something else, the filter alone applies (newest first, in stock)", async () => {
    const { router, phase } = routing(1);
    const filter: Condition[] = [{ attribute: "inventoryQuantity", op: ">", value: 0 }];
    const want = products
      .filter((p) => p.inventoryQuantity > 0)
      .map((p) => p.id)
      .reverse();
    phase.value = 1;
    expect(await everyId(router(), filter, "desc", 2, "GSI1")).toEqual(want);
    phase.value = 5;
    expect(await everyId(router(), filter, "desc", 2, "GSI1")).toEqual(want);
  });

  it("a price range reads only its stretch of the index on DynamoDB: the Query's key condition bounds the sort key", async () => {
    // The router's client, with the commands it sends seen from outside (the real client does the work).
    const real = stack.dynamodb();
    const sent: QueryCommand[] = [];
    const seen = {
      send: (command: unknown, options?: unknown) => {
        if (command instanceof QueryCommand) sent.push(command);
        return real.send(command as QueryCommand, options as undefined);
      },
    } as unknown as DynamoDBClient;
    const { router, phase } = routing(5);
    phase.value = 5;
    const page = await router({ dynamodb: seen }).list("Product", {
      index: "GSI3",
      values: { categoryId },
      limit: 50,
      filter: [
        { attribute: "price", op: ">=", value: "10.00" },
        { attribute: "price", op: "<=", value: "55.55" },
      ],
    });
    expect(page.items.map((item) => item.price)).toEqual(["10.00", "10.00", "10.01", "55.55"]);
    expect(sent).toHaveLength(1);
    const input = sent[0]?.input;
    if (input === undefined) throw new Error("no Query was sent");
    expect(input.KeyConditionExpression).toMatch(/ BETWEEN /);
    const codec = testbed.codec().entity("Product");
    const bounds = Object.values(input.ExpressionAttributeValues ?? {}).map((value) => value.S);
    expect(bounds).toContain(codec.attribute("price").keyText("10.00"));
    // The same Query on its own reads 4 items of the category's 10.
    const out = await real.send(new QueryCommand({ ...input, Select: "COUNT", Limit: undefined }));
    expect(out.ScannedCount).toBe(4);
  });

  it("bounds that cross (a lowest price above the highest) list nothing on either store", async () => {
    const { router, phase } = routing(1);
    const filter: Condition[] = [
      { attribute: "price", op: ">=", value: "50" },
      { attribute: "price", op: "<=", value: "10" },
    ];
    for (const p of [1, 5] as const) {
      phase.value = p;
      expect(await everyId(router(), filter, "asc", 5), `phase ${p}`).toEqual([]);
    }
  });

  it("a DynamoDB cursor of one order or filter is refused with another", async () => {
    const { router, phase } = routing(5);
    phase.value = 5;
    const first = await router().list("Product", { index: "GSI3", values: { categoryId }, limit: 1, order: "asc" });
    expect(first.cursor).toBeDefined();
    const cursor = first.cursor ?? "";
    for (const other of [
      { order: "desc" as const },
      { order: "asc" as const, filter: [{ attribute: "price", op: ">" as const, value: "1" }] },
    ]) {
      await expect(
        router().list("Product", { index: "GSI3", values: { categoryId }, limit: 1, cursor, ...other }),
      ).rejects.toThrow(/another order or filter/);
    }
  });

  it("a MySQL cursor of one filter is refused with another", async () => {
    const { router } = routing(1);
    const first = await router().list("Product", {
      index: "GSI3",
      values: { categoryId },
      limit: 1,
      filter: [{ attribute: "inventoryQuantity", op: ">", value: 0 }],
    });
    expect(first.cursor).toBeDefined();
    await expect(
      router().list("Product", {
        index: "GSI3",
        values: { categoryId },
        limit: 1,
        filter: [{ attribute: "price", op: ">", value: "1" }],
        ...(first.cursor ? { cursor: first.cursor } : {}),
      }),
    ).rejects.toThrow(/cursor/i);
  });
});
