import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { normalizeStatement } from "../src/workload/index.ts";
import { tokenize } from "../src/workload/tokens.ts";

const normalized = (sql: string) => normalizeStatement(sql).sql;

describe("normalizeStatement", () => {
  it.each([
    // literals of every kind
    ["SELECT * FROM t WHERE a = 'text'", "SELECT * FROM t WHERE a = ?"],
    ['SELECT * FROM t WHERE a = "double"', "SELECT * FROM t WHERE a = ?"],
    ["SELECT * FROM t WHERE a = 'it''s' AND b = 'a\\'b\\\\'", "SELECT * FROM t WHERE a = ? AND b = ?"],
    ['SELECT * FROM t WHERE a = "say ""hi"""', "SELECT * FROM t WHERE a = ?"],
    ["SELECT 12, 1.5, 1.5e3, 2E-7, .5, 0x1F, X'1F', b'101', 0b11", "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?"],
    ["SELECT N'national', _utf8mb4'introduced', _binary 'bytes'", "SELECT ?, ?, ?"],
    ["SELECT * FROM t WHERE a = TRUE OR b = false OR c = NULL", "SELECT * FROM t WHERE a = ? OR b = ? OR c = ?"],
    ["SELECT * FROM t WHERE a IS NULL AND b IS NOT NULL", "SELECT * FROM t WHERE a IS NULL AND b IS NOT NULL"],
    ["SELECT * FROM t WHERE a = ?", "SELECT * FROM t WHERE a = ?"],
    // signs: -1 after an operator is a literal; a - 1 stays a subtraction
    [
      "SELECT * FROM t WHERE a = -1 AND b > +2 AND c IN (-3, 4)",
      "SELECT * FROM t WHERE a = ? AND b > ? AND c IN (...)",
    ],
    ["SELECT a - 1, (b) - 2, ? - 3, -4 FROM t", "SELECT a - ?, (b) - ?, ? - ?, ? FROM t"],
    ["UPDATE t SET n = n - 1 WHERE id = 5", "UPDATE t SET n = n - ? WHERE id = ?"],
    // IN lists
    ["SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN (...)"],
    ["SELECT * FROM t WHERE id IN (7)", "SELECT * FROM t WHERE id IN (...)"],
    ["SELECT * FROM t WHERE id NOT IN ('a','b')", "SELECT * FROM t WHERE id NOT IN (...)"],
    [
      "SELECT * FROM t WHERE id IN (SELECT x FROM u WHERE y = 1)",
      "SELECT * FROM t WHERE id IN (SELECT x FROM u WHERE y = ?)",
    ],
    ["SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))", "SELECT * FROM t WHERE (a, b) IN ((?, ?), (?, ?))"],
    // comments
    ["SELECT 1 -- trailing\n", "SELECT ?"],
    ["SELECT /* inline */ a FROM t # hash comment", "SELECT a FROM t"],
    ["SELECT /*+ MAX_EXECUTION_TIME(1000) */ a FROM t", "SELECT a FROM t"],
    ["SELECT a--1\nFROM t", "SELECT a - ? FROM t"],
    ["SELECT /*!40001 SQL_NO_CACHE */ a FROM t", "SELECT SQL_NO_CACHE a FROM t"],
    // keywords upper case, identifiers as written, quotes only where needed
    ["select count(*) from `users` u where u.`id` = 1", "SELECT COUNT(*) FROM users u WHERE u.id = ?"],
    [
      "SELECT `order`, `Weird Name`, `a``b`, `1abc`, `status`, status FROM t",
      "SELECT `order`, `Weird Name`, `a``b`, `1abc`, status, status FROM t",
    ],
    ["SELECT Name FROM Users", "SELECT Name FROM Users"],
    ["SELECT COUNT (*) , Max( price ) FROM t", "SELECT COUNT(*), MAX(price) FROM t"],
    // whitespace collapsed
    ["SELECT\n\ta ,\r\n b\n FROM   t\nWHERE a=1", "SELECT a, b FROM t WHERE a = ?"],
    ["SELECT * FROM t LIMIT 10, 20", "SELECT * FROM t LIMIT ?, ?"],
    // multi-row VALUES -> one tuple
    ["INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", "INSERT INTO t (a, b) VALUES (?, ?)"],
    ["INSERT INTO t (a, b) VALUES (1, NOW())", "INSERT INTO t (a, b) VALUES (?, NOW())"],
    [
      "INSERT INTO t (a, q) VALUES (1, 2) ON DUPLICATE KEY UPDATE q = q + VALUES(q)",
      "INSERT INTO t (a, q) VALUES (?, ?) ON DUPLICATE KEY UPDATE q = q + VALUES (q)",
    ],
    // a table named like a function is still a table
    ["INSERT INTO log (msg, level) VALUES ('x', 1)", "INSERT INTO log (msg, level) VALUES (?, ?)"],
    ["SELECT LOG(2), t.log FROM t", "SELECT LOG(?), t.log FROM t"],
    // several statements in one entry: each is read on its own terms
    ["SET autocommit=0; SELECT status FROM t;", "SET AUTOCOMMIT = ?; SELECT status FROM t"],
    // statements that are only counted
    ["begin", "BEGIN"],
    ["start transaction", "START TRANSACTION"],
    ["commit;", "COMMIT"],
    ["set autocommit=0", "SET AUTOCOMMIT = ?"],
    ["SET NAMES utf8mb4", "SET NAMES utf8mb4"],
    ["use store", "USE store"],
    ["SELECT @@version_comment LIMIT 1", "SELECT @@version_comment LIMIT ?"],
    // server digest text (performance_schema) comes out the same as the statement it stands for
    ["SELECT `id` , `name` FROM `users` WHERE `id` = ?", "SELECT id, name FROM users WHERE id = ?"],
    ["INSERT INTO `t` ( `a` , `b` , `c` ) VALUES (...) /* , ... */", "INSERT INTO t (a, b, c) VALUES (?, ?, ?)"],
    [
      "INSERT INTO `t` ( `a` , `b` , `c` ) VALUES ( ? , ... , NOW ( ) )",
      "INSERT INTO t (a, b, c) VALUES (?, ?, NOW())",
    ],
    ["SELECT * FROM `t` WHERE `id` IN (...) LIMIT ?, ...", "SELECT * FROM t WHERE id IN (...) LIMIT ?, ?"],
  ])("%s", (sql, expected) => {
    expect(normalized(sql)).toBe(expected);
  });

  it("is idempotent", () => {
    for (const sql of [
      "SELECT `order`, `status`, `Weird Name` FROM t WHERE a IN (1, 2) AND b LIKE 'x%' LIMIT 3",
      "INSERT INTO t (a) VALUES (1), (2) ON DUPLICATE KEY UPDATE a = a + 1",
      "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
    ]) {
      const once = normalized(sql);
      expect(normalized(once)).toBe(once);
    }
  });

  it("gives one digest to statements that differ only in their values, another to another shape", () => {
    const a = normalizeStatement("SELECT * FROM users WHERE username = 'ada' LIMIT 1");
    const b = normalizeStatement("select *\nfrom `users`\nwhere username='grace' limit 5 -- login");
    const c = normalizeStatement("SELECT * FROM users WHERE email = 'ada@example.com' LIMIT 1");
    expect(a.digest).toBe(b.digest);
    expect(a.digest).not.toBe(c.digest);
    expect(a.digest).toMatch(/^[0-9a-f]{16}$/);
    expect(a.digest).toBe(createHash("sha1").update(a.sql).digest("hex").slice(0, 16));
    expect(normalizeStatement("SELECT * FROM t WHERE id IN (1)").digest).toBe(
      normalizeStatement("SELECT * FROM t WHERE id IN (1, 2, 3, 4, 5)").digest,
    );
  });

  it("never throws on broken input", () => {
    const broken = [
      "",
      "   ",
      "SELECT 'unterminated",
      "SELECT /* open",
      "SELECT `open",
      "((((",
      ")))",
      "\u00e9t\u00e9 = 1",
    ];
    // Each comes out as the statement it starts, its digest that of the text, like any other.
    expect(broken.map((sql) => normalizeStatement(sql))).toEqual(
      ["", "", "SELECT ?", "SELECT", "SELECT open", "((((", ")))", "`\u00e9t\u00e9` = ?"].map((sql) => ({
        sql,
        digest: createHash("sha1").update(sql).digest("hex").slice(0, 16),
      })),
    );
    expect(normalized("SELECT caf\u00e9 FROM t")).toBe("SELECT `caf\u00e9` FROM t");
  });

  it("tokenizes operators and keeps offsets", () => {
    const tokens = tokenize("a<=>b AND c->>'$.x' != d");
    expect(tokens.map((t) => t.raw)).toEqual(["a", "<=>", "b", "AND", "c", "->>", "'$.x'", "!=", "d"]);
    expect(tokens[1]).toMatchObject({ start: 1, end: 4, type: "op" });
  });

  // How fast is measured by `pnpm bench analyze` (its 100k-statement general log), against a baseline, not here.
  it("normalises 100k statements of two shapes to two digests", () => {
    const statements = Array.from({ length: 100_000 }, (_, i) =>
      i % 2 === 0
        ? `SELECT p.id, p.name, p.price FROM products p WHERE p.category_id = ${i % 25} ORDER BY p.created_at DESC LIMIT 12 OFFSET ${i % 48}`
        : `INSERT INTO shopping_carts (user_id, product_id, quantity) VALUES (${i}, ${i % 997}, 1) ON DUPLICATE KEY UPDATE quantity = quantity + 1`,
    );
    const digests = new Set(statements.map((s) => normalizeStatement(s).digest));
    expect(digests.size).toBe(2);
  });
});
