import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeSyntheticGeneralLog } from "../src/synthetic/index.ts";
import { buildWorkload, readGeneralLogFile, workloadFromDigestRows } from "../src/workload/index.ts";
import type { Workload } from "../src/workload/types.ts";

const fixture = (name: string) => new URL(`./fixtures/logs/${name}`, import.meta.url).pathname;
const storeLog = new URL("../../../contract/workload/store.log", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "ferry-workload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** digest list as [count, sql], in the workload's order. */
const counts = (w: Workload) => w.statements.map((s) => [s.count, s.sql] as const);

describe("readGeneralLogFile: MariaDB", () => {
  it("reads a recorded log: multi-line statements, Execute not Prepare, databases followed per connection", async () => {
    const w = await readGeneralLogFile(fixture("mariadb-general.log"), { database: "fixture_shop" });
    expect(w.origin).toBe(fixture("mariadb-general.log"));
    expect(counts(w)).toEqual([
      [3, "SELECT id, name FROM items WHERE id = ?"],
      [3, "INSERT INTO items (id, name, price, category) VALUES (?, ?, ?, ?)"],
      [2, "SELECT name FROM items WHERE id = ?"],
      [1, "SELECT COUNT(*) FROM fixture_shop.items WHERE name LIKE ?"],
      [1, "USE fixture_shop"],
      [1, "SELECT id, name, price FROM items WHERE category = ? ORDER BY price DESC LIMIT ?"],
      [1, "UPDATE items SET price = price + ? WHERE id IN (...)"],
      [1, "DELETE FROM items WHERE id = ?"],
    ]);
    expect(w.queries).toBe(13);
    // 5:22:39 to 5:22:41 (the log has whole seconds)
    expect(w.seconds).toBe(2);
    const multiLine = w.statements.find((s) => s.sql.startsWith("SELECT id, name, price"));
    expect(multiLine?.example).toBe(
      "SELECT id, name, price\n  FROM items\n WHERE category = 1\n ORDER BY price DESC\n LIMIT 10",
    );
    expect(multiLine?.perSecond).toBe(0.5);
    expect(w.statements.find((s) => s.sql.startsWith("SELECT COUNT"))?.shape).toMatchObject({
      tables: ["items"],
      conditions: [{ column: { table: "items", column: "name" }, operator: "like-prefix" }],
      aggregate: true,
    });
  });

  it("keeps the other database's statements to that database", async () => {
    const w = await readGeneralLogFile(fixture("mariadb-general.log"), { database: "fixture_other" });
    expect(counts(w)).toEqual([
      [2, "SELECT body FROM notes WHERE id = ?"],
      [1, "INSERT INTO notes (id, body) VALUES (?, ?)"],
    ]);
  });
});

describe("readGeneralLogFile: MySQL 8", () => {
  it("reads ISO times, Init DB, USE, restarts, continuation lines that look like data", async () => {
    const w = await readGeneralLogFile(fixture("mysql8-general.log"), { database: "shop" });
    expect(counts(w)).toEqual([
      [3, "SELECT id, name FROM items WHERE id = ?"],
      [2, "SELECT name FROM items WHERE id = ?"],
      [1, "INSERT INTO items (id, name, price, category) VALUES (?, ?, ?, ?)"],
      [1, "DELETE FROM items WHERE id IN (...)"],
      [1, "SELECT category, COUNT(*) AS n, ? * SUM(price) AS doubled FROM items WHERE price > ? GROUP BY category"],
      [1, "USE shop"],
    ]);
    // 04:31:22.100987 to 04:31:25.900000
    expect(w.seconds).toBe(3.799);
    const grouped = w.statements.find((s) => s.sql.includes("GROUP BY"));
    expect(grouped?.example).toBe(
      "SELECT category, COUNT(*) AS n,\n2 * SUM(price) AS doubled\n  FROM items\n\tWHERE price > 10.5 -- cheap ones are left out\nGROUP BY category",
    );
    expect(grouped?.shape).toMatchObject({ aggregate: true, conditions: [{ operator: ">" }] });
  });

  it("the digests are the same as from the MariaDB log for the same statements", async () => {
    const maria = await readGeneralLogFile(fixture("mariadb-general.log"), { database: "fixture_shop" });
    const mysql = await readGeneralLogFile(fixture("mysql8-general.log"), { database: "shop" });
    const digest = (w: Workload, sql: string) => w.statements.find((s) => s.sql === sql)?.digest;
    for (const sql of ["SELECT id, name FROM items WHERE id = ?", "SELECT name FROM items WHERE id = ?"]) {
      expect(digest(maria, sql)).toBe(createHash("sha1").update(sql).digest("hex").slice(0, 16));
      expect(digest(maria, sql)).toBe(digest(mysql, sql));
    }
  });

  it("reads log_timestamps = SYSTEM (a zone offset on every line)", async () => {
    const path = join(dir, "offsets.log");
    writeFileSync(
      path,
      [
        "2026-11-21T05:31:22.000000+01:00\t    3 Connect\tapp@localhost on shop using Socket",
        "2026-11-21T05:31:22.500000+01:00\t    3 Query\tSELECT 1 FROM items",
        "2026-11-21T04:31:30.500000Z\t    3 Query\tSELECT 2 FROM items",
        "",
      ].join("\n"),
    );
    const w = await readGeneralLogFile(path, { database: "shop" });
    expect(w.queries).toBe(2);
    expect(w.seconds).toBe(8);
  });
});

describe("the recorded store workload (contract/workload/store.log)", () => {
  it("has the legacy store's statements", async () => {
    const w = await readGeneralLogFile(storeLog, { database: "store" });
    // Every statement of the recording, with how often it ran: the store's reads, its cart, its checkout.
    expect(w.queries).toBe(4470);
    expect(counts(w)).toEqual([
      [
        1038,
        "SELECT id, username, email, first_name, last_name, is_seller, created_at, updated_at FROM users WHERE id = ?",
      ],
      [649, "SELECT id, parent_id, name FROM categories WHERE id = ?"],
      [649, "SELECT * FROM products WHERE id = ?"],
      [
        395,
        "SELECT p.id, p.name, p.price, p.image_url, p.inventory_quantity, u.username AS seller_name FROM products p JOIN users u ON u.id = p.seller_id WHERE p.category_id = ? ORDER BY p.created_at DESC LIMIT ? OFFSET ?",
      ],
      [395, "SELECT COUNT(*) AS total FROM products WHERE category_id = ?"],
      [220, "SELECT id, parent_id, name FROM categories ORDER BY parent_id, name"],
      [
        144,
        "INSERT INTO shopping_carts (user_id, product_id, quantity) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE quantity = quantity + ?",
      ],
      [110, "SELECT * FROM users WHERE username = ?"],
      [104, "SELECT id, parent_id, name FROM categories WHERE parent_id = ? ORDER BY name"],
      [103, "UPDATE products SET inventory_quantity = inventory_quantity - ? WHERE id = ? AND inventory_quantity >= ?"],
      [103, "INSERT INTO order_items (order_id, product_id, quantity, price_at_time) VALUES (?, ?, ?, ?)"],
      [
        93,
        "SELECT sc.product_id, sc.quantity, p.name, p.price, p.image_url, p.inventory_quantity FROM shopping_carts sc JOIN products p ON p.id = sc.product_id WHERE sc.user_id = ? ORDER BY sc.created_at",
      ],
      [61, "SELECT id, name, price, image_url FROM products WHERE name LIKE ? ORDER BY name LIMIT ?"],
      [38, "SELECT * FROM users WHERE email = ?"],
      [
        30,
        "SELECT COUNT(*) AS products, COALESCE(SUM(inventory_quantity), ?) AS stock FROM products WHERE seller_id = ?",
      ],
      [30, "SELECT * FROM products WHERE seller_id = ? ORDER BY created_at DESC"],
      [
        30,
        "SELECT COUNT(DISTINCT oi.order_id) AS orders, COALESCE(SUM(oi.quantity * oi.price_at_time), ?) AS revenue FROM order_items oi JOIN products p ON p.id = oi.product_id WHERE p.seller_id = ?",
      ],
      [29, "COMMIT"],
      [29, "START TRANSACTION"],
      [29, "INSERT INTO orders (user_id, total_amount, status) VALUES (?, ?, ?)"],
      [29, "SELECT product_id, quantity FROM shopping_carts WHERE user_id = ? ORDER BY product_id"],
      [29, "SELECT id, price, inventory_quantity FROM products WHERE id IN (...) FOR UPDATE"],
      [29, "DELETE FROM shopping_carts WHERE user_id = ?"],
      [
        22,
        "INSERT INTO users (username, email, password_hash, first_name, last_name, is_seller) VALUES (?, ?, ?, ?, ?, ?)",
      ],
      [
        17,
        "SELECT id, total_amount, status, created_at FROM orders WHERE user_id = ? ORDER BY created_at DESC LIMIT ?",
      ],
      [
        12,
        "UPDATE products SET name = ?, description = ?, price = ?, inventory_quantity = ? WHERE id = ? AND seller_id = ?",
      ],
      [12, "UPDATE shopping_carts SET quantity = ? WHERE user_id = ? AND product_id = ?"],
      [
        9,
        "INSERT INTO products (seller_id, category_id, name, description, price, inventory_quantity, image_url) VALUES (?, ?, ?, ?, ?, ?, ?)",
      ],
      [9, "SELECT * FROM orders WHERE id = ? AND user_id = ?"],
      [
        9,
        "SELECT oi.product_id, oi.quantity, oi.price_at_time, p.name, p.image_url FROM order_items oi JOIN products p ON p.id = oi.product_id WHERE oi.order_id = ?",
      ],
      [7, "UPDATE users SET first_name = ?, last_name = ? WHERE id = ?"],
      [7, "DELETE FROM shopping_carts WHERE user_id = ? AND product_id = ?"],
    ]);
    const sqls = w.statements.map((s) => s.sql);
    const search = w.statements.find((s) => s.sql.includes("LIKE"));
    expect(search?.shape.conditions).toEqual([
      { column: { table: "products", column: "name" }, operator: "like-contains" },
    ]);
    // Nothing from the connection that switched the log off (it had no database).
    expect(sqls.some((s) => s.includes("general_log"))).toBe(false);
  });
});

describe("buildWorkload", () => {
  it("groups, counts, sorts by count then digest, keeps the first example, works out rates", () => {
    const w = buildWorkload(
      [
        { sql: "SELECT * FROM t WHERE id = 1", at: 1_000 },
        { sql: "SELECT * FROM t WHERE id = 2", at: 2_000 },
        { sql: "SELECT * FROM u WHERE id = 2", at: 3_000, database: "app" },
        { sql: "SELECT * FROM v WHERE id = 2", at: 4_000, database: "elsewhere" },
        { sql: "SELECT * FROM app.w WHERE id = 2", at: 5_000, database: "" },
        { sql: "-- nothing but a comment", at: 5_000 },
        { sql: "UPDATE t SET a = 1 WHERE id = 1; UPDATE t SET a = 2 WHERE id = 3;", at: 5_000 },
      ],
      { origin: "test", database: "app" },
    );
    expect(w.seconds).toBe(4);
    expect(w.queries).toBe(6);
    expect(new Map(counts(w).map(([count, sql]) => [sql, count]))).toEqual(
      new Map([
        ["SELECT * FROM t WHERE id = ?", 2],
        ["UPDATE t SET a = ? WHERE id = ?", 2],
        ["SELECT * FROM u WHERE id = ?", 1],
        ["SELECT * FROM app.w WHERE id = ?", 1],
      ]),
    );
    for (const [i, s] of w.statements.entries()) {
      const next = w.statements[i + 1];
      if (next) expect(s.count > next.count || (s.count === next.count && s.digest < next.digest)).toBe(true);
    }
    const select = w.statements.find((s) => s.sql.startsWith("SELECT * FROM t"));
    expect(select?.example).toBe("SELECT * FROM t WHERE id = 1");
    expect(select?.perSecond).toBe(0.5);
    expect(w.statements.find((s) => s.sql.startsWith("UPDATE"))?.example).toBe("UPDATE t SET a = 1 WHERE id = 1");
    expect(w.statements.find((s) => s.sql.includes("app.w"))?.shape.tables).toEqual(["w"]);
  });

  it("uses the given window, and one second when there are no times", () => {
    expect(buildWorkload([{ sql: "SELECT 1" }], { origin: "x", database: "d", seconds: 60 }).seconds).toBe(60);
    expect(buildWorkload([{ sql: "SELECT 1" }, { sql: "SELECT 2" }], { origin: "x", database: "d" }).seconds).toBe(1);
  });

  it("a LIKE seen with prefix and contains patterns counts as contains", () => {
    const w = buildWorkload(
      [
        { sql: "SELECT * FROM products WHERE name LIKE 'lamp%'" },
        { sql: "SELECT * FROM products WHERE name LIKE '%lamp%'" },
      ],
      { origin: "x", database: "store" },
    );
    expect(counts(w)).toEqual([[2, "SELECT * FROM products WHERE name LIKE ?"]]);
    expect(w.statements[0]?.shape.conditions[0]?.operator).toBe("like-contains");
  });
});

describe("workloadFromDigestRows (performance_schema)", () => {
  // Rows as MySQL 8 reports them in events_statements_summary_by_digest.
  const rows = [
    {
      digestText: "SELECT `id` , `name` FROM `items` WHERE `id` = ?",
      count: 120,
      firstSeen: "2026-11-21 04:00:00.000000",
      lastSeen: "2026-11-21 04:01:40.000000",
      sampleText: "SELECT id, name FROM items WHERE id = 42",
    },
    {
      digestText: "INSERT INTO `items` ( `id` , `name` , `price` , `category` ) VALUES (...) /* , ... */",
      count: 30,
      firstSeen: "2026-11-21 04:00:10.000000",
      lastSeen: "2026-11-21 04:01:00.000000",
      sampleText: null,
    },
    {
      digestText: "SELECT `name` FROM `items` WHERE `name` LIKE ?",
      count: 10,
      firstSeen: "2026-11-21 04:00:10.000000",
      lastSeen: "2026-11-21 04:01:00.000000",
      sampleText: "SELECT name FROM items WHERE name LIKE '%lamp%'",
    },
    { digestText: null, count: 5, firstSeen: null, lastSeen: null },
  ];

  it("re-normalises the server's digests so they match the general log's", async () => {
    const w = workloadFromDigestRows(rows, { database: "shop" });
    expect(w.origin).toBe("performance_schema digests");
    expect(w.seconds).toBe(100);
    expect(w.queries).toBe(160);
    expect(counts(w)).toEqual([
      [120, "SELECT id, name FROM items WHERE id = ?"],
      [30, "INSERT INTO items (id, name, price, category) VALUES (?, ?, ?, ?)"],
      [10, "SELECT name FROM items WHERE name LIKE ?"],
    ]);
    expect(w.statements[0]?.perSecond).toBe(1.2);
    expect(w.statements[2]?.shape.conditions[0]?.operator).toBe("like-contains");
    const fromLog = await readGeneralLogFile(fixture("mysql8-general.log"), { database: "shop" });
    const logDigests = new Set(fromLog.statements.map((s) => s.digest));
    expect(logDigests.has(w.statements[0]?.digest ?? "")).toBe(true);
    expect(logDigests.has(w.statements[1]?.digest ?? "")).toBe(true);
  });
});

describe("writeSyntheticGeneralLog (bench helper)", () => {
  it("writes a deterministic MariaDB log of about 200 shapes that reads back in full", async () => {
    const path = join(dir, "synthetic.log");
    const written = writeSyntheticGeneralLog(path, {
      statements: 5_000,
      tables: ["users", "orders", "items"],
      seed: 3,
    });
    expect(written.statements).toBe(5_000);
    const first = readFileSync(path, "utf8");
    expect(written.bytes).toBe(Buffer.byteLength(first));
    writeSyntheticGeneralLog(path, { statements: 5_000, tables: ["users", "orders", "items"], seed: 3 });
    expect(readFileSync(path, "utf8")).toBe(first);
    expect(first).toMatch(/ Init DB\tapp\n/);
    expect(first).toMatch(/\n {2}(FROM|WHERE|VALUES|SET) /);
    const w = await readGeneralLogFile(path, { database: "app" });
    expect(w.queries).toBe(5_000);
    // The seed decides the shapes: 3 here makes all 200 of them.
    expect(w.statements).toHaveLength(200);
  });
});
