/**
 * The same DDL (fixtures/mysql8/schema.sql) read from MySQL 8.0.36 (a recorded catalog) and from the
 * live MariaDB gives the same facts, apart from what differs legitimately.
 */
import { readFileSync } from "node:fs";
import { useTestStack } from "@ferry/stack/testing";
import { beforeAll, describe, expect, it } from "vitest";
import { buildFacts, type Catalog, readCatalog, type SchemaFacts } from "../src/facts/index.ts";

const stack = useTestStack();

const fixtures = new URL("./fixtures/mysql8/", import.meta.url);
const schemaSql = readFileSync(new URL("schema.sql", fixtures), "utf8");
const mysql8Catalog = JSON.parse(readFileSync(new URL("catalog.json", fixtures), "utf8")) as Catalog;

let mariadbCatalog: Catalog;
let mariadb: SchemaFacts;
let mysql8: SchemaFacts;

beforeAll(async () => {
  const connection = await stack.mysql();
  await connection.query(schemaSql);
  mariadbCatalog = await readCatalog(connection, stack.database);
  mariadb = buildFacts(mariadbCatalog, stack.database);
  mysql8 = buildFacts(mysql8Catalog, stack.database);
});

/** Integer display widths (`int(11)`, `bigint(20) unsigned`) and YEAR(4), as MySQL 8.0.19+ no longer prints them. */
function withoutDisplayWidth(columnType: string): string {
  if (columnType.startsWith("tinyint(1)")) return columnType;
  return columnType.replace(/^(tinyint|smallint|mediumint|int|bigint)\(\d+\)/, "$1").replace(/^year\(4\)$/, "year");
}

function columnTypes(facts: SchemaFacts): Map<string, string> {
  return new Map(facts.tables.flatMap((t) => t.columns.map((c) => [`${t.name}.${c.name}`, c.columnType] as const)));
}

describe("MySQL 8 (recorded) and MariaDB (live) read the same", () => {
  it("the two catalogs really differ where the servers do", () => {
    const column = (catalog: Catalog, name: string) => catalog.columns.find((row) => row.COLUMN_NAME === name);
    expect(mysql8Catalog.version).toBe("8.0.36");
    expect(mariadbCatalog.version).toMatch(/MariaDB/);
    // JSON: its own type on MySQL; LONGTEXT + CHECK (json_valid(`doc`)) on MariaDB.
    expect(column(mysql8Catalog, "doc")?.DATA_TYPE).toBe("json");
    expect(column(mariadbCatalog, "doc")?.DATA_TYPE).toBe("longtext");
    expect(mariadbCatalog.checkConstraints?.map((row) => [row.CONSTRAINT_NAME, row.CHECK_CLAUSE])).toEqual([
      ["chk_amount", "`amount` >= 0"],
      ["doc", "json_valid(`doc`)"],
      ["settings", "json_valid(`settings`)"],
    ]);
    expect(mysql8Catalog.checkConstraints?.map((row) => [row.CONSTRAINT_NAME, row.CHECK_CLAUSE])).toEqual([
      ["chk_amount", "(`amount` >= 0)"],
    ]);
    // Defaults: bare literals and DEFAULT_GENERATED expressions on MySQL; SQL text on MariaDB.
    expect(column(mysql8Catalog, "label")?.COLUMN_DEFAULT).toBe("it's");
    expect(column(mariadbCatalog, "label")?.COLUMN_DEFAULT).toBe("'it''s'");
    expect(column(mysql8Catalog, "updated")).toMatchObject({
      COLUMN_DEFAULT: "CURRENT_TIMESTAMP",
      EXTRA: "DEFAULT_GENERATED on update CURRENT_TIMESTAMP",
    });
    expect(column(mariadbCatalog, "updated")).toMatchObject({
      COLUMN_DEFAULT: "current_timestamp()",
      EXTRA: "on update current_timestamp()",
    });
    expect(column(mysql8Catalog, "settings")?.COLUMN_DEFAULT).toBe("_utf8mb4\\'{}\\'");
    expect(column(mariadbCatalog, "nothing")?.COLUMN_DEFAULT).toBe("NULL");
    expect(column(mysql8Catalog, "nothing")?.COLUMN_DEFAULT).toBeNull();
    // Display widths, foreign key rules, view dependencies.
    expect(column(mysql8Catalog, "qty")?.COLUMN_TYPE).toBe("int");
    expect(column(mariadbCatalog, "qty")?.COLUMN_TYPE).toBe("int(11)");
    // The same foreign keys, in the same order: MySQL 8 says NO ACTION where MariaDB says RESTRICT.
    const rules = (catalog: Catalog) =>
      catalog.referentialConstraints.map((row) => [row.CONSTRAINT_NAME, row.UPDATE_RULE, row.DELETE_RULE]);
    expect(rules(mysql8Catalog)).toEqual([
      ["fk_customer_favourite", "NO ACTION", "NO ACTION"],
      ["fk_customer_referrer", "NO ACTION", "SET NULL"],
      ["fk_cp_customer", "NO ACTION", "CASCADE"],
      ["fk_cp_product", "NO ACTION", "CASCADE"],
      ["fk_note_order", "NO ACTION", "CASCADE"],
      ["fk_product_owner", "CASCADE", "CASCADE"],
    ]);
    expect(rules(mariadbCatalog)).toEqual([
      ["fk_customer_favourite", "RESTRICT", "RESTRICT"],
      ["fk_customer_referrer", "RESTRICT", "SET NULL"],
      ["fk_cp_customer", "RESTRICT", "CASCADE"],
      ["fk_cp_product", "RESTRICT", "CASCADE"],
      ["fk_note_order", "RESTRICT", "CASCADE"],
      ["fk_product_owner", "CASCADE", "CASCADE"],
    ]);
    expect(mysql8Catalog.viewTableUsage).toEqual(
      ["customer", "customer_product", "product"].map((table) => ({
        VIEW_NAME: "customer_products",
        TABLE_SCHEMA: "ferry_mysql8",
        TABLE_NAME: table,
      })),
    );
    expect(mariadbCatalog.viewTableUsage).toBeNull();
  });

  it("engine and server version differ", () => {
    expect([mysql8.engine, mysql8.serverVersion]).toEqual(["mysql", "8.0.36"]);
    expect(mariadb.engine).toBe("mariadb");
  });

  it("columnType differs only by integer display widths (and YEAR(4)), listed here", () => {
    const mysqlTypes = columnTypes(mysql8);
    const differences = [...columnTypes(mariadb)]
      .filter(([name, type]) => mysqlTypes.get(name) !== type)
      .map(([name, type]) => [name, type, mysqlTypes.get(name)]);
    expect(differences).toEqual([
      ["customer.id", "bigint(20) unsigned", "bigint unsigned"],
      ["customer.referred_by", "bigint(20) unsigned", "bigint unsigned"],
      ["customer.favourite_product_id", "int(10) unsigned", "int unsigned"],
      ["customer_product.customer_id", "bigint(20) unsigned", "bigint unsigned"],
      ["customer_product.product_id", "int(10) unsigned", "int unsigned"],
      ["every_type.id", "int(10) unsigned", "int unsigned"],
      ["every_type.big", "bigint(20) unsigned", "bigint unsigned"],
      ["every_type.qty", "int(11)", "int"],
      ["every_type.yr", "year(4)", "year"],
      ["every_type.answer", "int(11)", "int"],
      ["order.select", "int(11)", "int"],
      ["order.naïve_column", "int(11)", "int"],
      ["order_note.id", "int(11)", "int"],
      ["order_note.order_select", "int(11)", "int"],
      ["product.id", "int(10) unsigned", "int unsigned"],
      ["product.owner_id", "bigint(20) unsigned", "bigint unsigned"],
    ]);
    // TINYINT(1) keeps its width on MySQL 8, so booleans read the same.
    const flag = mysql8.tables.find((t) => t.name === "every_type")?.columns.find((c) => c.name === "flag");
    expect(flag).toMatchObject({ columnType: "tinyint(1)", booleanLike: true });
  });

  it("everything else is equal: types, JSON, defaults, keys, foreign keys, sizes, views, triggers", () => {
    const smoothed = (facts: SchemaFacts): SchemaFacts => ({
      ...facts,
      engine: "mysql",
      serverVersion: "",
      tables: facts.tables.map((t) => ({
        ...t,
        columns: t.columns.map((c) => ({ ...c, columnType: withoutDisplayWidth(c.columnType) })),
      })),
    });
    expect(smoothed(mysql8)).toEqual(smoothed(mariadb));
  });

  it("MySQL before 8.0.13 (no VIEW_TABLE_USAGE): the view's tables come from its definition", () => {
    const older: Catalog = { ...mysql8Catalog, version: "8.0.12", viewTableUsage: null };
    expect(buildFacts(older, stack.database).views).toEqual(mariadb.views);
    expect(mariadb.views).toEqual([{ name: "customer_products", tables: ["customer", "customer_product", "product"] }]);
  });
});
