import { describe, expect, it } from "vitest";
import {
  distinctNames,
  type NameSource,
  QUALIFIERS,
  type Qualifiers,
  statementQualifiers,
} from "../src/propose/pattern-names.ts";
import { statementShape } from "../src/workload/index.ts";

const ENTITIES: Record<string, string> = {
  shopping_carts: "ShoppingCart",
  products: "Product",
  order_items: "OrderItem",
  users: "User",
};
const camel = (column: string) => column.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const source = (table: string): NameSource => ({
  table,
  entityOf: (other) => ENTITIES[other],
  attributeOf: (other, column) => (ENTITIES[other] ? camel(column) : undefined),
});
const qualifiers = (sql: string, table: string) => statementQualifiers(statementShape(sql), sql, source(table));
const none = Object.fromEntries(QUALIFIERS.map((q) => [q, ""])) as Qualifiers;

describe("statementQualifiers", () => {
  it("says a statement's order, joins, other conditions, writes, locking, limit and columns in words", () => {
    expect(
      qualifiers(
        "SELECT sc.product_id, sc.quantity, p.name AS product_name FROM shopping_carts sc JOIN products p ON p.id = sc.product_id WHERE sc.user_id = ? AND p.price < ? ORDER BY sc.created_at DESC, p.name LIMIT ?",
        "shopping_carts",
      ),
    ).toEqual({
      order: "OrderedByCreatedAtDescAndProductName",
      joins: "WithProducts",
      conditions: "WhereProductPriceBelow",
      writes: "",
      locking: "",
      limit: "Limited",
      columns: "SelectingProductIdAndQuantityAndProductName",
    });
    expect(
      qualifiers("UPDATE products SET inventory_quantity = ? WHERE id = ? AND inventory_quantity >= ?", "products"),
    ).toEqual({ ...none, conditions: "WhereInventoryQuantityAtLeast", writes: "SettingInventoryQuantity" });
    expect(qualifiers("SELECT * FROM products WHERE id IN (...) FOR UPDATE", "products")).toEqual({
      ...none,
      locking: "ForUpdate",
      columns: "SelectingAll",
    });
  });
});

describe("distinctNames", () => {
  const named = (base: string, statements: Array<[string, string]>, taken: string[] = []) =>
    distinctNames(
      base,
      statements.map(([sql, table], i) => ({ qualifiers: qualifiers(sql, table), digest: `${i}abcdef0123456789` })),
      new Set(taken),
    );

  it("keeps a name nothing else has", () => {
    expect(named("getUserById", [["SELECT * FROM users WHERE id = ?", "users"]])).toEqual(["getUserById"]);
  });

  it("tells two listings apart by their order, not by a number", () => {
    expect(
      named("listShoppingCartsByUserId", [
        [
          "SELECT sc.product_id, p.name FROM shopping_carts sc JOIN products p ON p.id = sc.product_id WHERE sc.user_id = ? ORDER BY sc.created_at",
          "shopping_carts",
        ],
        ["SELECT product_id, quantity FROM shopping_carts WHERE user_id = ? ORDER BY product_id", "shopping_carts"],
      ]),
    ).toEqual(["listShoppingCartsByUserIdOrderedByCreatedAt", "listShoppingCartsByUserIdOrderedByProductId"]);
  });

  it("goes on to the next difference when the first does not tell them apart", () => {
    expect(
      named("countProductsBySellerId", [
        ["SELECT COUNT(*) AS products FROM products WHERE seller_id = ?", "products"],
        [
          "SELECT COUNT(DISTINCT oi.order_id) AS orders FROM order_items oi JOIN products p ON p.id = oi.product_id WHERE p.seller_id = ?",
          "products",
        ],
      ]),
    ).toEqual(["countProductsBySellerId", "countProductsBySellerIdWithOrderItems"]);
    expect(
      named("getUserById", [
        ["SELECT * FROM users WHERE id = ?", "users"],
        ["SELECT id, username FROM users WHERE id = ?", "users"],
      ]),
    ).toEqual(["getUserByIdSelectingAll", "getUserByIdSelectingIdAndUsername"]);
  });

  it("moves a new statement off a name the contract has, saying only what the name does not say already", () => {
    expect(
      named(
        "listShoppingCartsByUserId",
        [["SELECT * FROM shopping_carts WHERE user_id = ? ORDER BY product_id", "shopping_carts"]],
        ["listShoppingCartsByUserId"],
      ),
    ).toEqual(["listShoppingCartsByUserIdOrderedByProductId"]);
    expect(
      named(
        "listShoppingCartsByUserIdOrderedByProductId",
        [["SELECT * FROM shopping_carts WHERE user_id = ? ORDER BY product_id LIMIT ?", "shopping_carts"]],
        ["listShoppingCartsByUserIdOrderedByProductId"],
      ),
    ).toEqual(["listShoppingCartsByUserIdOrderedByProductIdLimited"]);
  });

  it("names statements no word tells apart by their digest, never by a counter", () => {
    const names = named("getUserById", [
      ["SELECT * FROM users WHERE id = ? AND username = ?", "users"],
      ["SELECT * FROM users WHERE id = ? OR username = ?", "users"],
    ]);
    expect(names).toEqual(["getUserById", "getUserByIdDigest1abcdef0"]);
    for (const name of names) expect(name).not.toMatch(/[A-Za-z][2-9]$/);
  });
});
