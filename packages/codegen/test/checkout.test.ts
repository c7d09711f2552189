import {
  ConditionFailed,
  createCodec,
  DynamoEntityStore,
  type EntityValue,
  MysqlEntityStore,
  NotFound,
  type Phase,
  TransactionFailed,
  TransactionRefused,
} from "@ferry/runtime";
import { createMysqlPool } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import {
  type CheckoutInput,
  contract,
  createStore,
  type Product,
  type ShoppingCart,
  type User,
} from "@ferry/store-data";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { useGeneratedStore } from "./generated-store.ts";

const stack = useTestStack();

const generated = useGeneratedStore(stack);
const { phase, failures } = generated;
let store: ReturnType<typeof createStore>;
const codec = createCodec(contract);
let mysql: MysqlEntityStore;
let dynamodb: DynamoEntityStore;

beforeAll(() => {
  store = generated.store();
  mysql = new MysqlEntityStore(generated.connection(), codec);
  dynamodb = new DynamoEntityStore(stack.dynamodb(), codec, { tablePrefix: stack.tablePrefix });
});

let serial = 0;

/**
 * A shopper with a cart, made in a phase that writes the stores the checkout will use (phase 2 writes both; phase 1
 * only MySQL). Each product has the given stock; each cart line the given quantity.
 */
async function shopper(lines: Array<{ stock: number; quantity: number; price?: string }>, setupPhase: Phase) {
  const before = phase.value;
  phase.value = setupPhase;
  const n = ++serial;
  const user = await store.users.create({
    username: `shopper_${n}`,
    email: `shopper_${n}@example.com`,
    passwordHash: "scrypt$x",
    firstName: "Shop",
  });
  const products: Product[] = [];
  const cart: ShoppingCart[] = [];
  for (const [i, line] of lines.entries()) {
    const product = await store.products.create({
      sellerId: 1n,
      categoryId: 1n,
      name: `Thing ${n}.${i}`,
      imageUrl: `https://img.example/${n}/${i}.png`,
      price: line.price ?? "19.99",
      inventoryQuantity: line.stock,
    });
    products.push(product);
    cart.push(await store.shoppingCarts.create({ userId: user.id, productId: product.id, quantity: line.quantity }));
  }
  phase.value = before;
  return { user, products, cart };
}

/** The checkout input for a cart, priced at the products' current prices. */
function checkoutOf(user: User, products: Product[], cart: ShoppingCart[]): CheckoutInput {
  const lines = cart.map((line) => {
    const product = products.find((p) => p.id === line.productId) as Product;
    return { productId: line.productId, quantity: line.quantity, priceAtTime: product.price };
  });
  const cents = lines.reduce(
    (sum, line) => sum + BigInt(line.priceAtTime.replace(".", "")) * BigInt(line.quantity),
    0n,
  );
  return {
    order: { userId: user.id, totalAmount: `${cents / 100n}.${String(cents % 100n).padStart(2, "0")}` },
    lines,
    cart: cart.map(({ id, userId, productId }) => ({ id, userId, productId })),
  };
}

/** Which stores hold the data in a phase (the written ones). */
function written(p: Phase): Array<"mysql" | "dynamodb"> {
  return p === 1 ? ["mysql"] : p === 5 ? ["dynamodb"] : ["mysql", "dynamodb"];
}

async function read(where: "mysql" | "dynamodb", entity: string, key: object) {
  const values = key as EntityValue;
  return where === "mysql" ? mysql.get(entity, values) : dynamodb.get(entity, values);
}

/** Every store that is written holds the same values (denormalised copies exist on DynamoDB only). */
async function expectStores(p: Phase, entity: string, key: object, expected: object | undefined) {
  for (const where of written(p)) {
    const value = await read(where, entity, key);
    if (expected === undefined) {
      expect(value, `${entity} on ${where}`).toBeUndefined();
    } else {
      expect(value, `${entity} on ${where}`).toBeDefined();
      expect(codec.entity(entity).diff(value as EntityValue, expected as EntityValue), `${entity} on ${where}`).toEqual(
        [],
      );
    }
  }
}

describe("checkout through the generated store", () => {
  for (const p of [1, 2, 3, 4, 5] as const) {
    it(`phase ${p}: takes the stock, creates the order and its lines at the current price, clears the cart`, async () => {
      failures.length = 0;
      const { user, products, cart } = await shopper(
        [
          { stock: 5, quantity: 2, price: "12345678.90" },
          { stock: 1, quantity: 1, price: "0.10" },
        ],
        p === 1 ? 1 : 2,
      );
      phase.value = p;
      const result = await store.transactions.checkout(checkoutOf(user, products, cart));

      expect(result.order.userId).toBe(user.id);
      expect(result.order.totalAmount).toBe("24691357.90");
      expect(result.order.status).toBe("pending");
      expect(typeof result.order.id).toBe("bigint");
      expect(result.lines).toHaveLength(2);
      for (const line of result.lines) expect(line.orderId).toBe(result.order.id);
      expect(new Set(result.lines.map((line) => line.id)).size).toBe(2);

      // Read back through the generated repositories (the authoritative store of the phase).
      expect(await store.orders.get({ id: result.order.id })).toEqual(result.order);
      const lines = await store.orderItems.listOrderItemsByOrderId({ orderId: result.order.id });
      expect(lines.items.map((line) => [line.productId, line.quantity, line.priceAtTime])).toEqual(
        expect.arrayContaining([
          [products[0]?.id, 2, "12345678.90"],
          [products[1]?.id, 1, "0.10"],
        ]),
      );
      expect((await store.products.get({ id: products[0]?.id as bigint }))?.inventoryQuantity).toBe(3);
      expect((await store.products.get({ id: products[1]?.id as bigint }))?.inventoryQuantity).toBe(0);
      expect((await store.shoppingCarts.listShoppingCartsByUserId({ userId: user.id })).items).toEqual([]);

      // Every written store holds the same result, and the secondary never failed.
      await expectStores(p, "Order", { id: result.order.id }, result.order);
      for (const line of result.lines) {
        await expectStores(p, "OrderItem", { id: line.id, orderId: line.orderId, productId: line.productId }, line);
      }
      for (const product of products) {
        const now = await store.products.get({ id: product.id });
        await expectStores(p, "Product", { id: product.id }, now as object);
      }
      for (const line of cart) await expectStores(p, "ShoppingCart", line, undefined);
      if (p >= 2) {
        // The lines on DynamoDB carry the product's name and image as they were at checkout.
        const stored = await dynamodb.get("OrderItem", { orderId: result.order.id, productId: products[0]?.id });
        expect(stored).toMatchObject({ productName: products[0]?.name, productImageUrl: products[0]?.imageUrl });
      }
      expect(failures).toEqual([]);
    });
  }

  for (const p of [1, 3, 5] as const) {
    it(`phase ${p}: not enough stock fails step 1 for that line and writes nothing on any store`, async () => {
      const { user, products, cart } = await shopper(
        [
          { stock: 4, quantity: 1 },
          { stock: 1, quantity: 2 },
        ],
        p === 1 ? 1 : 2,
      );
      phase.value = p;
      const error = await store.transactions.checkout(checkoutOf(user, products, cart)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransactionFailed);
      expect(error).toMatchObject({ transaction: "checkout", step: 1, element: 1, entity: "Product" });
      expect((error as TransactionFailed).reason).toBeInstanceOf(ConditionFailed);
      expect((error as Error).message).toMatch(/transaction 'checkout' wrote nothing: step 1 \(element 1\) failed/);
      for (const [i, product] of products.entries()) {
        await expectStores(p, "Product", { id: product.id }, product);
        await expectStores(p, "ShoppingCart", cart[i] as object, cart[i] as object);
      }
      expect((await store.orders.listOrdersByUserId({ userId: user.id })).items).toEqual([]);
    });
  }

  it("a price that changed since the order was priced fails step 1, in phase 2 and in phase 4", async () => {
    for (const p of [2, 4] as const) {
      const { user, products, cart } = await shopper([{ stock: 3, quantity: 1, price: "10.00" }], 2);
      const input = checkoutOf(user, products, cart);
      phase.value = p;
      await store.products.update({ id: products[0]?.id as bigint }, { price: "11.00" });
      const error = await store.transactions.checkout(input).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "TransactionFailed", step: 1, element: 0 });
      expect((await store.products.get({ id: products[0]?.id as bigint }))?.inventoryQuantity).toBe(3);
    }
  });

  it("the same cart checked out twice: the second fails at clearing the cart, and takes no stock", async () => {
    for (const p of [1, 5] as const) {
      const { user, products, cart } = await shopper([{ stock: 10, quantity: 2 }], p === 1 ? 1 : 2);
      phase.value = p;
      const input = checkoutOf(user, products, cart);
      await store.transactions.checkout(input);
      const error = await store.transactions.checkout(input).catch((e: unknown) => e);
      expect(error).toMatchObject({ name: "TransactionFailed", step: 4, element: 0, entity: "ShoppingCart" });
      expect((error as TransactionFailed).reason).toBeInstanceOf(NotFound);
      expect((await store.products.get({ id: products[0]?.id as bigint }))?.inventoryQuantity).toBe(8);
      expect((await store.orders.listOrdersByUserId({ userId: user.id })).items).toHaveLength(1);
    }
  });

  it("two shoppers racing for the last unit: exactly one gets it, in phase 1 and in phase 5", async () => {
    // A pool, as an app serving concurrent requests has: the two MySQL transactions really run side by side.
    const pool = createMysqlPool(stack.mysqlUrl, { connectionLimit: 4 });
    const racing = createStore({
      phase,
      mysql: pool,
      dynamodb: stack.dynamodb(),
      tablePrefix: stack.tablePrefix,
      onSecondaryFailure: (failure) => failures.push(failure),
    });
    onTestFinished(() => pool.end());
    for (const p of [1, 5] as const) {
      const a = await shopper([{ stock: 1, quantity: 1 }], p === 1 ? 1 : 2);
      phase.value = p === 1 ? 1 : 2;
      const productId = a.products[0]?.id as bigint;
      const user = await store.users.create({
        username: `racer_${++serial}`,
        email: `racer_${serial}@example.com`,
        passwordHash: "scrypt$x",
        firstName: "Race",
      });
      const line = await store.shoppingCarts.create({ userId: user.id, productId, quantity: 1 });
      phase.value = p;
      const outcomes = await Promise.allSettled([
        racing.transactions.checkout(checkoutOf(a.user, a.products, a.cart)),
        racing.transactions.checkout(checkoutOf(user, a.products, [line])),
      ]);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      const rejected = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(TransactionFailed);
      expect((await store.products.get({ id: productId }))?.inventoryQuantity).toBe(0);
    }
  });

  it("33 lines fit in one DynamoDB transaction (100 items: the lines' unique rules are their keys, no markers); 34 are refused before any write", async () => {
    const lines = Array.from({ length: 34 }, () => ({ stock: 1, quantity: 1 }));
    const { user, products, cart } = await shopper(lines, 2);
    phase.value = 1;
    const all = checkoutOf(user, products, cart);
    const error = await store.transactions.checkout(all).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionRefused);
    // Per line: the stock, the order line and the cart line; and the order.
    expect((error as Error).message).toMatch(/up to 103 DynamoDB writes .* limit of 100/);
    await expectStores(2, "Product", { id: products[0]?.id as bigint }, products[0] as object);

    phase.value = 4;
    const fitting = checkoutOf(user, products.slice(0, 33), cart.slice(0, 33));
    const result = await store.transactions.checkout(fitting);
    expect(result.lines).toHaveLength(33);
    for (const product of products.slice(0, 33)) {
      expect((await store.products.get({ id: product.id }))?.inventoryQuantity).toBe(0);
    }
    expect(await store.shoppingCarts.get(cart[33] as ShoppingCart)).toBeDefined();
    expect(failures).toEqual([]);
  });

  it("ids continue MySQL's sequence in phase 4 and the counter's in phase 5, on both stores", async () => {
    phase.value = 3;
    const { user, products, cart } = await shopper([{ stock: 5, quantity: 1 }], 2);
    const viaMysql = await store.transactions.checkout(checkoutOf(user, products, cart));
    const again = await shopper([{ stock: 5, quantity: 1 }], 2);
    phase.value = 4;
    const viaDynamo = await store.transactions.checkout(checkoutOf(again.user, again.products, again.cart));
    expect(viaDynamo.order.id).toBeGreaterThan(viaMysql.order.id);
    expect(viaDynamo.order.id).toBe((await mysql.highestId("Order")) as bigint);
    await expectStores(4, "Order", { id: viaDynamo.order.id }, viaDynamo.order);
    const third = await shopper([{ stock: 5, quantity: 1 }], 2);
    phase.value = 5;
    const onlyDynamo = await store.transactions.checkout(checkoutOf(third.user, third.products, third.cart));
    expect(onlyDynamo.order.id).toBe(viaDynamo.order.id + 1n);
    expect(failures).toEqual([]);
  });
});
