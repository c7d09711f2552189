/**
 * The workshop's test flight (shared/seeds/004), automated on a running store: in phase 2 a cart line goes to both
 * stores; the phase moves on under the running store (with the reverse drill 4 -> 3 while shoppers write); in phase 5
 * a checkout writes the order only to DynamoDB and clears the cart line there, and MySQL gets no new order. A listing
 * paged across a phase change starts again instead of failing.
 */
import { createDynamoStore, createMysqlStore } from "@ferry/store-data";
import { describe, expect, it } from "vitest";
import { APPROVED_TEST_CARD } from "../src/index.ts";
import { newName, Shopper, useStore } from "./support.ts";

const store = useStore(2);
const CARD = { cardNumber: APPROVED_TEST_CARD, cardExpiry: "12/39", cardCvc: "123" };

describe("the seeds' scenario on a running store", () => {
  let client: Shopper;
  let userId: bigint;
  let productId: string;
  const mysql = async () => createMysqlStore({ mysql: await store.stack.mysql() });
  const dynamodb = () => createDynamoStore({ dynamodb: store.stack.dynamodb(), tablePrefix: store.stack.tablePrefix });

  it("phase 2: add to the cart -> the line is in MySQL and in DynamoDB", async () => {
    client = new Shopper(store.url);
    const username = newName("flight");
    const created = await client.api("POST", "/users", {
      username,
      email: `${username}@example.com`,
      password: "correct horse",
      firstName: "Flight",
    });
    expect(created.status).toBe(201);
    userId = BigInt(created.body.user.id);
    const categories = (await client.api("GET", "/categories")).body.categories;
    const listing = await client.api("GET", `/categories/${categories[0].id}/products?limit=50`);
    productId = listing.body.items.find((p: { inventoryQuantity: number }) => p.inventoryQuantity > 2).id;
    expect((await client.api("POST", "/cart", { productId, quantity: 1 })).status).toBe(201);
    // The answer came once MySQL had the line; its copy to DynamoDB lands right after (a background copy).
    await store.server().fleet.copies.settled();
    const inMysql = (await (await mysql()).shoppingCarts.listShoppingCartsByUserId({ userId })).items;
    const inDynamo = (await dynamodb().shoppingCarts.listShoppingCartsByUserId({ userId })).items;
    expect(inMysql.map((line) => [line.productId.toString(), line.quantity])).toEqual([[productId, 1]]);
    expect(inDynamo.map((line) => [line.productId.toString(), line.quantity])).toEqual([[productId, 1]]);
  });

  it("a listing paged in phase 3 and continued in phase 4 starts again from the top, flagged", async () => {
    await store.setPhase(3);
    // A category without children: its listing's cursor is the store's own.
    const categories = (await client.api("GET", "/categories")).body.categories;
    const leaves = categories.flatMap((root: { children: Array<{ id: string }> }) => root.children);
    let leaf: { id: string } | undefined;
    for (const candidate of leaves) {
      const page = await client.api("GET", `/categories/${candidate.id}/products?limit=100`);
      if (page.body.items.length >= 3) {
        leaf = candidate;
        break;
      }
    }
    if (leaf === undefined) throw new Error("no category with 3 products");
    const first = await client.api("GET", `/categories/${leaf.id}/products?limit=2`);
    expect(first.body.cursor).toEqual(expect.any(String));
    await store.setPhase(4);
    const next = await client.api("GET", `/categories/${leaf.id}/products?limit=2&cursor=${first.body.cursor}`);
    expect(next.status).toBe(200);
    expect(next.body.restarted).toBe(true);
    expect(next.body.items.map((p: { id: string }) => p.id)).toEqual(first.body.items.map((p: { id: string }) => p.id));
    // The same product, read from DynamoDB now, has the same shape as it had from MySQL.
    expect(Object.keys(next.body.items[0]).sort()).toEqual(Object.keys(first.body.items[0]).sort());
    const page = await client.request(`/categories/${leaf.id}?cursor=${encodeURIComponent(first.body.cursor)}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("starts again from the top");
  });

  it("the reverse drill, 4 -> 3 and back, with shoppers writing the whole time: every request is served", async () => {
    let writing = true;
    const statuses: number[] = [];
    const writer = (async () => {
      let quantity = 1;
      while (writing) {
        quantity = quantity === 1 ? 2 : 1;
        statuses.push((await client.api("PATCH", `/cart/${productId}`, { quantity })).status);
      }
    })();
    // Two answered writes in each phase, however slow the machine (a fixed time saw only three writes in all on CI).
    const twoMoreWrites = async () => {
      const mark = statuses.length;
      while (statuses.length < mark + 2) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    await twoMoreWrites();
    await store.setPhase(3);
    await twoMoreWrites();
    await store.setPhase(4);
    await twoMoreWrites();
    writing = false;
    await writer;
    expect(statuses.length).toBeGreaterThanOrEqual(6);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    // Both stores agree on the line after the drill, once the last writes' copies have landed.
    await store.server().fleet.copies.settled();
    const inMysql = (await (await mysql()).shoppingCarts.listShoppingCartsByUserId({ userId })).items;
    const inDynamo = (await dynamodb().shoppingCarts.listShoppingCartsByUserId({ userId })).items;
    expect(inDynamo.map((line) => line.quantity)).toEqual(inMysql.map((line) => line.quantity));
  });

  it("phase 5: check out -> the order and its lines only in DynamoDB, the cart line gone there, no new order in MySQL", async () => {
    await store.setPhase(5);
    expect((await (await client.request("/healthz")).json()) as { phase: number }).toMatchObject({ phase: 5 });
    const mysqlOrdersBefore = (await (await mysql()).orders.listOrdersByUserId({ userId })).items;
    const placed = await client.api("POST", "/checkout", CARD);
    expect(placed.status).toBe(201);
    const orderId = BigInt(placed.body.order.id);
    expect(await dynamodb().orders.get({ id: orderId })).toMatchObject({ id: orderId, userId, status: "paid" });
    const lines = (await dynamodb().orderItems.listOrderItemsByOrderId({ orderId })).items;
    expect(lines.map((line) => line.productId.toString())).toEqual([productId]);
    expect((await dynamodb().shoppingCarts.listShoppingCartsByUserId({ userId })).items).toEqual([]);
    expect(await (await mysql()).orders.get({ id: orderId })).toBeUndefined();
    expect((await (await mysql()).orders.listOrdersByUserId({ userId })).items).toEqual(mysqlOrdersBefore);
    // The shopper sees the order.
    expect((await client.api("GET", "/orders")).body.items.map((o: { id: string }) => o.id)).toEqual([
      placed.body.order.id,
    ]);
  });
});
