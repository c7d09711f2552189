import { readFileSync } from "node:fs";
import { connectMysql, StackError, withDatabase } from "@ferry/stack";
import { useTestStack } from "@ferry/stack/testing";
import type { Connection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildFacts,
  type ColumnInfo,
  EXACT_COUNT_BELOW,
  introspect,
  readCatalog,
  type SchemaFacts,
  type TableFacts,
  tablesToCount,
} from "../src/facts/index.ts";

const stack = useTestStack();

/** The representative schema (also the DDL behind the MySQL 8 fixture). */
const schemaSql = readFileSync(new URL("./fixtures/mysql8/schema.sql", import.meta.url), "utf8");

const plain = {
  nullable: true,
  autoIncrement: false,
  generated: false,
  unsigned: false,
  json: false,
  booleanLike: false,
};
const utf8mb4 = { charset: "utf8mb4", collation: "utf8mb4_unicode_ci" };

function column(
  position: number,
  name: string,
  dataType: string,
  columnType: string,
  more: Partial<ColumnInfo> = {},
): ColumnInfo {
  return { ...plain, position, name, dataType, columnType, ...more };
}

function table(facts: SchemaFacts, name: string): TableFacts {
  const found = facts.tables.find((t) => t.name === name);
  if (!found) throw new Error(`no table ${name} in ${facts.tables.map((t) => t.name).join(", ")}`);
  return found;
}

let facts: SchemaFacts;

beforeAll(async () => {
  const mysql = await stack.mysql();
  await mysql.query(schemaSql);
  facts = await introspect(mysql, stack.database);
});

describe("introspect on MariaDB: the representative schema", () => {
  it("reads every base table in name order, and views and triggers apart", () => {
    expect(facts.engine).toBe("mariadb");
    expect(facts.serverVersion).toMatch(/mariadb/i);
    expect(facts.database).toBe(stack.database);
    expect(facts.tables.map((t) => t.name)).toEqual([
      "customer",
      "customer_product",
      "event_log",
      "every_type",
      "order",
      "order_note",
      "product",
    ]);
    expect(facts.views).toEqual([{ name: "customer_products", tables: ["customer", "customer_product", "product"] }]);
    expect(facts.triggers).toEqual([
      { name: "product_name_trim", table: "product", timing: "BEFORE", event: "INSERT" },
    ]);
  });

  it("one column of each type, with its default in one form", () => {
    const everyType = table(facts, "every_type");
    expect(everyType.comment).toBe("one column of each type");
    expect(everyType.columns).toEqual([
      column(1, "id", "int", "int(10) unsigned", { nullable: false, autoIncrement: true, unsigned: true }),
      column(2, "flag", "tinyint", "tinyint(1)", { nullable: false, default: "0", booleanLike: true }),
      column(3, "active", "tinyint", "tinyint(1)", { default: "1", booleanLike: true }),
      column(4, "big", "bigint", "bigint(20) unsigned", { unsigned: true }),
      column(5, "qty", "int", "int(11)", { nullable: false, default: "-5" }),
      column(6, "amount", "decimal", "decimal(20,6)", {
        nullable: false,
        default: "0.000000",
        precision: 20,
        scale: 6,
      }),
      column(7, "ratio", "float", "float", { default: "1.5" }),
      column(8, "score", "double", "double"),
      column(9, "bit1", "bit", "bit(1)", { nullable: false, default: "b'1'", maxLength: 1 }),
      column(10, "bit8", "bit", "bit(8)", { maxLength: 8 }),
      column(11, "code", "char", "char(3)", { nullable: false, default: "'abc'", maxLength: 3, ...utf8mb4 }),
      column(12, "label", "varchar", "varchar(100)", {
        nullable: false,
        default: "'it''s'",
        maxLength: 100,
        ...utf8mb4,
      }),
      column(13, "blank", "varchar", "varchar(10)", { nullable: false, default: "''", maxLength: 10, ...utf8mb4 }),
      column(14, "nothing", "varchar", "varchar(10)", { maxLength: 10, ...utf8mb4 }),
      column(15, "note", "text", "text", { maxLength: 65535, ...utf8mb4 }),
      column(16, "body", "mediumtext", "mediumtext", { maxLength: 16777215, ...utf8mb4 }),
      column(17, "huge", "longtext", "longtext", { maxLength: 4294967295, ...utf8mb4 }),
      column(18, "doc", "json", "json", { json: true }),
      column(19, "settings", "json", "json", { nullable: false, default: "'{}'", json: true }),
      column(20, "mood", "enum", "enum('happy','it''s ok','sad')", {
        nullable: false,
        default: "'it''s ok'",
        values: ["happy", "it's ok", "sad"],
        ...utf8mb4,
      }),
      column(21, "tags", "set", "set('a','b','c d')", { default: "'a,b'", values: ["a", "b", "c d"], ...utf8mb4 }),
      column(22, "yr", "year", "year(4)"),
      column(23, "day", "date", "date", { default: "'2020-01-01'" }),
      column(24, "clock", "time", "time(3)", { scale: 3 }),
      column(25, "happened", "datetime", "datetime(6)", { default: "current_timestamp(6)", scale: 6 }),
      column(26, "updated", "timestamp", "timestamp", {
        nullable: false,
        default: "current_timestamp()",
        onUpdate: "current_timestamp()",
        scale: 0,
      }),
      column(27, "uuid", "binary", "binary(16)", { maxLength: 16 }),
      column(28, "token", "varbinary", "varbinary(255)", { default: "'ab'", maxLength: 255 }),
      column(29, "small_blob", "blob", "blob", { maxLength: 65535 }),
      column(30, "big_blob", "longblob", "longblob", { maxLength: 4294967295 }),
      column(31, "shape", "geometry", "geometry"),
      column(32, "spot", "point", "point"),
      column(33, "twice", "decimal", "decimal(21,6)", { generated: true, precision: 21, scale: 6 }),
      column(34, "label_upper", "varchar", "varchar(100)", { generated: true, maxLength: 100, ...utf8mb4 }),
      column(35, "answer", "int", "int(11)", { nullable: false, default: "(6 * 7)" }),
    ]);
  });

  it("keys: primary, composite primary, unique, multi-column indexes, none", () => {
    const everyType = table(facts, "every_type");
    expect(everyType.primaryKey).toEqual(["id"]);
    expect(everyType.uniqueKeys).toEqual([{ name: "uq_code_label", columns: ["code", "label"] }]);
    expect(everyType.indexes).toEqual([{ name: "idx_day_yr", columns: ["day", "yr"] }]);
    expect(table(facts, "order").primaryKey).toEqual(["select", "key"]);
    const eventLog = table(facts, "event_log");
    expect(eventLog.primaryKey).toEqual([]);
    expect(eventLog.indexes).toEqual([{ name: "idx_event_log_happened", columns: ["happened_at"] }]);
    // The index the server made for a foreign key is a secondary index like any other.
    expect(table(facts, "order_note").indexes).toEqual([
      { name: "fk_note_order", columns: ["order_select", "order_key"] },
    ]);
  });

  it("a many-to-many link table: a composite primary key of two foreign keys", () => {
    const link = table(facts, "customer_product");
    expect(link.primaryKey).toEqual(["customer_id", "product_id"]);
    expect(link.uniqueKeys).toEqual([]);
    expect(link.indexes).toEqual([{ name: "idx_customer_product_product", columns: ["product_id"] }]);
    expect(link.foreignKeys).toEqual([
      {
        name: "fk_cp_customer",
        columns: ["customer_id"],
        referencedTable: "customer",
        referencedColumns: ["id"],
        onDelete: "CASCADE",
        onUpdate: "RESTRICT",
      },
      {
        name: "fk_cp_product",
        columns: ["product_id"],
        referencedTable: "product",
        referencedColumns: ["id"],
        onDelete: "CASCADE",
        onUpdate: "RESTRICT",
      },
    ]);
  });

  it("foreign keys: a self-reference, a cycle made with ALTER, multi-column, CASCADE and SET NULL", () => {
    const customer = table(facts, "customer");
    expect(customer.foreignKeys).toEqual([
      {
        name: "fk_customer_favourite",
        columns: ["favourite_product_id"],
        referencedTable: "product",
        referencedColumns: ["id"],
        onDelete: "RESTRICT",
        onUpdate: "RESTRICT",
      },
      {
        name: "fk_customer_referrer",
        columns: ["referred_by"],
        referencedTable: "customer",
        referencedColumns: ["id"],
        onDelete: "SET NULL",
        onUpdate: "RESTRICT",
      },
    ]);
    expect(customer.uniqueKeys).toEqual([{ name: "uq_customer_email", columns: ["email"] }]);
    expect(table(facts, "product").foreignKeys).toEqual([
      {
        name: "fk_product_owner",
        columns: ["owner_id"],
        referencedTable: "customer",
        referencedColumns: ["id"],
        onDelete: "CASCADE",
        onUpdate: "CASCADE",
      },
    ]);
    expect(table(facts, "order_note").foreignKeys).toEqual([
      {
        name: "fk_note_order",
        columns: ["order_select", "order_key"],
        referencedTable: "order",
        referencedColumns: ["select", "key"],
        onDelete: "CASCADE",
        onUpdate: "RESTRICT",
      },
    ]);
  });

  it("reserved words and non-ASCII names come through as they are", () => {
    expect(table(facts, "order").columns).toEqual([
      column(1, "select", "int", "int(11)", { nullable: false }),
      column(2, "key", "varchar", "varchar(20)", { nullable: false, maxLength: 20, ...utf8mb4 }),
      column(3, "café", "varchar", "varchar(10)", { maxLength: 10, ...utf8mb4 }),
      column(4, "名前", "varchar", "varchar(10)", { nullable: false, default: "'名無し'", maxLength: 10, ...utf8mb4 }),
      column(5, "naïve_column", "int", "int(11)"),
    ]);
  });

  it("row sizes: the largest possible row (null when unbounded), and a guess for empty tables", () => {
    const sizes = Object.fromEntries(facts.tables.map((t) => [t.name, [t.maxRowBytes, t.avgRowBytes]]));
    expect(sizes).toEqual({
      // bigint 8 + varchar(191) utf8mb4 764 + bigint 8 + int 4
      customer: [784, 116],
      // bigint 8 + int 4 + datetime 5
      customer_product: [17, 17],
      // datetime(3) 7 + varchar(255) utf8mb4 1020
      event_log: [1027, 135],
      // MEDIUMTEXT, LONGTEXT, JSON, LONGBLOB, GEOMETRY: no bound
      every_type: [null, 11377],
      // int 4 + varchar(20) 80 + varchar(10) 40 + varchar(10) 40 + int 4
      order: [168, 28],
      // int 4 + int 4 + varchar(20) 80 + TEXT 65535
      order_note: [65623, 274],
      // int 4 + bigint 8 + varchar(100) 400
      product: [412, 62],
    });
    expect(facts.tables.every((t) => t.rows === 0)).toBe(true);
  });
});

describe("introspect on MariaDB: more cases", () => {
  let other: Connection;
  let database: string;

  beforeAll(async () => {
    database = stack.name("more");
    const admin = await stack.mysql();
    await admin.query(`CREATE DATABASE ${admin.escapeId(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    other = await connectMysql(withDatabase(stack.serverUrl, database), { multipleStatements: true });
  });

  afterAll(async () => {
    await other?.end();
  });

  it("reserved words and non-ASCII names as tables, keys and foreign keys", async () => {
    await other.query(`
      CREATE TABLE \`select\` (\`key\` INT NOT NULL PRIMARY KEY, \`from\` VARCHAR(5) NULL);
      CREATE TABLE \`café\` (
        \`名前\` VARCHAR(20) NOT NULL,
        \`naïve\` INT NOT NULL,
        \`key\` INT NULL,
        PRIMARY KEY (\`名前\`, \`naïve\`),
        UNIQUE KEY \`clé_unique\` (\`naïve\`),
        CONSTRAINT \`fk_café_select\` FOREIGN KEY (\`key\`) REFERENCES \`select\` (\`key\`) ON DELETE SET NULL
      );
      CREATE VIEW \`vue\` AS SELECT c.\`名前\`, s.\`from\` FROM \`café\` c JOIN \`select\` s ON s.\`key\` = c.\`key\`;
    `);
    const more = await introspect(other, database);
    expect(more.tables.map((t) => t.name)).toEqual(["café", "select"]);
    const cafe = table(more, "café");
    expect(cafe.primaryKey).toEqual(["名前", "naïve"]);
    expect(cafe.uniqueKeys).toEqual([{ name: "clé_unique", columns: ["naïve"] }]);
    expect(cafe.foreignKeys).toEqual([
      {
        name: "fk_café_select",
        columns: ["key"],
        referencedTable: "select",
        referencedColumns: ["key"],
        onDelete: "SET NULL",
        onUpdate: "RESTRICT",
      },
    ]);
    expect(table(more, "select").primaryKey).toEqual(["key"]);
    expect(more.views).toEqual([{ name: "vue", tables: ["café", "select"] }]);
    await other.query("DROP VIEW `vue`; DROP TABLE `café`, `select`");
  });

  it("defaults of each kind, as MariaDB prints them, in the one form", async () => {
    await other.query(String.raw`
      CREATE TABLE defaults (
        backslash VARCHAR(20) NULL DEFAULT 'a\\b',
        newline VARCHAR(20) NULL DEFAULT 'x\ny',
        quote VARCHAR(20) NULL DEFAULT 'it''s',
        null_text VARCHAR(20) NULL DEFAULT 'NULL',
        number_text VARCHAR(5) NOT NULL DEFAULT '5',
        explicit_null INT NULL DEFAULT NULL,
        none INT NOT NULL,
        now_default DATETIME NULL DEFAULT NOW(),
        now3 DATETIME(3) NULL DEFAULT NOW(3),
        stamp TIMESTAMP(3) NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        id CHAR(36) NULL DEFAULT (UUID()),
        joined VARCHAR(20) NULL DEFAULT (CONCAT('a', 'B')),
        literal_expr INT NULL DEFAULT (5),
        text_default TEXT NULL DEFAULT 'tt',
        big_double DOUBLE NULL DEFAULT 1e10,
        decimal_negative DECIMAL(5,2) NULL DEFAULT -1.50,
        bits BIT(4) NULL DEFAULT b'0101',
        yr YEAR NULL DEFAULT 2024,
        padded BINARY(4) NULL DEFAULT 'ab',
        raw_bytes VARBINARY(4) NULL DEFAULT 0x0102,
        text_bytes VARBINARY(4) NULL DEFAULT 0x6364
      )
    `);
    const more = await introspect(other, database);
    const defaults = Object.fromEntries(table(more, "defaults").columns.map((c) => [c.name, c.default]));
    expect(defaults).toEqual({
      backslash: "'a\\b'",
      newline: "'x\ny'",
      quote: "'it''s'",
      null_text: "'NULL'",
      number_text: "'5'",
      explicit_null: undefined,
      none: undefined,
      now_default: "current_timestamp()",
      now3: "current_timestamp(3)",
      stamp: "current_timestamp(3)",
      id: "uuid()",
      joined: "concat('a','B')",
      literal_expr: "5",
      text_default: "'tt'",
      big_double: "10000000000",
      decimal_negative: "-1.50",
      bits: "b'101'",
      yr: "2024",
      // BINARY's zero padding dropped; bytes that are not printable text in hex.
      padded: "'ab'",
      raw_bytes: "0x0102",
      text_bytes: "'cd'",
    });
    expect(table(more, "defaults").columns.find((c) => c.name === "stamp")?.onUpdate).toBe("current_timestamp(3)");
    await other.query("DROP TABLE defaults");
  });

  it("JSON on MariaDB: LONGTEXT with json_valid() is json; a hand-written check on TEXT marks it json too", async () => {
    await other.query(`
      CREATE TABLE documents (
        id INT NOT NULL PRIMARY KEY,
        body JSON NOT NULL,
        raw LONGTEXT NULL,
        checked TEXT NULL CHECK (JSON_VALID(checked)),
        other_check LONGTEXT NULL,
        CONSTRAINT not_json CHECK (other_check <> '')
      )
    `);
    const more = await introspect(other, database);
    const columns = Object.fromEntries(
      table(more, "documents").columns.map((c) => [c.name, [c.dataType, c.columnType, c.json, c.maxLength]]),
    );
    expect(columns).toEqual({
      id: ["int", "int(11)", false, undefined],
      body: ["json", "json", true, undefined],
      raw: ["longtext", "longtext", false, 4294967295],
      checked: ["text", "text", true, 65535],
      other_check: ["longtext", "longtext", false, 4294967295],
    });
    await other.query("DROP TABLE documents");
  });

  it("exact counts for small tables, the estimate for large ones", async () => {
    await other.query(`
      CREATE TABLE small (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL);
      INSERT INTO small (name) SELECT CONCAT('n', seq) FROM seq_1_to_37;
      CREATE TABLE large (id INT NOT NULL PRIMARY KEY, payload CHAR(20) NOT NULL);
      INSERT INTO large SELECT seq, 'xxxxxxxxxxxxxxxxxxxx' FROM seq_1_to_150000;
      CREATE TABLE empty_one (id INT NOT NULL PRIMARY KEY);
      ANALYZE TABLE small, large, empty_one;
    `);
    const catalog = await readCatalog(other, database);
    const estimate = Number(catalog.tables.find((row) => row.TABLE_NAME === "large")?.TABLE_ROWS);
    // A bound: InnoDB's row estimate is sampled, not counted.
    expect(estimate).toBeGreaterThanOrEqual(EXACT_COUNT_BELOW);
    expect(tablesToCount(catalog).sort()).toEqual(["empty_one", "small"]);

    const more = await introspect(other, database);
    expect(table(more, "small").rows).toBe(37);
    expect(table(more, "empty_one").rows).toBe(0);
    expect(table(more, "large").rows).toBe(estimate);
    // Many pages: DATA_LENGTH / rows, a little over the 4 + 20 bytes of data per row.
    expect(table(more, "large").avgRowBytes).toBeGreaterThan(24);
    expect(table(more, "large").avgRowBytes).toBeLessThan(100);
    // One page of 37 short rows: DATA_LENGTH / rows is at most the guess from the column types.
    expect(table(more, "small").avgRowBytes).toBeLessThanOrEqual(4 + 10);
    await other.query("DROP TABLE small, large, empty_one");
  });
});

describe("introspect: the catalog and its errors", () => {
  it("a database that does not exist is a StackError that says so and lists what exists", async () => {
    const mysql = await stack.mysql();
    const missing = `${stack.database}_missing`;
    const error = await introspect(mysql, missing).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StackError);
    expect((error as StackError).message).toBe(`database "${missing}" does not exist (or this user cannot see it)`);
    // The databases listed are the server's (other test files' too, up to ten): this one's name is among them
    // unless ten others sort before it.
    expect((error as StackError).hint).toMatch(
      /^databases on this server: [^;]+; pass --database NAME or put the database in MYSQL_URL \(mysql:\/\/user:pass@host:port\/NAME\)$/,
    );
    expect((error as StackError).hint).toContain(stack.database);
  });

  it("the catalog is plain JSON with upper-case keys, and a round trip gives the same facts", async () => {
    const mysql = await stack.mysql();
    const catalog = await readCatalog(mysql, stack.database);
    const copy = JSON.parse(JSON.stringify(catalog)) as typeof catalog;
    expect(copy).toEqual(catalog);
    for (const row of [...catalog.tables, ...catalog.columns, ...catalog.statistics]) {
      for (const key of Object.keys(row)) expect(key).toBe(key.toUpperCase());
    }
    expect(catalog.viewTableUsage).toBeNull();
    expect(catalog.checkConstraints).toEqual([
      { TABLE_NAME: "every_type", CONSTRAINT_NAME: "chk_amount", LEVEL: "Table", CHECK_CLAUSE: "`amount` >= 0" },
      { TABLE_NAME: "every_type", CONSTRAINT_NAME: "doc", LEVEL: "Column", CHECK_CLAUSE: "json_valid(`doc`)" },
      {
        TABLE_NAME: "every_type",
        CONSTRAINT_NAME: "settings",
        LEVEL: "Column",
        CHECK_CLAUSE: "json_valid(`settings`)",
      },
    ]);
    // Without exact counts the estimates are used; the schema's tables are empty either way.
    expect(buildFacts(copy, stack.database)).toEqual(facts);
  });

  it("buildFacts is pure: it leaves the catalog alone and gives the same facts every time", async () => {
    const mysql = await stack.mysql();
    const catalog = await readCatalog(mysql, stack.database);
    const before = structuredClone(catalog);
    const first = buildFacts(catalog, stack.database);
    expect(buildFacts(catalog, stack.database)).toEqual(first);
    expect(catalog).toEqual(before);
  });
});
