/**
 * The pure pieces of the facts: SQL text, defaults in both servers' forms, version detection, and an
 * empty database end to end.
 */
import { useTestStack } from "@ferry/stack/testing";
import { describe, expect, it } from "vitest";
import { jsonValidColumn, serverDialect, tablesInDefinition } from "../src/facts/build.ts";
import { normaliseRow } from "../src/facts/catalog.ts";
import { normaliseDefault } from "../src/facts/columns.ts";
import { introspect } from "../src/facts/index.ts";
import { normaliseExpression, parseMembers, quoteString } from "../src/facts/sql-text.ts";

const stack = useTestStack();

const mysql8 = serverDialect("8.0.36");
const mariadb = serverDialect("10.11.19-MariaDB-0+deb12u1");

describe("serverDialect", () => {
  it("tells the servers apart and knows when MariaDB started printing defaults as SQL", () => {
    expect(mysql8).toEqual({ engine: "mysql", defaultsAsSql: false });
    expect(serverDialect("5.7.44-log")).toEqual({ engine: "mysql", defaultsAsSql: false });
    expect(mariadb).toEqual({ engine: "mariadb", defaultsAsSql: true });
    expect(serverDialect("10.2.6-MariaDB")).toEqual({ engine: "mariadb", defaultsAsSql: false });
    expect(serverDialect("10.2.7-MariaDB")).toEqual({ engine: "mariadb", defaultsAsSql: true });
    expect(serverDialect("11.4.2-MariaDB-log")).toEqual({ engine: "mariadb", defaultsAsSql: true });
    expect(serverDialect("5.5.5-10.6.12-MariaDB")).toEqual({ engine: "mariadb", defaultsAsSql: true });
  });
});

describe("normaliseDefault", () => {
  it("MySQL's bare literals: quoted for text and dates, bare for numbers, b'..' for BIT", () => {
    expect(normaliseDefault("abc", "varchar", "", mysql8)).toBe("'abc'");
    expect(normaliseDefault("it's", "varchar", "", mysql8)).toBe("'it''s'");
    expect(normaliseDefault("", "varchar", "", mysql8)).toBe("''");
    expect(normaliseDefault("NULL", "varchar", "", mysql8)).toBe("'NULL'");
    expect(normaliseDefault("a\\b", "varchar", "", mysql8)).toBe("'a\\b'");
    expect(normaliseDefault("2020-01-01", "date", "", mysql8)).toBe("'2020-01-01'");
    expect(normaliseDefault("a,b", "set", "", mysql8)).toBe("'a,b'");
    expect(normaliseDefault("0", "int", "", mysql8)).toBe("0");
    expect(normaliseDefault(0, "int", "", mysql8)).toBe("0");
    expect(normaliseDefault("-1.50", "decimal", "", mysql8)).toBe("-1.50");
    expect(normaliseDefault("2024", "year", "", mysql8)).toBe("2024");
    expect(normaliseDefault("b'101'", "bit", "", mysql8)).toBe("b'101'");
    expect(normaliseDefault(null, "int", "", mysql8)).toBeUndefined();
  });

  it("MySQL's hex BINARY/VARBINARY defaults: text when printable, else hex", () => {
    expect(normaliseDefault("0x6162", "varbinary", "", mysql8)).toBe("'ab'");
    expect(normaliseDefault("0x0102", "varbinary", "", mysql8)).toBe("0x0102");
    expect(normaliseDefault("0x61620000", "binary", "", mysql8)).toBe("'ab'");
  });

  it("MySQL's expressions (EXTRA DEFAULT_GENERATED), and CURRENT_TIMESTAMP on 5.7 without the flag", () => {
    expect(normaliseDefault("CURRENT_TIMESTAMP", "timestamp", "DEFAULT_GENERATED", mysql8)).toBe("current_timestamp()");
    expect(
      normaliseDefault("CURRENT_TIMESTAMP(3)", "datetime", "DEFAULT_GENERATED on update CURRENT_TIMESTAMP(3)", mysql8),
    ).toBe("current_timestamp(3)");
    expect(normaliseDefault("CURRENT_TIMESTAMP", "timestamp", "on update CURRENT_TIMESTAMP", mysql8)).toBe(
      "current_timestamp()",
    );
    expect(normaliseDefault("now()", "datetime", "DEFAULT_GENERATED", mysql8)).toBe("current_timestamp()");
    expect(normaliseDefault("uuid()", "char", "DEFAULT_GENERATED", mysql8)).toBe("uuid()");
    expect(normaliseDefault("(1 + 1)", "int", "DEFAULT_GENERATED", mysql8)).toBe("(1 + 1)");
    expect(normaliseDefault("_utf8mb4\\'{}\\'", "json", "DEFAULT_GENERATED", mysql8)).toBe("'{}'");
    expect(normaliseDefault("concat(_utf8mb4\\'a\\',_utf8mb4\\'B\\')", "varchar", "DEFAULT_GENERATED", mysql8)).toBe(
      "concat('a','B')",
    );
    expect(normaliseDefault("JSON_ARRAY()", "json", "DEFAULT_GENERATED", mysql8)).toBe("json_array()");
  });

  it("MariaDB's SQL text: literals re-quoted, NULL as no default, expressions lower case", () => {
    expect(normaliseDefault("'abc'", "varchar", "", mariadb)).toBe("'abc'");
    expect(normaliseDefault("'it''s'", "varchar", "", mariadb)).toBe("'it''s'");
    expect(normaliseDefault("'a\\\\b'", "varchar", "", mariadb)).toBe("'a\\b'");
    expect(normaliseDefault("'x\\ny'", "varchar", "", mariadb)).toBe("'x\ny'");
    expect(normaliseDefault("'NULL'", "varchar", "", mariadb)).toBe("'NULL'");
    expect(normaliseDefault("NULL", "varchar", "", mariadb)).toBeUndefined();
    expect(normaliseDefault("-5", "int", "", mariadb)).toBe("-5");
    expect(normaliseDefault("current_timestamp()", "timestamp", "on update current_timestamp()", mariadb)).toBe(
      "current_timestamp()",
    );
    expect(normaliseDefault("'ab\\0\\0'", "binary", "", mariadb)).toBe("'ab'");
    // Before 10.2.7 MariaDB printed bare values, as MySQL does.
    expect(normaliseDefault("abc", "varchar", "", serverDialect("10.1.48-MariaDB"))).toBe("'abc'");
  });
});

describe("SQL text", () => {
  it("ENUM and SET members with doubled quotes, backslashes and commas", () => {
    expect(parseMembers("enum('happy','it''s ok','sad')")).toEqual(["happy", "it's ok", "sad"]);
    expect(parseMembers("enum('a\\\\b','c''d','e,f')")).toEqual(["a\\b", "c'd", "e,f"]);
    expect(parseMembers("set('','x')")).toEqual(["", "x"]);
    expect(parseMembers("int(11)")).toEqual([]);
  });

  it("one quoting: single quotes, a quote doubled, nothing else escaped", () => {
    expect(quoteString("it's a\\b")).toBe("'it''s a\\b'");
  });

  it("expressions: lower case outside quotes and identifiers, one spelling of now", () => {
    expect(normaliseExpression("CONCAT(`Name`, 'X')")).toBe("concat(`Name`, 'X')");
    expect(normaliseExpression("LOCALTIMESTAMP")).toBe("current_timestamp()");
    expect(normaliseExpression("NOW(6)")).toBe("current_timestamp(6)");
    expect(normaliseExpression("(5)")).toBe("5");
    expect(normaliseExpression("('x')")).toBe("'x'");
  });

  it("json_valid checks: the column, in any parentheses; nothing for other checks", () => {
    expect(jsonValidColumn("json_valid(`doc`)")).toBe("doc");
    expect(jsonValidColumn("(json_valid(`doc`))")).toBe("doc");
    expect(jsonValidColumn("JSON_VALID(`a``b`)")).toBe("a`b");
    expect(jsonValidColumn("json_valid(doc)")).toBe("doc");
    expect(jsonValidColumn("json_valid(`名前`)")).toBe("名前");
    expect(jsonValidColumn("`amount` >= 0")).toBeUndefined();
    expect(jsonValidColumn("json_valid(`a`) and `a` <> ''")).toBeUndefined();
    expect(jsonValidColumn("(json_valid(`a`)) and (`a` <> '')")).toBeUndefined();
  });

  it("a view's tables from its definition: `db`.`table` pairs of this database only", () => {
    const definition =
      "select `c`.`email` AS `email` from ((`shop`.`customer` `c` join `other`.`audit` `a` on((`a`.`id` = `c`.`id`))) join `shop`.`odd``name` `o`)";
    expect(tablesInDefinition(definition, "shop")).toEqual(["customer", "odd`name"]);
  });
});

describe("catalog rows", () => {
  it("keys in upper case whatever the server sent; values JSON-safe", () => {
    expect(
      normaliseRow({
        table_name: "t",
        Column_Name: "c",
        BUF: Buffer.from("é"),
        WHEN: new Date("2024-01-02T03:04:05Z"),
        BIG: 2n ** 64n,
        NONE: undefined,
      }),
    ).toEqual({
      TABLE_NAME: "t",
      COLUMN_NAME: "c",
      BUF: "é",
      WHEN: "2024-01-02T03:04:05.000Z",
      BIG: "18446744073709551616",
      NONE: null,
    });
  });
});

describe("an empty database", () => {
  it("has no tables, views or triggers", async () => {
    const facts = await introspect(await stack.mysql(), stack.database);
    expect(facts).toMatchObject({ engine: "mariadb", database: stack.database, tables: [], views: [], triggers: [] });
  });
});
