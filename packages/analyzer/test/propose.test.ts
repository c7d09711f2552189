import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseContract } from "@ferry/contract";
import { connectMysql, withDatabase } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import { seedStore } from "@ferry/store";
import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { contractText } from "../src/analyze.ts";
import { introspect } from "../src/facts/index.ts";
import { mergeContract } from "../src/merge/index.ts";
import { proposeContract } from "../src/propose/index.ts";
import { buildWorkload } from "../src/workload/index.ts";
import type { Workload } from "../src/workload/types.ts";

const stack = useTestStack();

/** The legacy store's statements, with how often each was seen. */
const STATEMENTS: Array<[string, number]> = [
  ["SELECT * FROM products WHERE id = 7", 200],
  ["SELECT * FROM users WHERE id = 3", 100],
  ["SELECT * FROM products WHERE category_id = 4 ORDER BY name LIMIT 20 OFFSET 0", 100],
  ["SELECT * FROM shopping_carts WHERE user_id = 3", 80],
  ["SELECT * FROM categories", 70],
  ["SELECT c.*, p.name, p.price FROM shopping_carts c JOIN products p ON p.id = c.product_id WHERE c.user_id = 3", 60],
  ["SELECT * FROM users WHERE username = 'alice'", 50],
  ["SELECT * FROM orders WHERE user_id = 3 ORDER BY created_at DESC LIMIT 10", 40],
  ["SELECT * FROM order_items WHERE order_id = 9", 30],
  ["UPDATE shopping_carts SET quantity = 2 WHERE user_id = 3 AND product_id = 5", 20],
  ["SELECT * FROM products WHERE name LIKE '%lamp%'", 15],
  ["SELECT * FROM users WHERE email = 'a@example.com'", 10],
  ["SELECT * FROM orders WHERE id = 9", 10],
  ["INSERT INTO orders (user_id, total_amount, status) VALUES (3, '10.00', 'pending')", 10],
  ["UPDATE products SET inventory_quantity = inventory_quantity - 1 WHERE id = 7 AND inventory_quantity >= 1", 10],
  ["DELETE FROM shopping_carts WHERE user_id = 3", 10],
  ["SELECT COUNT(*) FROM products WHERE seller_id = 2", 5],
];

function workload(statements: Array<[string, number]>, database = stack.database): Workload {
  const entries = statements.flatMap(([sql, n]) => Array.from({ length: n }, (_, i) => ({ sql, at: i * 1000 })));
  return buildWorkload(entries, { origin: "test", database, seconds: 100 });
}

const dir = mkdtempSync(join(tmpdir(), "ferry-propose-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await seedStore({ mysqlUrl: stack.mysqlUrl, plan: { kind: "demo" } });
});

async function facts(connection?: Connection, database = stack.database) {
  return introspect(connection ?? (await stack.mysql()), database);
}

describe("the proposed design for the store", () => {
  it("passes the contract's own checks", async () => {
    const { contract } = proposeContract(await facts(), workload(STATEMENTS), { name: "store" });
    const text = contractText(undefined, { contract, comments: [] }, true).text;
    const loaded = parseContract(text, "store.yaml");
    expect(loaded.errors.map((e) => `${e.line}:${e.column} ${e.message}`)).toEqual([]);
  });

  it("puts children read through their parent in the parent's item collection", async () => {
    const { contract } = proposeContract(await facts(), workload(STATEMENTS));
    const { User, ShoppingCart, Order, OrderItem, Product } = contract.entities;
    expect(User?.key).toEqual({ partition: "USER#{id}", sort: "USER" });
    expect(ShoppingCart?.key).toEqual({ partition: "USER#{userId}", sort: "SHOPPING_CART#{productId}" });
    expect(ShoppingCart?.parent).toEqual({ entity: "User", attributes: { userId: "id" } });
    // Orders are read by user (newest first) more than by id: under the user, sorted by time.
    expect(Order?.key).toEqual({ partition: "USER#{userId}", sort: "ORDER#{createdAt}#{id}" });
    // Order is itself a child, so its items cannot nest further: their own partition, found by order.
    expect(OrderItem?.parent).toBeUndefined();
    // The workload's lookup first; the foreign key to products, inferred from the schema, after it.
    expect(OrderItem?.indexes).toEqual({
      GSI1: { partition: "ORDER_ITEM#ORDER_ID#{orderId}", sort: "{id}" },
      GSI2: { partition: "ORDER_ITEM#PRODUCT_ID#{productId}", sort: "{id}" },
    });
    expect(Product?.key).toEqual({ partition: "PRODUCT#{id}", sort: "PRODUCT" });
  });

  it("gives other lookups overloaded GSIs, most frequent first, and lists a small table through one partition", async () => {
    const { contract } = proposeContract(await facts(), workload(STATEMENTS));
    const { User, Product, Category, Order } = contract.entities;
    expect(User?.indexes).toEqual({
      GSI1: { partition: "USER#USERNAME#{username}", sort: "{id}" },
      GSI2: { partition: "USER#EMAIL#{email}", sort: "{id}" },
    });
    // The workload's lookups first, then what the schema implies that the workload did not ask for: the index on
    // name and the foreign key to the seller.
    expect(Product?.indexes).toEqual({
      GSI1: { partition: "PRODUCT#CATEGORY_ID#{categoryId}", sort: "{name}#{id}" },
      GSI2: { partition: "PRODUCT#NAME#{name}", sort: "{id}" },
      GSI3: { partition: "PRODUCT#SELLER_ID#{sellerId}", sort: "{id}" },
    });
    expect(Order?.indexes).toEqual({
      GSI1: { partition: "ORDER#ID#{id}", sort: "ORDER" },
      GSI2: { partition: "ORDER#STATUS#{status}", sort: "{id}" },
    });
    expect(Category?.indexes).toEqual({
      GSI1: { partition: "CATEGORY", sort: "{id}" },
      GSI2: { partition: "CATEGORY#NAME#{name}#PARENT_ID#{parentId}", sort: "{id}" },
      GSI3: { partition: "CATEGORY#PARENT_ID#{parentId}", sort: "{id}" },
    });
    expect(Object.keys(contract.tables.main?.indexes ?? {})).toEqual(["GSI1", "GSI2", "GSI3"]);
    expect(User?.unique).toEqual({
      uq_users_username: { attributes: ["username"] },
      uq_users_email: { attributes: ["email"] },
    });
  });

  it("maps every statement to GetItem, Query (+index), a write by key, or unsupported with the reason", async () => {
    const { contract } = proposeContract(await facts(), workload(STATEMENTS));
    const summary = Object.fromEntries(
      Object.entries(contract.accessPatterns ?? {}).map(([name, p]) => [
        name,
        [p.dynamodb.operation, p.dynamodb.index ?? "", p.returns, p.observed?.count].join(" "),
      ]),
    );
    expect(summary).toEqual({
      getProductById: "GetItem  one 200",
      getUserById: "GetItem  one 100",
      listProductsByCategoryId: "Query GSI1 many 100",
      listShoppingCartsByUserId: "Query  many 80",
      listCategories: "Query GSI1 many 70",
      listShoppingCartsByUserIdWithProducts: "unsupported  many 60",
      getUserByUsername: "Query GSI1 one 50",
      listOrdersByUserId: "Query  many 40",
      listOrderItemsByOrderId: "Query GSI1 many 30",
      updateShoppingCartByUserIdAndProductId: "UpdateItem  none 20",
      searchProductsByName: "unsupported  many 15",
      getUserByEmail: "Query GSI2 one 10",
      getOrderById: "Query GSI1 one 10",
      createOrder: "PutItem  none 10",
      updateProductById: "UpdateItem  none 10",
      deleteShoppingCartByUserId: "DeleteItem  none 10",
      countProductsBySellerId: "unsupported  one 5",
      // Then, without a rate, what the schema implies and the workload did not ask for, table by table.
      getCategoryByParentIdAndName: "Query GSI2 one ",
      listCategoriesByParentId: "Query GSI3 many ",
      getOrderItemByOrderIdAndProductId: "Query GSI1 one ",
      listOrderItemsByProductId: "Query GSI2 many ",
      listOrdersByStatus: "Query GSI2 many ",
      listProductsBySellerId: "Query GSI3 many ",
      listProductsByName: "Query GSI2 many ",
      getShoppingCartByUserIdAndProductId: "GetItem  one ",
      listShoppingCartsByProductId: "Query GSI1 many ",
    });
    // In that order: every observed pattern first.
    const kinds = Object.values(contract.accessPatterns ?? {}).map((p) => (p.observed ? "observed" : "inferred"));
    expect(kinds).toEqual([...Array(17).fill("observed"), ...Array(9).fill("inferred")]);
    expect(contract.accessPatterns?.listProductsBySellerId?.inferred).toEqual({
      from: "foreign key products.fk_products_seller (seller_id) to users",
    });
    const patterns = contract.accessPatterns ?? {};
    expect(patterns.listOrdersByUserId?.dynamodb.order).toBe("desc");
    expect(patterns.listShoppingCartsByUserIdWithProducts?.dynamodb.reason).toMatch(
      /^joins products: its items live in other partitions/,
    );
    expect(patterns.searchProductsByName?.dynamodb.reason).toMatch(/^LIKE '%…%' on name/);
    expect(patterns.countProductsBySellerId?.dynamodb.reason).toMatch(/^aggregate/);
    expect(patterns.updateProductById?.notes).toBe("only if inventoryQuantity >= ? (a ConditionExpression)");
    expect(patterns.getUserByEmail?.parameters).toEqual({ email: "string" });
  });
});

describe("analyzing again", () => {
  it("names a new statement by how it differs from the contract's pattern of the same name, not by a number", async () => {
    const current = proposeContract(await facts(), workload(STATEMENTS), { name: "store" }).contract;
    const sql = "SELECT * FROM shopping_carts WHERE user_id = 3 ORDER BY product_id";
    const later = proposeContract(await facts(), workload([[sql, 5]]), { name: "store" }).contract;
    // Alone in its workload, the new statement is proposed under the name the contract already gives another.
    const observed = Object.entries(later.accessPatterns ?? {}).filter(([, p]) => p.observed !== undefined);
    expect(observed.map(([name]) => name)).toEqual(["listShoppingCartsByUserId"]);
    const { contract, drift } = mergeContract(current, later, { workloadGiven: true });
    const normalised = "SELECT * FROM shopping_carts WHERE user_id = ? ORDER BY product_id";
    expect(contract.accessPatterns?.listShoppingCartsByUserIdOrderedByProductId?.observed?.sql).toBe(normalised);
    expect(contract.accessPatterns?.listShoppingCartsByUserId?.observed?.sql).toBe(
      "SELECT * FROM shopping_carts WHERE user_id = ?",
    );
    expect(drift.workload).toContain(
      `new statement -> access pattern listShoppingCartsByUserIdOrderedByProductId: ${normalised}`,
    );
    expect(Object.keys(contract.accessPatterns ?? {}).filter((name) => /[0-9]$/.test(name))).toEqual([]);
  });

  it("refreshes the facts, keeps every hand edit, proposes what is new, and reports the drift", async () => {
    // A database of its own, as this test changes the schema underneath (the file's stays as the other tests need).
    const database = stack.name("changed");
    await seedStore({ mysqlUrl: withDatabase(stack.serverUrl, database), plan: { kind: "demo" } });
    const db = await connectMysql(withDatabase(stack.serverUrl, database));
    onTestFinished(() => db.end());
    const file = join(dir, "store.yaml");
    const first = proposeContract(await facts(db, database), workload(STATEMENTS, database), { name: "store" });
    writeFileSync(file, contractText(file, first, true).text);

    // A person reviews it: renames an entity, changes a template and a type, adds a comment and a note.
    const edited = readFileSync(file, "utf8")
      .replace(/^ {2}User:$/m, "  # Customers, not users: the business's word.\n  Customer:")
      .replaceAll("entity: User\n", "entity: Customer\n")
      .replace("partition: PRODUCT#{id}", "partition: ITEM#{id}")
      .replace(/(priceAtTime:\n\s+type: )decimal/, "$1string")
      .replace(/( {2}Category:\n {4}table: main\n)/, "$1    notes: a small tree, read whole\n");
    expect(edited).toContain("Customer:");
    writeFileSync(file, edited);
    expect(parseContract(edited, file).errors).toEqual([]);

    // MySQL changes underneath.
    await db.query("ALTER TABLE users ADD COLUMN phone VARCHAR(20) NULL");
    await db.query("ALTER TABLE products DROP COLUMN image_url");
    await db.query(
      "ALTER TABLE orders MODIFY status ENUM('pending','paid','shipped','delivered','cancelled','refunded') NOT NULL DEFAULT 'pending'",
    );
    await db.query(
      "CREATE TABLE wishlists (id BIGINT UNSIGNED PRIMARY KEY AUTO_INCREMENT, user_id BIGINT UNSIGNED NOT NULL)",
    );
    try {
      const again = proposeContract(
        await facts(db, database),
        workload([...STATEMENTS, ["SELECT * FROM wishlists WHERE user_id = 1", 3]], database),
        {
          name: "store",
        },
      );
      const update = contractText(file, again, true);
      expect(update.drift?.schema).toEqual([
        "table wishlists added (2 columns)",
        "orders.status retyped: enum('pending','paid','shipped','delivered','cancelled') not null -> enum('pending','paid','shipped','delivered','cancelled','refunded') not null",
        "products.image_url removed (was varchar(500) null)",
        "users.phone added (varchar(20) null)",
      ]);
      expect(update.drift?.workload).toEqual([
        "new statement -> access pattern listWishlistsByUserId: SELECT * FROM wishlists WHERE user_id = ?",
      ]);
      const text = update.text;
      expect(text).toContain("# Customers, not users: the business's word.\n  Customer:");
      expect(text).not.toMatch(/^ {2}User:$/m);
      expect(text).toContain("partition: ITEM#{id}");
      expect(text).toContain("notes: a small tree, read whole");
      const { contract } = update;
      expect(contract.entities.Customer?.attributes.phone?.column).toEqual({
        name: "phone",
        sqlType: "varchar(20)",
        nullable: true,
        collation: "utf8mb4_unicode_ci",
      });
      expect(contract.entities.Product?.attributes.imageUrl).toBeUndefined();
      expect(contract.entities.OrderItem?.attributes.priceAtTime?.type).toBe("string");
      expect(contract.entities.Order?.attributes.status?.column.sqlType).toBe(
        "enum('pending','paid','shipped','delivered','cancelled','refunded')",
      );
      expect(contract.entities.Wishlist?.key).toEqual({ partition: "WISHLIST#{id}", sort: "WISHLIST" });
      expect(contract.accessPatterns?.getUserById?.entity).toBe("Customer");
      expect(parseContract(text, file).errors).toEqual([]);

      // Once written, analysing again changes nothing and reports no drift.
      writeFileSync(file, text);
      const third = contractText(file, again, true);
      expect(third.drift?.schema).toEqual([]);
      expect(third.text).toBe(text);
    } finally {
      await db.query("DROP TABLE wishlists");
    }
  });
});
