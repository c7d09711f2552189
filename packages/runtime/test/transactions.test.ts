/**
 * The contract's transactions (checkout) through the router, on real MariaDB and DynamoDB Local: a step that fails
 * fails the same way whichever store is authoritative.
 */
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import { ConditionFailed, NotFound, TransactionFailed } from "../src/errors.ts";
import { useContractStores } from "../src/testing/index.ts";
import { type Routing, routingOver } from "./routing.ts";
import { expectError, keyed, rejection } from "./store-errors.ts";

const stack = useTestStack();

const testbed = useContractStores(stack, {
  contract: new URL("../../../contract/store.yaml", import.meta.url),
  prepare: () => seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } }),
});
/** Each test's own phase, failed secondary writes and routers. */
const routing = routingOver(stack, testbed);

const buyer = (n: number) => ({
  username: `checkout_${n}`,
  email: `checkout_${n}@example.com`,
  passwordHash: "scrypt$x",
  firstName: "Che",
  lastName: null,
  isSeller: false,
});

/** Phase 1 (MySQL authoritative) and phase 4 (DynamoDB authoritative). */
const AUTHORITATIVE = [
  [1, "mysql"],
  [4, "dynamodb"],
] as const;

/**
 * Checks out `input` with MySQL, then DynamoDB authoritative: each time the first step (the first line's product,
 * `productId`) fails for the same reason, and the transaction wrote nothing.
 */
async function expectFirstStepFails(
  { phase, router }: Routing,
  input: object,
  productId: bigint,
  reason: [typeof NotFound, "missing"] | [typeof ConditionFailed, "condition"],
): Promise<void> {
  const [type, kind] = reason;
  for (const [p, store] of AUTHORITATIVE) {
    phase.value = p;
    const error = await rejection(router().transact("checkout", input));
    const because = keyed(kind, store, "Product", { id: productId });
    const failed = `Product: transaction 'checkout' wrote nothing: step 1 (element 0) failed: ${because.message.slice("Product: ".length)}`;
    const step = { store, entity: "Product", transaction: "checkout", step: 1, element: 0, message: failed };
    expectError(error, TransactionFailed, step, `phase ${p}`);
    expectError((error as TransactionFailed).reason, type, because, `phase ${p}`);
  }
}

describe("the checkout transaction", () => {
  it("fails with NotFound for a product that does not exist, in every phase (not ConditionFailed on DynamoDB)", async () => {
    const checkout = routing(2);
    const { id: userId } = await checkout.router().create("User", buyer(1));
    const input = {
      order: { userId, totalAmount: "1.00" },
      lines: [{ productId: 987_654_321n, quantity: 1, priceAtTime: "1.00" }],
      cart: [],
    };
    await expectFirstStepFails(checkout, input, 987_654_321n, [NotFound, "missing"]);
    expect(checkout.failures).toEqual([]);
  });

  it("fails with ConditionFailed for a product that is there and short of stock, in every phase", async () => {
    const checkout = routing(2);
    const { id: userId } = await checkout.router().create("User", buyer(2));
    const product = await checkout.router().create("Product", {
      sellerId: 1n,
      categoryId: 1n,
      name: "Checkout thing",
      imageUrl: "https://img.example/checkout.png",
      price: "1.00",
      inventoryQuantity: 0,
    });
    const input = {
      order: { userId, totalAmount: "1.00" },
      lines: [{ productId: product.id, quantity: 1, priceAtTime: "1.00" }],
      cart: [],
    };
    await expectFirstStepFails(checkout, input, product.id as bigint, [ConditionFailed, "condition"]);
    // Nothing was written: the stock is untouched on both stores.
    const { mysql, dynamodb } = testbed.stores();
    expect((await mysql.get("Product", { id: product.id }))?.inventoryQuantity).toBe(0);
    expect((await dynamodb.get("Product", { id: product.id }))?.inventoryQuantity).toBe(0);
    expect(checkout.failures).toEqual([]);
  });

  it("one cart checked out a second time (read before the first committed) fails at its cart step, writing nothing", async () => {
    const checkout = routing(2);
    const { id: userId } = await checkout.router().create("User", buyer(3));
    const product = await checkout.router().create("Product", {
      sellerId: 1n,
      categoryId: 1n,
      name: "Twice thing",
      price: "2.00",
      inventoryQuantity: 10,
    });
    for (const [p, store] of AUTHORITATIVE) {
      checkout.phase.value = 2;
      const line = await checkout.router().create("ShoppingCart", { userId, productId: product.id, quantity: 1 });
      const input = {
        order: { userId, totalAmount: "2.00" },
        lines: [{ productId: product.id, quantity: 1, priceAtTime: "2.00" }],
        cart: [{ id: line.id, userId, productId: product.id }],
      };
      checkout.phase.value = p;
      const before = (await checkout.router().get("Product", { id: product.id }))?.inventoryQuantity as number;
      await checkout.router().transact("checkout", input);
      // The second tab read the same cart: its line is gone now.
      const error = await rejection(checkout.router().transact("checkout", input));
      expectError(error, TransactionFailed, { store, transaction: "checkout", step: 4, element: 0 }, `phase ${p}`);
      expect((error as TransactionFailed).reason, `phase ${p}`).toBeInstanceOf(NotFound);
      expect((await checkout.router().get("Product", { id: product.id }))?.inventoryQuantity).toBe(before - 1);
      // One order on the store that was authoritative (phase 1 wrote MySQL only; this router records no intents).
      const orders = await checkout.router().list("Order", { index: "GSI1", values: { userId }, limit: 10 });
      expect(orders.items, `phase ${p}`).toHaveLength(1);
    }
    expect(checkout.failures).toEqual([]);
  });
});
