import { describe, expect, it } from "vitest";
import { allowedAttributeTypes, defaultAttributeType, isKnownSqlType, parseSqlType } from "../src/index.ts";

describe("parseSqlType", () => {
  it.each([
    ["bigint(20) unsigned", { base: "bigint", unsigned: true, length: 20 }],
    ["bigint unsigned", { base: "bigint", unsigned: true }],
    ["int(11)", { base: "int", unsigned: false, length: 11 }],
    ["mediumint(8) unsigned zerofill", { base: "mediumint", unsigned: true, length: 8 }],
    ["decimal(10,2)", { base: "decimal", unsigned: false, precision: 10, scale: 2 }],
    ["decimal(12, 4) unsigned", { base: "decimal", unsigned: true, precision: 12, scale: 4 }],
    ["numeric(5)", { base: "decimal", unsigned: false, precision: 5 }],
    ["enum('a','it''s')", { base: "enum", unsigned: false, values: ["a", "it's"] }],
    ["enum('x,y','b\\'c')", { base: "enum", unsigned: false, values: ["x,y", "b'c"] }],
    ["set('red','green')", { base: "set", unsigned: false, values: ["red", "green"] }],
    ["tinyint(1)", { base: "tinyint", unsigned: false, length: 1 }],
    ["boolean", { base: "tinyint", unsigned: false, length: 1 }],
    ["datetime(3)", { base: "datetime", unsigned: false, precision: 3 }],
    ["timestamp", { base: "timestamp", unsigned: false }],
    ["time(6)", { base: "time", unsigned: false, precision: 6 }],
    ["varchar(255)", { base: "varchar", unsigned: false, length: 255 }],
    ["varchar(64) character set utf8mb4 collate utf8mb4_bin", { base: "varchar", unsigned: false, length: 64 }],
    ["char(36) binary", { base: "char", unsigned: false, length: 36 }],
    ["longtext", { base: "longtext", unsigned: false }],
    ["geometry", { base: "geometry", unsigned: false }],
    ["point", { base: "point", unsigned: false }],
    ["geomcollection", { base: "geometrycollection", unsigned: false }],
    ["year(4)", { base: "year", unsigned: false, length: 4 }],
    ["bit(1)", { base: "bit", unsigned: false, length: 1 }],
    ["double", { base: "double", unsigned: false }],
    ["double precision", { base: "double", unsigned: false }],
    ["float unsigned", { base: "float", unsigned: true }],
    ["float(7,4)", { base: "float", unsigned: false, precision: 7, scale: 4 }],
    ["DECIMAL(8,3)", { base: "decimal", unsigned: false, precision: 8, scale: 3 }],
    ["integer", { base: "int", unsigned: false }],
    ["varchar(255) /*M!100301 COMPRESSED*/", { base: "varchar", unsigned: false, length: 255 }],
    ["uuid", { base: "uuid", unsigned: false }],
  ])("%s", (text, expected) => {
    expect(parseSqlType(text)).toEqual(expected);
  });

  it.each(["", "decimal(10", "enum('a", "int foo", "varchar(x)", "decimal(1,2,3)", "(5)"])("cannot read %j", (text) => {
    expect(parseSqlType(text)).toBeUndefined();
  });

  it("parses unknown type names but knows they are unknown", () => {
    const type = parseSqlType("vector(3)");
    expect(type).toEqual({ base: "vector", unsigned: false, length: 3 });
    expect(type && isKnownSqlType(type)).toBe(false);
    expect(isKnownSqlType({ base: "int", unsigned: false })).toBe(true);
  });
});

describe("allowedAttributeTypes (default first)", () => {
  it.each([
    ["tinyint(1)", ["boolean", "integer"]],
    ["tinyint(1) unsigned", ["boolean", "integer"]],
    ["bit(1)", ["boolean", "integer"]],
    ["bit", ["boolean", "integer"]],
    ["bigint(20) unsigned", ["bigint", "string"]],
    ["bigint", ["bigint", "string"]],
    ["int(11)", ["integer", "bigint"]],
    ["int unsigned", ["integer", "bigint"]],
    ["int(10) unsigned", ["integer", "bigint"]],
    ["smallint(6)", ["integer", "bigint"]],
    ["mediumint(9)", ["integer", "bigint"]],
    ["tinyint(4)", ["integer", "bigint"]],
    ["tinyint", ["integer", "bigint"]],
    ["decimal(10,2)", ["decimal", "string"]],
    ["float", ["float"]],
    ["double", ["float"]],
    ["char(36)", ["string"]],
    ["varchar(255)", ["string"]],
    ["text", ["string"]],
    ["mediumtext", ["string"]],
    ["json", ["json", "string"]],
    ["enum('a','b')", ["enum", "string"]],
    ["set('a','b')", ["set"]],
    ["datetime(3)", ["datetime", "string"]],
    ["timestamp", ["datetime", "string"]],
    ["date", ["date", "string"]],
    ["time", ["time", "string"]],
    ["year(4)", ["integer"]],
    ["binary(16)", ["binary"]],
    ["varbinary(255)", ["binary"]],
    ["blob", ["binary"]],
    ["longblob", ["binary"]],
    ["geometry", ["geometry", "binary"]],
    ["point", ["geometry", "binary"]],
    ["multipolygon", ["geometry", "binary"]],
    ["bit(8)", ["integer", "bigint"]],
    ["bit(53)", ["integer", "bigint"]],
    ["bit(54)", ["bigint"]],
    ["bit(64)", ["bigint"]],
    ["inet6", ["string"]],
    ["vector(3)", []],
    ["decimal(10", []],
  ])("%s -> %j", (sqlType, expected) => {
    expect(allowedAttributeTypes({ sqlType })).toEqual(expected);
  });

  it("offers json for text columns that hold JSON (MariaDB: longtext + json_valid)", () => {
    expect(allowedAttributeTypes({ sqlType: "longtext", json: true })).toEqual(["json", "string"]);
    expect(allowedAttributeTypes({ sqlType: "longtext", json: false })).toEqual(["string"]);
  });

  it("defaultAttributeType is the first allowed type, string for an unknown column type", () => {
    expect(defaultAttributeType({ sqlType: "tinyint(1)" })).toBe("boolean");
    expect(defaultAttributeType({ sqlType: "decimal(10,2)" })).toBe("decimal");
    expect(defaultAttributeType({ sqlType: "longtext", json: true })).toBe("json");
    expect(defaultAttributeType({ sqlType: "vector(3)" })).toBe("string");
  });
});
