/**
 * The demo data set: a shopper, two sellers, the category tree, sixty products and the shopper's
 * order history and cart. Fixed content and fixed timestamps: the same rows every time.
 */
import {
  CATEGORIES,
  DEMO_CART,
  DEMO_ORDERS,
  DEMO_PRODUCTS,
  DEMO_SELLERS,
  DEMO_SHOPPER_USER,
  type DemoUser,
} from "./catalog.ts";
import type { LoadChunk } from "./load.ts";
import { hashPassword, seedSalt } from "./password.ts";
import {
  centsToDecimal,
  DAY_MS,
  decimalToCents,
  REFERENCE_TIME,
  type RowCells,
  type StoreTable,
  sqlDateTime,
} from "./tables.ts";

/** The password of every demo account (sign in as `shopper`). Printed by `ferry seed`. */
export const DEMO_PASSWORD = "ferry-demo";

const OPENED_AT = REFERENCE_TIME - 400 * DAY_MS;

/** The demo rows by table, as one chunk per table. */
export async function demoLoad(): Promise<{
  totals: Record<StoreTable, number>;
  chunks: LoadChunk[];
  accounts: string[];
}> {
  const people: DemoUser[] = [DEMO_SHOPPER_USER, ...DEMO_SELLERS];
  const shopperId = 1;
  const sellerId = (index: 0 | 1) => 2 + index;

  const users: RowCells[] = [];
  for (const [i, person] of people.entries()) {
    const createdAt = OPENED_AT + (i + 1) * DAY_MS;
    users.push([
      i + 1,
      person.username,
      person.email,
      await hashPassword(DEMO_PASSWORD, { salt: seedSalt(person.username) }),
      person.firstName,
      person.lastName,
      person.isSeller ? 1 : 0,
      sqlDateTime(createdAt),
      sqlDateTime(createdAt + 3_600_000),
    ]);
  }

  const categories: RowCells[] = CATEGORIES.map((c) => [
    c.id,
    c.parentId,
    c.name,
    sqlDateTime(OPENED_AT + c.id * 60_000),
  ]);

  const products: RowCells[] = DEMO_PRODUCTS.map((p, i) => {
    const id = i + 1;
    const createdAt = OPENED_AT + 7 * DAY_MS + i * 3_600_000;
    return [
      id,
      sellerId(p.seller),
      p.category,
      p.name,
      p.description,
      p.price,
      p.stock,
      // A few products have no picture yet.
      id % 9 === 0 ? null : `https://cdn.example.com/store/demo/${id}.jpg`,
      sqlDateTime(createdAt),
      sqlDateTime(createdAt + ((i % 5) + 1) * DAY_MS),
    ];
  });

  const orders: RowCells[] = [];
  const orderItems: RowCells[] = [];
  for (const [i, order] of DEMO_ORDERS.entries()) {
    const id = i + 1;
    const createdAt = REFERENCE_TIME - order.daysAgo * DAY_MS + (i + 9) * 3_600_000;
    let total = 0;
    for (const [productIndex, quantity] of order.items) {
      const product = DEMO_PRODUCTS[productIndex];
      if (!product) throw new Error(`demo order ${id} names product index ${productIndex}, which does not exist`);
      total += decimalToCents(product.price) * quantity;
      orderItems.push([orderItems.length + 1, id, productIndex + 1, quantity, product.price]);
    }
    const updatedAt = Math.min(REFERENCE_TIME, createdAt + (order.status === "paid" ? 600_000 : 2 * DAY_MS));
    orders.push([id, shopperId, centsToDecimal(total), order.status, sqlDateTime(createdAt), sqlDateTime(updatedAt)]);
  }

  const carts: RowCells[] = DEMO_CART.map(([productIndex, quantity], i) => {
    const at = sqlDateTime(REFERENCE_TIME - (DEMO_CART.length - i) * 3_600_000);
    return [i + 1, shopperId, productIndex + 1, quantity, at, at];
  });

  const byTable: Record<StoreTable, RowCells[]> = {
    users,
    categories,
    products,
    shopping_carts: carts,
    orders,
    order_items: orderItems,
  };
  const totals = Object.fromEntries(Object.entries(byTable).map(([t, rows]) => [t, rows.length])) as Record<
    StoreTable,
    number
  >;
  const chunks = (Object.entries(byTable) as Array<[StoreTable, RowCells[]]>).map(([table, rows]) => ({
    table,
    rows: rows.length,
    make: () => rows,
  }));
  return { totals, chunks, accounts: people.map((person) => person.username) };
}
