import { describe, expect, it } from "vitest";
import { likeOperator, statementShape } from "../src/workload/index.ts";
import type { StatementShape } from "../src/workload/types.ts";

const shape = (sql: string) => statementShape(sql, { database: "store" });
const col = (table: string, column: string) => ({ table, column });

describe("statementShape on the legacy store's statements", () => {
  it("a lookup by key", () => {
    expect(shape("SELECT * FROM users WHERE username = 'shopper'")).toEqual<StatementShape>({
      kind: "select",
      tables: ["users"],
      conditions: [{ column: col("users", "username"), operator: "=" }],
      joins: [],
      orderBy: [],
      limit: false,
      aggregate: false,
      writes: [],
      locking: false,
      complex: false,
    });
  });

  it("a listing: join with aliases, ORDER BY, LIMIT/OFFSET", () => {
    const s = shape(
      `SELECT p.id, p.name, u.username AS seller_name
         FROM products p JOIN users AS u ON u.id = p.seller_id
        WHERE p.category_id = 7
        ORDER BY p.created_at DESC, p.id
        LIMIT 12 OFFSET 24`,
    );
    expect(s.tables).toEqual(["products", "users"]);
    expect(s.joins).toEqual([{ left: col("users", "id"), right: col("products", "seller_id") }]);
    expect(s.conditions).toEqual([{ column: col("products", "category_id"), operator: "=" }]);
    expect(s.orderBy).toEqual([
      { column: col("products", "created_at"), direction: "desc" },
      { column: col("products", "id"), direction: "asc" },
    ]);
    expect(s.limit).toBe(true);
    expect(s.complex).toBe(false);
  });

  it("the cart: backticks, db.table, and a join in WHERE", () => {
    const s = shape(
      "SELECT sc.quantity, p.price FROM `store`.`shopping_carts` `sc`, store.products p WHERE sc.product_id = p.id AND `sc`.`user_id` = 3",
    );
    expect(s.tables).toEqual(["shopping_carts", "products"]);
    expect(s.joins).toEqual([{ left: col("shopping_carts", "product_id"), right: col("products", "id") }]);
    expect(s.conditions).toEqual([{ column: col("shopping_carts", "user_id"), operator: "=" }]);
  });

  it("a table named like a function", () => {
    const s = shape("INSERT INTO log (msg, level) VALUES ('x', 1)");
    expect(s.tables).toEqual(["log"]);
    expect(s.writes).toEqual([col("log", "msg"), col("log", "level")]);
  });

  it("tables of another database keep their prefix", () => {
    expect(shape("SELECT * FROM archive.orders o WHERE o.id = 1").tables).toEqual(["archive.orders"]);
  });

  it("LIKE: decided from the pattern before literals are gone", () => {
    const op = (sql: string) => shape(sql).conditions.map((c) => c.operator);
    expect(op("SELECT * FROM products WHERE name LIKE 'lamp%'")).toEqual(["like-prefix"]);
    expect(op("SELECT * FROM products WHERE name LIKE '%lamp%'")).toEqual(["like-contains"]);
    expect(op("SELECT * FROM products WHERE name LIKE '%lamp'")).toEqual(["like-contains"]);
    expect(op("SELECT * FROM products WHERE name LIKE 'lamp'")).toEqual(["="]);
    expect(op("SELECT * FROM products WHERE name LIKE ?")).toEqual(["other"]);
    expect(op("SELECT * FROM products WHERE name NOT LIKE 'a%'")).toEqual(["other"]);
    expect(op("SELECT * FROM products WHERE name LIKE '50\\%%'")).toEqual(["like-prefix"]);
    expect(likeOperator("_x")).toBe("like-contains");
    expect(likeOperator("ab\\_c")).toBe("=");
  });

  it("conditions of every kind, either way round", () => {
    const s = shape(
      `SELECT * FROM orders
        WHERE user_id IN (1, 2) AND created_at BETWEEN '2025-01-01' AND '2025-02-01'
          AND 100 < total_amount AND status <> 'cancelled' AND updated_at IS NULL
          AND (id >= 10 OR id <= 5) AND user_id IS NOT NULL AND LOWER(status) = 'paid' AND id NOT IN (3)`,
    );
    expect(s.conditions.map((c) => `${c.column.column} ${c.operator}`)).toEqual([
      "user_id in",
      "created_at between",
      "total_amount >",
      "status !=",
      "updated_at is null",
      "id >=",
      "id <=",
      "user_id is not null",
      "status other",
      "id other",
    ]);
    expect(s.conditions.every((c) => c.column.table === "orders")).toBe(true);
  });

  it("aggregates: COUNT/SUM, GROUP BY, HAVING, DISTINCT", () => {
    expect(shape("SELECT COUNT(*) AS products FROM products WHERE seller_id = 2").aggregate).toBe(true);
    expect(shape("SELECT status FROM orders GROUP BY status").aggregate).toBe(true);
    expect(shape("SELECT DISTINCT status FROM orders").aggregate).toBe(true);
    expect(shape("SELECT user_id FROM orders GROUP BY user_id HAVING SUM(total_amount) > 100").aggregate).toBe(true);
    expect(shape("SELECT id, name FROM products WHERE id = 1").aggregate).toBe(false);
  });

  it("ORDER BY a select-list alias reads through to its column", () => {
    const s = shape(
      "SELECT o.created_at AS placed, COUNT(*) AS n FROM orders o WHERE o.user_id = 1 ORDER BY placed DESC, n",
    );
    expect(s.orderBy).toEqual([{ column: col("orders", "created_at"), direction: "desc" }]);
  });

  it("writes: INSERT columns, ON DUPLICATE KEY UPDATE, UPDATE SET", () => {
    const add = shape(
      "INSERT INTO shopping_carts (user_id, product_id, quantity) VALUES (1, 2, 1) ON DUPLICATE KEY UPDATE quantity = quantity + 1",
    );
    expect(add.kind).toBe("insert");
    expect(add.tables).toEqual(["shopping_carts"]);
    expect(add.writes).toEqual([
      col("shopping_carts", "user_id"),
      col("shopping_carts", "product_id"),
      col("shopping_carts", "quantity"),
    ]);
    const take = shape(
      "UPDATE products SET inventory_quantity = inventory_quantity - 2 WHERE id = 7 AND inventory_quantity >= 2",
    );
    expect(take.kind).toBe("update");
    expect(take.writes).toEqual([col("products", "inventory_quantity")]);
    expect(take.conditions.map((c) => c.operator)).toEqual(["=", ">="]);
    const replace = shape("REPLACE INTO users SET username = 'a', email = 'b'");
    expect(replace.kind).toBe("replace");
    expect(replace.writes).toEqual([col("users", "username"), col("users", "email")]);
    const remove = shape("DELETE FROM shopping_carts WHERE user_id = 3 AND product_id = 5");
    expect(remove.kind).toBe("delete");
    expect(remove.conditions).toEqual([
      { column: col("shopping_carts", "user_id"), operator: "=" },
      { column: col("shopping_carts", "product_id"), operator: "=" },
    ]);
  });

  it("locking reads", () => {
    expect(shape("SELECT id, inventory_quantity FROM products WHERE id IN (1, 2) FOR UPDATE").locking).toBe(true);
    expect(shape("SELECT * FROM products WHERE id = 1 LOCK IN SHARE MODE").locking).toBe(true);
    expect(shape("SELECT * FROM products WHERE id = 1 FOR SHARE").locking).toBe(true);
    expect(shape("SELECT * FROM products WHERE id = 1").locking).toBe(false);
  });

  it("subqueries and UNION are complex, the outer query read as far as it goes", () => {
    const sub = shape("SELECT * FROM products WHERE id IN (SELECT product_id FROM order_items WHERE order_id = 9)");
    expect(sub.complex).toBe(true);
    expect(sub.tables).toEqual(["products", "order_items"]);
    expect(sub.conditions).toContainEqual({ column: col("products", "id"), operator: "in" });
    expect(sub.conditions).toContainEqual({ column: col("order_items", "order_id"), operator: "=" });
    const union = shape("SELECT id FROM users WHERE username = 'a' UNION SELECT id FROM users WHERE email = 'b'");
    expect(union.complex).toBe(true);
    expect(union.conditions.map((c) => c.column.column)).toEqual(["username", "email"]);
    const derived = shape("SELECT t.n FROM (SELECT COUNT(*) AS n FROM orders WHERE user_id = 1) t");
    expect(derived.complex).toBe(true);
    expect(derived.tables).toEqual(["orders"]);
  });

  it("an unqualified column in a statement over several tables is left unresolved", () => {
    const s = shape("SELECT * FROM orders o JOIN order_items i ON i.order_id = o.id WHERE status = 'paid'");
    expect(s.conditions).toEqual([{ column: col("", "status"), operator: "=" }]);
    expect(s.complex).toBe(true);
  });

  it("JOIN ... USING", () => {
    const s = shape("SELECT * FROM orders JOIN order_items USING (order_id) WHERE orders.user_id = 1");
    expect(s.joins).toEqual([{ left: col("orders", "order_id"), right: col("order_items", "order_id") }]);
  });

  it("normalised text works too (LIKE ? is then unknown)", () => {
    const s = shape("SELECT id, name FROM products WHERE name LIKE ? ORDER BY name LIMIT ?");
    expect(s.conditions).toEqual([{ column: col("products", "name"), operator: "other" }]);
    expect(s.limit).toBe(true);
  });

  it("transaction control and session statements are kind other", () => {
    for (const sql of [
      "BEGIN",
      "START TRANSACTION",
      "COMMIT",
      "ROLLBACK",
      "SET autocommit = 1",
      "SHOW TABLES",
      "USE store",
    ]) {
      expect(shape(sql)).toMatchObject({ kind: "other", tables: [], conditions: [] });
    }
  });
});
