import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectMysql, StackError, withDatabase } from "@ferry/stack";
// Brings in the typing of what the global setup provides (testing.ts does not import it itself).
import { useTestStack } from "@ferry/stack/testing";
import type { RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  loadMigrations,
  MIGRATIONS_DIR,
  type MigrateResult,
  migrateStore,
  STORE_TABLES,
  splitStatements,
} from "../src/index.ts";

const stack = useTestStack();
const scratch = mkdtempSync(join(tmpdir(), "ferry-store-migrations-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function rows(sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const connection = await stack.mysql();
  const [result] = await connection.query<RowDataPacket[]>(sql, params);
  return result;
}

/** A fresh database of its own, and a connection to it. */
async function freshDatabase(suffix: string) {
  const database = stack.name(suffix);
  const server = await connectMysql(stack.serverUrl);
  await server.query(`CREATE DATABASE ${server.escapeId(database)}`);
  await server.end();
  return { database, connection: await connectMysql(withDatabase(stack.serverUrl, database)) };
}

describe("migrateStore", () => {
  // The file's database, migrated once before any test: the tests below read what the migrations made.
  let result: MigrateResult;
  beforeAll(async () => {
    result = await migrateStore(await stack.mysql());
  });

  it("applies every migration in order and records it", async () => {
    expect(result.applied.map((m) => m.file)).toEqual([
      "001_users.sql",
      "002_categories.sql",
      "003_products.sql",
      "004_shopping_carts.sql",
      "005_orders.sql",
      "006_order_items.sql",
    ]);
    const recorded = await rows("SELECT version, name, checksum FROM schema_migrations ORDER BY version");
    expect(recorded.map((r) => [Number(r.version), r.name])).toEqual([
      [1, "users"],
      [2, "categories"],
      [3, "products"],
      [4, "shopping_carts"],
      [5, "orders"],
      [6, "order_items"],
    ]);
    expect(recorded.map((r) => r.checksum)).toEqual(result.applied.map((m) => m.checksum));
  });

  it("creates every store table as InnoDB utf8mb4", async () => {
    const tables = await rows(
      "SELECT table_name AS name, engine, table_collation AS collation FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name",
    );
    expect(tables.map((t) => t.name).sort()).toEqual([...STORE_TABLES, "schema_migrations"].sort());
    for (const table of tables) {
      expect(table.engine).toBe("InnoDB");
      expect(table.collation).toBe("utf8mb4_unicode_ci");
    }
  });

  it("names its unique keys and foreign keys", async () => {
    const constraints = await rows(
      "SELECT table_name AS t, constraint_name AS name, constraint_type AS type FROM information_schema.table_constraints WHERE table_schema = DATABASE() AND constraint_type IN ('UNIQUE', 'FOREIGN KEY') ORDER BY constraint_name",
    );
    const named = (type: string) =>
      constraints
        .filter((c) => c.type === type)
        .map((c) => `${c.t}.${c.name}`)
        .sort();
    expect(named("UNIQUE")).toEqual(
      [
        "categories.uq_categories_parent_name",
        "order_items.uq_order_items_order_product",
        "shopping_carts.uq_shopping_carts_user_product",
        "users.uq_users_email",
        "users.uq_users_username",
      ].sort(),
    );
    expect(named("FOREIGN KEY")).toEqual(
      [
        "categories.fk_categories_parent",
        "order_items.fk_order_items_order",
        "order_items.fk_order_items_product",
        "orders.fk_orders_user",
        "products.fk_products_category",
        "products.fk_products_seller",
        "shopping_carts.fk_shopping_carts_product",
        "shopping_carts.fk_shopping_carts_user",
      ].sort(),
    );

    const references = await rows(
      `SELECT k.constraint_name AS name, k.column_name AS col, k.referenced_table_name AS ref, k.referenced_column_name AS refcol, r.delete_rule AS on_delete
       FROM information_schema.key_column_usage k
       JOIN information_schema.referential_constraints r ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name
       WHERE k.table_schema = DATABASE() ORDER BY k.constraint_name`,
    );
    const byName = Object.fromEntries(
      references.map((r) => [r.name, `${r.col} -> ${r.ref}.${r.refcol} ${r.on_delete}`]),
    );
    expect(byName).toEqual({
      fk_categories_parent: "parent_id -> categories.id RESTRICT",
      fk_order_items_order: "order_id -> orders.id CASCADE",
      fk_order_items_product: "product_id -> products.id RESTRICT",
      fk_orders_user: "user_id -> users.id RESTRICT",
      fk_products_category: "category_id -> categories.id RESTRICT",
      fk_products_seller: "seller_id -> users.id RESTRICT",
      fk_shopping_carts_product: "product_id -> products.id CASCADE",
      fk_shopping_carts_user: "user_id -> users.id CASCADE",
    });
  });

  it("has the indexes the store's queries need", async () => {
    const indexes = await rows(
      `SELECT table_name AS t, index_name AS name, GROUP_CONCAT(column_name ORDER BY seq_in_index) AS cols, MIN(non_unique) AS non_unique
       FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name <> 'schema_migrations'
       GROUP BY table_name, index_name ORDER BY table_name, index_name`,
    );
    const list = indexes.map((i) => `${i.t}.${i.name}(${i.cols})${Number(i.non_unique) === 0 ? " unique" : ""}`);
    expect(list.sort()).toEqual(
      [
        "categories.PRIMARY(id) unique",
        "categories.uq_categories_parent_name(parent_id,name) unique",
        "order_items.idx_order_items_product(product_id)",
        "order_items.PRIMARY(id) unique",
        "order_items.uq_order_items_order_product(order_id,product_id) unique",
        "orders.idx_orders_status(status)",
        "orders.idx_orders_user_created(user_id,created_at)",
        "orders.PRIMARY(id) unique",
        "products.idx_products_category(category_id)",
        "products.idx_products_name(name)",
        "products.idx_products_seller(seller_id)",
        "products.PRIMARY(id) unique",
        "shopping_carts.idx_shopping_carts_product(product_id)",
        "shopping_carts.PRIMARY(id) unique",
        "shopping_carts.uq_shopping_carts_user_product(user_id,product_id) unique",
        "users.PRIMARY(id) unique",
        "users.uq_users_email(email) unique",
        "users.uq_users_username(username) unique",
      ].sort(),
    );
  });

  it("types the columns as the legacy store does", async () => {
    const columns = await rows(
      "SELECT table_name AS t, column_name AS c, column_type AS type, is_nullable AS nullable, extra FROM information_schema.columns WHERE table_schema = DATABASE()",
    );
    const column = (t: string, c: string) => columns.find((row) => row.t === t && row.c === c);
    expect(column("users", "id")?.type).toMatch(/^bigint(\(20\))? unsigned$/);
    expect(column("users", "id")?.extra).toBe("auto_increment");
    expect(column("users", "last_name")?.nullable).toBe("YES");
    expect(column("users", "first_name")?.nullable).toBe("NO");
    expect(column("users", "is_seller")?.type).toBe("tinyint(1)");
    expect(column("users", "updated_at")?.type).toBe("datetime(3)");
    expect(String(column("users", "updated_at")?.extra).toLowerCase()).toBe("on update current_timestamp(3)");
    expect(column("products", "price")?.type).toBe("decimal(10,2)");
    expect(column("products", "inventory_quantity")?.type).toMatch(/^int(\(10\))? unsigned$/);
    expect(column("products", "image_url")?.nullable).toBe("YES");
    expect(column("orders", "total_amount")?.type).toBe("decimal(12,2)");
    expect(column("orders", "status")?.type).toBe("enum('pending','paid','shipped','delivered','cancelled')");
    expect(column("order_items", "price_at_time")?.type).toBe("decimal(10,2)");
  });

  it("is idempotent: a second run applies nothing and changes nothing", async () => {
    const connection = await stack.mysql();
    const before = await rows("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version");
    const again = await migrateStore(connection);
    expect(again.applied).toEqual([]);
    expect(again.skipped.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(again.skipped).toEqual(loadMigrations());
    expect(await rows("SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version")).toEqual(before);
  });

  it("applies only what is pending when a new migration is added", async () => {
    const dir = join(scratch, "added");
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const { connection } = await freshDatabase("added");
    try {
      await migrateStore(connection, { dir });
      writeFileSync(
        join(dir, "007_users_phone.sql"),
        "-- a phone number\nALTER TABLE users ADD COLUMN phone VARCHAR(32) NULL;\n",
      );
      const result = await migrateStore(connection, { dir });
      expect(result.applied.map((m) => m.version)).toEqual([7]);
      const [columns] = await connection.query<RowDataPacket[]>(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'users' AND column_name = 'phone'",
      );
      expect(columns).toEqual([{ column_name: "phone" }]);
    } finally {
      await connection.end();
    }
  });

  it("refuses, changing nothing, when an applied migration's file was edited", async () => {
    const dir = join(scratch, "edited");
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const { database, connection } = await freshDatabase("edited");
    try {
      await migrateStore(connection, { dir });
      writeFileSync(join(dir, "003_products.sql"), "CREATE TABLE products (id BIGINT UNSIGNED PRIMARY KEY);\n");
      writeFileSync(join(dir, "007_later.sql"), "CREATE TABLE later (id INT PRIMARY KEY);\n");
      const error = await migrateStore(connection, { dir }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StackError);
      expect(error).toMatchObject({
        message: `migration 003_products.sql changed after it was applied to database ${database}`,
        hint: "never edit an applied migration: restore the file and add a new migration with the change (or reset the database)",
      });
      const [later] = await connection.query<RowDataPacket[]>(
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'later'",
      );
      expect(Number(later[0]?.n)).toBe(0);
    } finally {
      await connection.end();
    }
  });

  it("refuses a database that has a migration this code does not know", async () => {
    const dir = join(scratch, "ahead");
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    writeFileSync(join(dir, "007_extra.sql"), "CREATE TABLE extra (id INT PRIMARY KEY);\n");
    const { database, connection } = await freshDatabase("ahead");
    try {
      await migrateStore(connection, { dir });
      const error = await migrateStore(connection).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StackError);
      expect(error).toMatchObject({
        message: `database ${database} has migration 7 (extra) applied, but there is no file for it`,
        hint: "the database is newer than this code: update the code, or reset the database",
      });
    } finally {
      await connection.end();
    }
  });
});

describe("loadMigrations and splitStatements", () => {
  it("reads the shipped migrations with stable checksums", () => {
    const migrations = loadMigrations();
    expect(migrations.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const m of migrations) expect(m.checksum, m.file).toBe(createHash("sha256").update(m.sql).digest("hex"));
  });

  it("splits at semicolons outside strings and comments", () => {
    const sql =
      "-- first; not a split\nCREATE TABLE a (x VARCHAR(3) DEFAULT ';');\n/* b; */ INSERT INTO a VALUES ('it''s; fine', \"q;\");\n\n-- trailing comment only\n";
    expect(splitStatements(sql)).toEqual([
      "-- first; not a split\nCREATE TABLE a (x VARCHAR(3) DEFAULT ';')",
      "/* b; */ INSERT INTO a VALUES ('it''s; fine', \"q;\")",
    ]);
  });
});
