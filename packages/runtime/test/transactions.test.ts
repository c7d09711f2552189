/**
 * The contract's transactions (checkout) through the router, on real MariaDB and DynamoDB Local: a step that fails
 * fails the same way whichever store is authoritative.
 */
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import { describe, expect, it } from "vitest";
import { ConditionFailed, NotFound, TransactionFailed } from "../src/errors.ts";
import { useContractStores } from "../src/testing.ts";
import { routingOver } from "./routing.ts";

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

describe("the checkout transaction", () => {
  it("fails with NotFound for a product that does not exist, in every phase (not ConditionFailed on DynamoDB)", async () => {
    const { router, phase, failures } = routing(2);
    const { id: userId } = await router().create("User", buyer(1));
    const input = {
      order: { userId, totalAmount: "1.00" },
      lines: [{ productId: 987_654_321n, quantity: 1, priceAtTime: "1.00" }],
      cart: [],
    };
    for (const [p, store] of AUTHORITATIVE) {
      phase.value = p;
      const error = await router()
        .transact("checkout", input)
        .catch((e: unknown) => e);
      expect(error, `phase ${p}`).toBeInstanceOf(TransactionFailed);
      expect(error, `phase ${p}`).toMatchObject({
        store,
        entity: "Product",
        transaction: "checkout",
        step: 1,
        element: 0,
        message:
          "Product: transaction 'checkout' wrote nothing: step 1 (element 0) failed: there is no item with key { id=987654321 }",
      });
      const reason = (error as TransactionFailed).reason;
      expect(reason, `phase ${p}`).toBeInstanceOf(NotFound);
      expect(reason, `phase ${p}`).toMatchObject({
        store,
        entity: "Product",
        key: { id: 987_654_321n },
        message: "Product: there is no item with key { id=987654321 }",
      });
    }
    expect(failures).toEqual([]);
  });

  it("fails with ConditionFailed for a product that is there and short of stock, in every phase", async () => {
    const { router, phase, failures } = routing(2);
    const { id: userId } = await router().create("User", buyer(2));
    const product = await router().create("Product", {
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
    for (const [p, store] of AUTHORITATIVE) {
      phase.value = p;
      const error = await router()
        .transact("checkout", input)
        .catch((e: unknown) => e);
      expect(error, `phase ${p}`).toBeInstanceOf(TransactionFailed);
      expect(error, `phase ${p}`).toMatchObject({
        store,
        entity: "Product",
        transaction: "checkout",
        step: 1,
        element: 0,
        message: `Product: transaction 'checkout' wrote nothing: step 1 (element 0) failed: the condition on the item with key { id=${product.id} } does not hold; nothing was written`,
      });
      const reason = (error as TransactionFailed).reason;
      expect(reason, `phase ${p}`).toBeInstanceOf(ConditionFailed);
      expect(reason, `phase ${p}`).toMatchObject({ store, entity: "Product", key: { id: product.id } });
    }
    // Nothing was written: the stock is untouched on both stores.
    const { mysql, dynamodb } = testbed.stores();
    expect((await mysql.get("Product", { id: product.id }))?.inventoryQuantity).toBe(0);
    expect((await dynamodb.get("Product", { id: product.id }))?.inventoryQuantity).toBe(0);
    expect(failures).toEqual([]);
  });
});
