import { connectMysql, StackError, withDatabase } from "@ferry/stack";
// Brings in the typing of what the global setup provides (testing.ts does not import it itself).
import { useTestStack } from "@ferry/stack/testing";
import type { RowDataPacket } from "mysql2/promise";
import { beforeAll, describe, expect, it } from "vitest";
import {
  DEMO_PASSWORD,
  DEMO_SHOPPER,
  hashPassword,
  isStoreSeeded,
  migrateStore,
  type SeedProgress,
  type SeedResult,
  STORE_TABLES,
  seedStore,
  storeChecksum,
  verifyPassword,
} from "../src/index.ts";
import { DEMO_PRODUCTS } from "../src/legacy/catalog.ts";

const stack = useTestStack();
/** A second database for the demo data set, to compare with the first. */
const secondDatabase = stack.name("demo_again");

async function rows(sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const connection = await stack.mysql();
  const [result] = await connection.query<RowDataPacket[]>(sql, params);
  return result;
}

async function checksumOf(database: string) {
  const connection = await connectMysql(withDatabase(stack.serverUrl, database));
  try {
    return await storeChecksum(connection);
  } finally {
    await connection.end();
  }
}

describe("the demo data set", () => {
  let result: SeedResult;
  const progress: SeedProgress[] = [];

  beforeAll(async () => {
    result = await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" }, onProgress: (p) => progress.push(p) });
  });

  it("reports the database and the rows of every table", async () => {
    expect(result.database).toBe(stack.database);
    expect(result.rows).toEqual({
      users: 3,
      categories: 25,
      products: 60,
      shopping_carts: 2,
      orders: 5,
      order_items: 12,
    });
    for (const table of STORE_TABLES) {
      const [count] = await rows(`SELECT COUNT(*) AS n FROM ${table}`);
      expect(Number(count?.n), table).toBe(result.rows[table]);
    }
    // A bound: how long the load took.
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.demoAccounts).toEqual([DEMO_SHOPPER, "harbor_goods", "maple_lane"]);
  });

  it("reports progress ending with every table done", () => {
    for (const table of STORE_TABLES) {
      const last = progress.filter((p) => p.table === table).at(-1);
      expect(last, table).toEqual({ table, done: result.rows[table], total: result.rows[table] });
    }
  });

  it("has a shopper whose password is the demo password, and two sellers", async () => {
    const users = await rows(
      "SELECT id, username, email, password_hash, first_name, last_name, is_seller FROM users ORDER BY id",
    );
    const hash = expect.stringMatching(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(users).toEqual([
      {
        id: "1",
        username: DEMO_SHOPPER,
        email: "shopper@example.com",
        password_hash: hash,
        first_name: "Sam",
        last_name: "Shopper",
        is_seller: 0,
      },
      // A shop has no last name.
      {
        id: "2",
        username: "harbor_goods",
        email: "hello@harbor-goods.example.com",
        password_hash: hash,
        first_name: "Harbor Goods",
        last_name: null,
        is_seller: 1,
      },
      {
        id: "3",
        username: "maple_lane",
        email: "shop@maple-lane.example.com",
        password_hash: hash,
        first_name: "Mia",
        last_name: "Lane",
        is_seller: 1,
      },
    ]);
    const shopper = users[0];
    expect(await verifyPassword(DEMO_PASSWORD, shopper?.password_hash)).toBe(true);
    expect(await verifyPassword("not-the-password", shopper?.password_hash)).toBe(false);
    // Salts differ per account even though the password is the same.
    expect(new Set(users.map((u) => u.password_hash)).size).toBe(3);
  });

  it("has a two-level tree of 25 categories", async () => {
    const top = await rows("SELECT id, name FROM categories WHERE parent_id IS NULL ORDER BY id");
    expect(top.map((c) => c.name)).toEqual([
      "Electronics",
      "Home & Kitchen",
      "Books",
      "Sports & Outdoors",
      "Clothing & Shoes",
    ]);
    const children = await rows(
      "SELECT p.name AS parent, COUNT(*) AS n FROM categories c JOIN categories p ON p.id = c.parent_id WHERE p.parent_id IS NULL GROUP BY p.name",
    );
    expect(children.map((c) => Number(c.n))).toEqual([4, 4, 4, 4, 4]);
    const [deeper] = await rows(
      "SELECT COUNT(*) AS n FROM categories c JOIN categories p ON p.id = c.parent_id WHERE p.parent_id IS NOT NULL",
    );
    expect(Number(deeper?.n)).toBe(0);
  });

  it("has sixty products in stock, sold by sellers, in leaf categories", async () => {
    const products = await rows(
      `SELECT p.id, p.name, p.price, p.inventory_quantity AS stock, u.is_seller, c.parent_id
       FROM products p JOIN users u ON u.id = p.seller_id JOIN categories c ON c.id = p.category_id ORDER BY p.id`,
    );
    // The catalogue's products, in its order.
    expect(products.map((p) => [p.name, p.price, p.stock])).toEqual(
      DEMO_PRODUCTS.map((p) => [p.name, p.price, p.stock]),
    );
    for (const product of products) {
      expect(product.stock, product.name).toBeGreaterThan(0);
      expect(product.is_seller, product.name).toBe(1);
      expect(product.parent_id, product.name).not.toBeNull();
      expect(product.price, product.name).toMatch(/^\d+\.\d\d$/);
    }
    expect(new Set(products.map((p) => p.name)).size).toBe(60);
  });

  it("has the shopper's orders, each totalling its items at the price paid", async () => {
    const orders = await rows(
      `SELECT o.id, o.total_amount, o.status, u.username,
              (SELECT SUM(i.quantity * i.price_at_time) FROM order_items i WHERE i.order_id = o.id) AS items_total,
              (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) AS items
       FROM orders o JOIN users u ON u.id = o.user_id ORDER BY o.id`,
    );
    expect(orders.map((o) => [o.id, o.username, o.status, o.items, o.total_amount])).toEqual([
      ["1", DEMO_SHOPPER, "delivered", "3", "56.97"],
      ["2", DEMO_SHOPPER, "delivered", "2", "142.95"],
      ["3", DEMO_SHOPPER, "cancelled", "1", "1299.00"],
      ["4", DEMO_SHOPPER, "shipped", "2", "153.00"],
      ["5", DEMO_SHOPPER, "paid", "4", "356.97"],
    ]);
    for (const order of orders) expect(order.total_amount, `order ${order.id}`).toBe(order.items_total);
    const [mismatched] = await rows(
      "SELECT COUNT(*) AS n FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.price_at_time <> p.price",
    );
    expect(Number(mismatched?.n)).toBe(0);
  });

  it("has a cart for the shopper and fixed timestamps no later than the reference date", async () => {
    const cart = await rows(
      "SELECT u.username, c.product_id, c.quantity FROM shopping_carts c JOIN users u ON u.id = c.user_id ORDER BY c.id",
    );
    expect(cart).toEqual([
      { username: DEMO_SHOPPER, product_id: "37", quantity: 1 },
      { username: DEMO_SHOPPER, product_id: "43", quantity: 2 },
    ]);
    const [latest] = await rows(
      "SELECT GREATEST((SELECT MAX(updated_at) FROM users), (SELECT MAX(updated_at) FROM products), (SELECT MAX(updated_at) FROM orders), (SELECT MAX(updated_at) FROM shopping_carts)) AS t",
    );
    expect(latest?.t <= "2025-06-01 12:00:00.000").toBe(true);
  });

  it("is the same, byte for byte, every time", async () => {
    await seedStore({ mysqlUrl: withDatabase(stack.serverUrl, secondDatabase), plan: { kind: "demo" } });
    const [a, b] = [await storeChecksum(await stack.mysql()), await checksumOf(secondDatabase)];
    expect(b).toEqual(a);
    expect(a.tables.products.rows).toBe(60);
  });

  it("refuses a database that already has data, and changes nothing", async () => {
    const before = await storeChecksum(await stack.mysql());
    const migrations = await rows("SELECT * FROM schema_migrations ORDER BY version");
    const error = await seedStore({
      mysqlUrl: stack.mysqlUrl,
      plan: { kind: "synthetic", users: 10, products: 5, orders: 5, seed: 1 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect((error as StackError).message).toBe(
      `database ${stack.database} already has data (users: 3 rows, categories: 25 rows, products: 60 rows, shopping_carts: 2 rows, orders: 5 rows, order_items: 12 rows)`,
    );
    expect((error as StackError).hint).toBe("use --reset to drop and reload it");
    expect(await storeChecksum(await stack.mysql())).toEqual(before);
    expect(await rows("SELECT * FROM schema_migrations ORDER BY version")).toEqual(migrations);
  });

  it("with reset, drops and reloads", async () => {
    const demo = await storeChecksum(await stack.mysql());
    const reloaded = await seedStore({
      mysqlUrl: stack.mysqlUrl,
      plan: { kind: "synthetic", users: 10, products: 5, orders: 5, seed: 1 },
      reset: true,
    });
    expect(reloaded.rows).toEqual({
      users: 10,
      categories: 25,
      products: 5,
      shopping_carts: 0,
      orders: 5,
      order_items: 13,
    });
    const [users] = await rows("SELECT COUNT(*) AS n, SUM(username = ?) AS shoppers FROM users", [DEMO_SHOPPER]);
    expect(Number(users?.n)).toBe(10);
    expect(Number(users?.shoppers)).toBe(0);
    const [migrations] = await rows("SELECT COUNT(*) AS n FROM schema_migrations");
    expect(Number(migrations?.n)).toBe(6);

    const back = await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" }, reset: true });
    expect(back.rows.products).toBe(60);
    // The demo data set again, byte for byte as before the reset.
    expect(await storeChecksum(await stack.mysql())).toEqual(demo);
  });
});

describe("isStoreSeeded", () => {
  it("tells a missing or empty store database from one with data", async () => {
    const database = stack.name("probe");
    const url = withDatabase(stack.serverUrl, database);
    expect(await isStoreSeeded(url)).toBe(false);
    const server = await connectMysql(stack.serverUrl);
    try {
      await server.query(`CREATE DATABASE ${server.escapeId(database)}`);
    } finally {
      await server.end();
    }
    const connection = await connectMysql(url);
    try {
      await migrateStore(connection);
    } finally {
      await connection.end();
    }
    expect(await isStoreSeeded(url)).toBe(false);
    await seedStore({ mysqlUrl: url, plan: { kind: "demo" } });
    expect(await isStoreSeeded(url)).toBe(true);
  });
});

describe("passwords", () => {
  it("hash to the self-describing scrypt format and verify", async () => {
    const stored = await hashPassword("correct horse", { cost: { N: 1024, r: 8, p: 1 } });
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword("correct horse", stored)).toBe(true);
    expect(await verifyPassword("Correct horse", stored)).toBe(false);
    expect(await hashPassword("correct horse", { cost: { N: 1024, r: 8, p: 1 } })).not.toBe(stored);
  });

  it("reject hashes they cannot read instead of throwing", async () => {
    for (const bad of ["", "plain", "bcrypt$2b$10$abc", "scrypt$x$8$1$c2FsdA==$aGFzaA==", "scrypt$1024$8$1$$"]) {
      expect(await verifyPassword("anything", bad), bad).toBe(false);
    }
  });
});
