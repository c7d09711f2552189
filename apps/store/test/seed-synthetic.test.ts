import { connectMysql, StackError, withDatabase } from "@ferry/stack";
// Brings in the typing of what the global setup provides (testing.ts does not import it itself).
import { useTestStack } from "@ferry/stack/testing";
import type { RowDataPacket } from "mysql2/promise";
import { beforeAll, describe, expect, it } from "vitest";
import {
  DEMO_PASSWORD,
  type SeedPlan,
  type SeedResult,
  seedStore,
  storeChecksum,
  verifyPassword,
} from "../src/index.ts";
import { syntheticLoad } from "../src/legacy/synthetic.ts";

const stack = useTestStack();
const plan: SeedPlan = { kind: "synthetic", users: 600, products: 150, orders: 2_500, seed: 42 };

async function rows(sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const connection = await stack.mysql();
  const [result] = await connection.query<RowDataPacket[]>(sql, params);
  return result;
}

async function count(sql: string): Promise<number> {
  const [row] = await rows(sql);
  return Number(row?.n);
}

/** Seeds a database of its own and returns its checksum. */
async function seedElsewhere(suffix: string, options: Partial<Parameters<typeof seedStore>[0]> = {}) {
  const database = stack.name(suffix);
  const result = await seedStore({ mysqlUrl: withDatabase(stack.serverUrl, database), plan, ...options });
  const connection = await connectMysql(withDatabase(stack.serverUrl, database));
  try {
    return { result, checksum: await storeChecksum(connection) };
  } finally {
    await connection.end();
  }
}

describe("a synthetic data set", () => {
  let result: SeedResult;

  beforeAll(async () => {
    result = await seedStore({ mysqlUrl: stack.mysqlUrl, plan });
  });

  it("has the asked-for users, products and orders, and the 25 categories", async () => {
    // Seed 42 makes 255 cart lines and 6,252 order lines (one to four per order).
    expect(result.rows).toEqual({
      users: 600,
      categories: 25,
      products: 150,
      shopping_carts: 255,
      orders: 2_500,
      order_items: 6_252,
    });
    for (const [table, n] of Object.entries(result.rows)) {
      expect(await count(`SELECT COUNT(*) AS n FROM ${table}`), table).toBe(n);
    }
  });

  it("keeps ids dense and the next auto-increment id after them", async () => {
    for (const table of ["users", "products", "orders", "order_items", "shopping_carts"]) {
      const [range] = await rows(`SELECT MIN(id) AS lo, MAX(id) AS hi, COUNT(*) AS n FROM ${table}`);
      expect([range?.lo, range?.hi], table).toEqual(["1", String(range?.n)]);
    }
    const connection = await stack.mysql();
    await connection.query("INSERT INTO categories (name) VALUES ('New top level')");
    const [inserted] = await rows("SELECT MAX(id) AS id FROM categories");
    expect(inserted?.id).toBe("26");
    await connection.query("DELETE FROM categories WHERE id = 26");
  });

  it("has unique user names and emails, and every user shares the one documented password", async () => {
    expect(await count("SELECT COUNT(DISTINCT username) AS n FROM users")).toBe(600);
    expect(await count("SELECT COUNT(DISTINCT email) AS n FROM users")).toBe(600);
    expect(await count("SELECT COUNT(DISTINCT password_hash) AS n FROM users")).toBe(1);
    const [user] = await rows("SELECT password_hash FROM users WHERE id = 7");
    expect(await verifyPassword(DEMO_PASSWORD, user?.password_hash)).toBe(true);
    expect(await count("SELECT COUNT(*) AS n FROM users WHERE last_name IS NULL")).toBe(32);
    // The accounts the CLI prints: the first seller and the first shopper.
    const accounts = await rows("SELECT username, is_seller FROM users WHERE id IN (1, 2) ORDER BY id");
    expect(result.demoAccounts).toEqual(accounts.map((a) => a.username));
    expect(accounts.map((a) => a.is_seller)).toEqual([1, 0]);
  });

  it("has about 2% sellers, and only sellers own products, in leaf categories", async () => {
    expect(await count("SELECT COUNT(*) AS n FROM users WHERE is_seller = 1")).toBe(12);
    expect(
      await count("SELECT COUNT(*) AS n FROM products p JOIN users u ON u.id = p.seller_id WHERE u.is_seller = 0"),
    ).toBe(0);
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM products p JOIN categories c ON c.id = p.category_id WHERE c.parent_id IS NULL",
      ),
    ).toBe(0);
  });

  it("breaks no foreign key and no unique key (they were not checked while loading)", async () => {
    const orphans = [
      "SELECT COUNT(*) AS n FROM products p LEFT JOIN users u ON u.id = p.seller_id WHERE u.id IS NULL",
      "SELECT COUNT(*) AS n FROM products p LEFT JOIN categories c ON c.id = p.category_id WHERE c.id IS NULL",
      "SELECT COUNT(*) AS n FROM orders o LEFT JOIN users u ON u.id = o.user_id WHERE u.id IS NULL",
      "SELECT COUNT(*) AS n FROM order_items i LEFT JOIN orders o ON o.id = i.order_id WHERE o.id IS NULL",
      "SELECT COUNT(*) AS n FROM order_items i LEFT JOIN products p ON p.id = i.product_id WHERE p.id IS NULL",
      "SELECT COUNT(*) AS n FROM shopping_carts s LEFT JOIN users u ON u.id = s.user_id WHERE u.id IS NULL",
      "SELECT COUNT(*) AS n FROM shopping_carts s LEFT JOIN products p ON p.id = s.product_id WHERE p.id IS NULL",
      "SELECT COUNT(*) AS n FROM (SELECT order_id, product_id FROM order_items GROUP BY order_id, product_id HAVING COUNT(*) > 1) d",
      "SELECT COUNT(*) AS n FROM (SELECT user_id, product_id FROM shopping_carts GROUP BY user_id, product_id HAVING COUNT(*) > 1) d",
    ];
    for (const sql of orphans) expect(await count(sql), sql).toBe(0);
  });

  it("gives every order 1-4 items at the product's price, and a total that is their exact sum", async () => {
    const [shape] = await rows(
      "SELECT MIN(n) AS lo, MAX(n) AS hi, COUNT(*) AS orders FROM (SELECT order_id, COUNT(*) AS n FROM order_items GROUP BY order_id) x",
    );
    expect([Number(shape?.lo), Number(shape?.hi), Number(shape?.orders)]).toEqual([1, 4, 2_500]);
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM orders o JOIN (SELECT order_id, SUM(quantity * price_at_time) AS s FROM order_items GROUP BY order_id) i ON i.order_id = o.id WHERE i.s <> o.total_amount",
      ),
    ).toBe(0);
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.price_at_time <> p.price",
      ),
    ).toBe(0);
    const statuses = await rows("SELECT status, COUNT(*) AS n FROM orders GROUP BY status");
    expect(statuses.map((s) => s.status).sort()).toEqual(["cancelled", "delivered", "paid", "pending", "shipped"]);
  });

  it("keeps time consistent: users and products before their orders, nothing after the reference date", async () => {
    expect(
      await count(
        "SELECT COUNT(*) AS n FROM orders o JOIN users u ON u.id = o.user_id WHERE o.created_at < u.created_at",
      ),
    ).toBe(0);
    expect(await count("SELECT COUNT(*) AS n FROM orders WHERE updated_at < created_at")).toBe(0);
    const [latest] = await rows(
      "SELECT GREATEST((SELECT MAX(updated_at) FROM users), (SELECT MAX(updated_at) FROM products), (SELECT MAX(updated_at) FROM orders), (SELECT MAX(updated_at) FROM shopping_carts)) AS t",
    );
    expect(latest?.t <= "2025-06-01 12:00:00.000").toBe(true);
  });

  it("is the same for the same seed, however it is loaded", async () => {
    const mine = await storeChecksum(await stack.mysql());
    const again = await seedElsewhere("same_seed");
    expect(again.checksum).toEqual(mine);
    // One connection with multi-row INSERTs instead of parallel LOAD DATA streams: same rows.
    const inserted = await seedElsewhere("same_seed_insert", { method: "insert", connections: 1 });
    expect(inserted.checksum).toEqual(mine);
    expect(inserted.result.rows).toEqual(result.rows);
  });

  it("differs for a different seed", async () => {
    const mine = await storeChecksum(await stack.mysql());
    const other = await seedElsewhere("other_seed", { plan: { ...plan, seed: 43 } as SeedPlan });
    expect(other.checksum.sha256).not.toBe(mine.sha256);
    expect(other.checksum.tables.users.sha256).not.toBe(mine.tables.users.sha256);
    expect(other.checksum.tables.orders.sha256).not.toBe(mine.tables.orders.sha256);
    // The category tree is the same whatever the seed.
    expect(other.checksum.tables.categories).toEqual(mine.tables.categories);
  });

  it("handles the edges: no orders, no products, no users", async () => {
    for (const [suffix, size, expected] of [
      ["no_orders", { users: 3, products: 2, orders: 0 }, { users: 3, products: 2 }],
      ["no_products", { users: 3, products: 0, orders: 0 }, { users: 3, products: 0 }],
      ["nothing", { users: 0, products: 0, orders: 0 }, { users: 0, products: 0 }],
    ] as const) {
      const { result: seeded } = await seedElsewhere(suffix, { plan: { kind: "synthetic", seed: 1, ...size } });
      // No orders, so no order lines; seed 1 gives these few users no cart.
      expect(seeded.rows, suffix).toEqual({
        ...expected,
        categories: 25,
        shopping_carts: 0,
        orders: 0,
        order_items: 0,
      });
    }
  });
});

describe("bad synthetic sizes", () => {
  const sizes = "e.g. --users 1000 --products 200 --orders 5000 --seed 1";
  const cases: Array<
    [string, Partial<{ users: number; products: number; orders: number; seed: number }>, string, string]
  > = [
    ["negative", { users: -1 }, "synthetic users must be a whole number of 0 or more, not -1", sizes],
    ["fraction", { orders: 1.5 }, "synthetic orders must be a whole number of 0 or more, not 1.5", sizes],
    ["not a number", { seed: Number.NaN }, "synthetic seed must be a whole number of 0 or more, not NaN", sizes],
    [
      "products without users",
      { users: 0, orders: 0 },
      "synthetic products need users to sell them (users is 0)",
      "give --users 1 or more",
    ],
    [
      "orders without products",
      { products: 0 },
      "synthetic orders need users and products (users: 10, products: 0)",
      "give --users and --products of 1 or more, or --orders 0",
    ],
  ];

  for (const [what, change, message, hint] of cases) {
    it(`are refused before anything is touched: ${what}`, async () => {
      const database = stack.name(`bad_${what.replace(/\W+/g, "_")}`);
      const error = await seedStore({
        mysqlUrl: withDatabase(stack.serverUrl, database),
        plan: { kind: "synthetic", users: 10, products: 5, orders: 5, seed: 1, ...change },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StackError);
      expect(error).toMatchObject({ message, hint });
      const [exists] = await rows("SELECT COUNT(*) AS n FROM information_schema.schemata WHERE schema_name = ?", [
        database,
      ]);
      expect(Number(exists?.n)).toBe(0);
    });
  }
});

describe("syntheticLoad", () => {
  /** Every table's rows in id order, made chunk by chunk in the given order. */
  function tables(chunks: ReturnType<typeof syntheticLoad>["chunks"]) {
    const byTable = new Map<string, unknown[][]>();
    for (const chunk of chunks) byTable.set(chunk.table, [...(byTable.get(chunk.table) ?? []), ...chunk.make()]);
    for (const rowsOf of byTable.values()) rowsOf.sort((a, b) => Number(a[0]) - Number(b[0]));
    return Object.fromEntries([...byTable].sort(([a], [b]) => a.localeCompare(b)));
  }

  it("makes the same rows however they are chunked and in whatever order chunks are made", () => {
    const size = { users: 230, products: 41, orders: 777, seed: 9 };
    const usual = syntheticLoad(size, "hash");
    const odd = syntheticLoad(size, "hash", { rows: 7, ordersPerItemsChunk: 5, usersPerCartsChunk: 3 });
    // Chunks of 7 rows (and of 5 orders' lines, 3 users' carts) against the usual one chunk a table.
    expect([odd.chunks.length, usual.chunks.length]).toEqual([311, 6]);
    expect(odd.totals).toEqual(usual.totals);
    expect(tables([...odd.chunks].reverse())).toEqual(tables(usual.chunks));
  });
});
