/**
 * Dual writes converge (docs/convergence.md): each test forces one interleaving of two writers on real stores,
 * deterministically (a store call is held until the test releases it, never a sleep that hopes), and checks that both
 * stores end with the authoritative store's value, no ghost item and no unique marker left behind.
 */
import { dynamoDbClient } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import type { EntityValue } from "../src/codec/index.ts";
import { KeySync } from "../src/outbox/sync.ts";
import type { EntityRouter } from "../src/router/index.ts";
import { useContractStores } from "../src/testing/index.ts";
import { held } from "./held.ts";
import { routingOver } from "./routing.ts";

const stack = useTestStack();
const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
const routing = routingOver(stack, testbed);
const stores = () => testbed.stores();

let serial = 0;
const unique = (name: string) => `${name}_${++serial}_${Date.now() % 100_000}`;

async function seller(): Promise<{ sellerId: bigint; categoryId: bigint }> {
  const { mysql, dynamodb } = stores();
  const [users] = (await testbed.connection().query("SELECT id FROM users ORDER BY id LIMIT 1")) as unknown as [
    Array<{ id: number }>,
  ];
  const [categories] = (await testbed
    .connection()
    .query("SELECT id FROM categories ORDER BY id LIMIT 1")) as unknown as [Array<{ id: number }>];
  const sellerId = BigInt(users[0]?.id ?? 0);
  // The seller is in DynamoDB too (a product copies its name).
  const user = await mysql.get("User", { id: sellerId });
  if (user && !(await dynamodb.get("User", { id: sellerId }))) await dynamodb.create("User", user);
  return { sellerId, categoryId: BigInt(categories[0]?.id ?? 0) };
}

/** A product created through `router` (on both stores in phases 2-4), its seller on DynamoDB too. */
async function newProduct(router: EntityRouter, name: string, price: string, stock: number): Promise<{ id: bigint }> {
  const { sellerId, categoryId } = await seller();
  return router.create<{ id: bigint }>("Product", { sellerId, categoryId, name, price, inventoryQuantity: stock });
}

const newUser = (name: string) => ({
  username: name,
  email: `${name}@example.com`,
  passwordHash: "scrypt$x",
  firstName: "Race",
});

/** The item on both stores, as the codec compares them: [] when they agree. */
async function differences(entity: string, key: EntityValue): Promise<string[]> {
  const { mysql, dynamodb } = stores();
  const [inMysql, inDynamo] = [await mysql.get(entity, key), await dynamodb.get(entity, key)];
  if (inMysql === undefined || inDynamo === undefined) {
    return inMysql === inDynamo
      ? []
      : [`mysql ${inMysql ? "has" : "lacks"} it, dynamodb ${inDynamo ? "has" : "lacks"} it`];
  }
  return testbed
    .codec()
    .entity(entity)
    .diff(inMysql, inDynamo)
    .map((d) => d.field);
}

describe("dual writes converge", () => {
  it("A: two updates whose DynamoDB copies land in the other order leave MySQL's last value on DynamoDB", async () => {
    const { router, failures } = routing(3);
    const product = await newProduct(router(), "race-A", "10.00", 10);
    const slow = held(stores().dynamodb, "update");
    const first = router({ wrapDynamo: () => slow.store }).update("Product", { id: product.id }, { name: "first" });
    await slow.entered; // "first" is committed on MySQL; its DynamoDB copy waits
    await router().update("Product", { id: product.id }, { name: "second" });
    slow.release();
    await first;
    expect((await stores().mysql.get("Product", { id: product.id }))?.name).toBe("second");
    expect((await stores().dynamodb.get("Product", { id: product.id }))?.name).toBe("second");
    expect(await differences("Product", { id: product.id })).toEqual([]);
    expect(failures).toEqual([]);
  });

  it("B: a re-sync of the key racing an in-flight increment does not subtract twice", async () => {
    const { router, failures } = routing(3);
    const product = await newProduct(router(), "race-B", "10.00", 10);
    const slow = held(stores().dynamodb, "update");
    const write = router({ wrapDynamo: () => slow.store }).update(
      "Product",
      { id: product.id },
      {},
      { add: { inventoryQuantity: -1 } },
    );
    await slow.entered;
    const { mysql, dynamodb } = stores();
    expect(await new KeySync(testbed.codec(), mysql, dynamodb).sync("dynamodb", "Product", { id: product.id })).toBe(
      "updated",
    );
    slow.release();
    await write;
    expect((await mysql.get("Product", { id: product.id }))?.inventoryQuantity).toBe(9);
    expect((await dynamodb.get("Product", { id: product.id }))?.inventoryQuantity).toBe(9);
    expect(failures).toEqual([]);
  });

  it("B2: a re-sync racing checkout's replayed stock decrement does not subtract twice", async () => {
    const { router, failures } = routing(3);
    const product = await newProduct(router(), "race-B2", "10.00", 10);
    const shopper = await router().create<{ id: bigint }>("User", newUser(unique("b2")));
    const line = await router().create<{ id: bigint; userId: bigint; productId: bigint }>("ShoppingCart", {
      userId: shopper.id,
      productId: product.id,
      quantity: 1,
    });
    const slow = held(stores().dynamodb, "transact");
    const checkout = router({ wrapDynamo: () => slow.store }).transact<{ order: { id: bigint } }>("checkout", {
      order: { userId: shopper.id, totalAmount: "10.00" },
      lines: [{ productId: product.id, quantity: 1, priceAtTime: "10.00" }],
      cart: [{ id: line.id, userId: line.userId, productId: line.productId }],
    });
    await slow.entered;
    const { mysql, dynamodb } = stores();
    expect(await new KeySync(testbed.codec(), mysql, dynamodb).sync("dynamodb", "Product", { id: product.id })).toBe(
      "updated",
    );
    slow.release();
    const { order } = await checkout;
    expect((await mysql.get("Product", { id: product.id }))?.inventoryQuantity).toBe(9);
    expect((await dynamodb.get("Product", { id: product.id }))?.inventoryQuantity).toBe(9);
    expect(await differences("Order", { id: order.id })).toEqual([]);
    expect(await differences("ShoppingCart", { id: line.id, userId: line.userId, productId: line.productId })).toEqual(
      [],
    );
    expect(failures).toEqual([]);
  });

  it("E: a create whose DynamoDB copy is slow, deleted meanwhile, leaves no item and no unique marker", async () => {
    const { router, failures } = routing(3);
    const name = unique("ghost");
    const slow = held(stores().dynamodb, "create");
    const creating = router({ wrapDynamo: () => slow.store }).create<{ id: bigint }>("User", newUser(name));
    await slow.entered;
    const [rows] = (await testbed.connection().query("SELECT id FROM users WHERE username = ?", [name])) as unknown as [
      Array<{ id: number }>,
    ];
    const id = BigInt(rows[0]?.id ?? 0);
    expect(await router().delete("User", { id })).toBe(true);
    slow.release();
    expect((await creating).id).toBe(id);
    expect(await stores().mysql.get("User", { id })).toBeUndefined();
    expect(await stores().dynamodb.get("User", { id })).toBeUndefined();
    expect(failures).toEqual([]);
    // The email is free again on DynamoDB: a phase-5 sign-up with it is taken.
    const { router: router5 } = routing(5);
    const again = await router5().create<{ id: bigint; email: string }>("User", {
      ...newUser(`${name}_again`),
      email: `${name}@example.com`,
      id: 10n ** 12n + BigInt(serial),
    });
    expect(again.email).toBe(`${name}@example.com`);
  });

  it("an increment on DynamoDB (authoritative) that the SDK sends twice after a timeout is applied once", async () => {
    const { router, failures } = routing(4);
    const product = await newProduct(routing(3).router(), "retry", "10.00", 10);
    // The first UpdateItem/TransactWriteItems reaches DynamoDB and is applied, then its answer is lost: the SDK's
    // retry strategy sees a timeout and sends the same request again.
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    let lost = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const write =
          context.commandName === "UpdateItemCommand" || context.commandName === "TransactWriteItemsCommand";
        if (write && lost === 0) {
          lost++;
          throw Object.assign(new Error("the answer was lost (simulated socket timeout)"), {
            name: "TimeoutError",
            $metadata: {},
          });
        }
        return result;
      },
      { step: "deserialize", name: "loseOneAnswer", priority: "low" },
    );
    await router({ dynamodb: client }).update("Product", { id: product.id }, {}, { add: { inventoryQuantity: -1 } });
    client.destroy();
    expect(lost).toBe(1);
    expect((await stores().dynamodb.get("Product", { id: product.id }))?.inventoryQuantity).toBe(9);
    expect((await stores().mysql.get("Product", { id: product.id }))?.inventoryQuantity).toBe(9);
    expect(failures).toEqual([]);
  });

  it("an increment on DynamoDB (authoritative) whose new value cannot be read back still answers that it landed", async () => {
    const { router, failures } = routing(4);
    const product = await newProduct(routing(3).router(), "read-back", "10.00", 10);
    // The read that follows the increment's transaction fails (the increment has landed by then).
    const client = dynamoDbClient(stack.dynamodbEndpoint);
    let written = false;
    let failedReads = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "TransactWriteItemsCommand") written = true;
        else if (written && context.commandName === "GetItemCommand" && failedReads === 0) {
          failedReads++;
          throw Object.assign(new Error("the connection dropped (simulated)"), { name: "NetworkingError" });
        }
        return next(args);
      },
      { step: "initialize", name: "failReadBack" },
    );
    await router({ dynamodb: client }).update("Product", { id: product.id }, {}, { add: { inventoryQuantity: -1 } });
    client.destroy();
    expect(failedReads).toBe(1);
    expect((await stores().dynamodb.get("Product", { id: product.id }))?.inventoryQuantity).toBe(9);
    expect((await stores().mysql.get("Product", { id: product.id }))?.inventoryQuantity).toBe(9);
    expect(failures).toEqual([]);
  });

  it("phase 2 brings over a row DynamoDB does not hold yet when it is updated, instead of failing the copy", async () => {
    const { router: router1 } = routing(1);
    const { router, failures } = routing(2);
    const cold = await newProduct(router1(), "cold", "3.50", 4);
    expect(await stores().dynamodb.get("Product", { id: cold.id })).toBeUndefined();
    await router().update("Product", { id: cold.id }, { name: "warm" }, { add: { inventoryQuantity: 1 } });
    const copy = await stores().dynamodb.get("Product", { id: cold.id });
    expect(copy?.name).toBe("warm");
    expect(copy?.inventoryQuantity).toBe(5);
    expect(await differences("Product", { id: cold.id })).toEqual([]);
    expect(failures).toEqual([]);
  });
});
