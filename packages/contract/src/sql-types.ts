/**
 * MySQL/MariaDB column types and the attribute types that fit them (docs/architecture.md, "Type mapping"). The analyzer
 * proposes `defaultAttributeType`; the contract check accepts any of `allowedAttributeTypes`.
 */

import type { AttributeType, ColumnFacts } from "./model.ts";

/** A column type as MySQL prints it, taken apart. */
export interface SqlType {
  /** The type's name, lower case, aliases resolved: "int", "varchar", "decimal", "enum", "geometry", ... */
  base: string;
  unsigned: boolean;
  /** DECIMAL/FLOAT/DOUBLE: total digits; DATETIME/TIMESTAMP/TIME: fractional-second digits. */
  precision?: number;
  /** DECIMAL/FLOAT/DOUBLE: digits after the point. */
  scale?: number;
  /** CHAR/VARCHAR/BINARY/VARBINARY: length; BIT: bits; integer types and YEAR: display width (tinyint(1)). */
  length?: number;
  /** ENUM/SET: the allowed values, unquoted. */
  values?: string[];
}

/** MySQL type families by base type name (shared with the analyzer's schema facts). */
export const INTEGER_TYPES: ReadonlySet<string> = new Set(["tinyint", "smallint", "mediumint", "int", "bigint"]);
export const TEXT_TYPES: ReadonlySet<string> = new Set([
  "char",
  "varchar",
  "tinytext",
  "text",
  "mediumtext",
  "longtext",
]);
export const BINARY_TYPES: ReadonlySet<string> = new Set([
  "binary",
  "varbinary",
  "tinyblob",
  "blob",
  "mediumblob",
  "longblob",
]);
export const GEOMETRY_TYPES: ReadonlySet<string> = new Set([
  "geometry",
  "point",
  "linestring",
  "polygon",
  "multipoint",
  "multilinestring",
  "multipolygon",
  "geometrycollection",
  "geomcollection",
]);
export const FRACTIONAL_SECOND_TYPES: ReadonlySet<string> = new Set(["datetime", "timestamp", "time"]);
const DECIMAL_TYPES = new Set(["decimal", "float", "double"]);
/** String-valued MariaDB types. */
const STRING_LIKE_TYPES = new Set(["uuid", "inet4", "inet6"]);

const ALIASES: Record<string, string> = {
  integer: "int",
  int1: "tinyint",
  int2: "smallint",
  int3: "mediumint",
  middleint: "mediumint",
  int4: "int",
  int8: "bigint",
  dec: "decimal",
  numeric: "decimal",
  fixed: "decimal",
  real: "double",
  "double precision": "double",
  float4: "float",
  float8: "double",
  character: "char",
  nchar: "char",
  "character varying": "varchar",
  "char varying": "varchar",
  nvarchar: "varchar",
  long: "mediumtext",
  "long varchar": "mediumtext",
  "long varbinary": "mediumblob",
  geomcollection: "geometrycollection",
};

const KNOWN_TYPES = new Set([
  ...INTEGER_TYPES,
  ...TEXT_TYPES,
  ...BINARY_TYPES,
  ...GEOMETRY_TYPES,
  ...FRACTIONAL_SECOND_TYPES,
  ...DECIMAL_TYPES,
  ...STRING_LIKE_TYPES,
  "json",
  "enum",
  "set",
  "date",
  "year",
  "bit",
]);

/**
 * Takes a column type apart: "bigint(20) unsigned", "decimal(10,2)", "enum('a','it''s')", "datetime(3)",
 * "varchar(255)", "float unsigned", ... Character set / collation suffixes and comments are ignored. Returns
 * undefined when the text is not a type at all (unbalanced parentheses or quotes, stray words); an unknown type
 * name still parses (see isKnownSqlType).
 */
export function parseSqlType(sqlType: string): SqlType | undefined {
  const text = sqlType.replace(/\/\*.*?\*\//g, " ").trim();
  const head = /^([A-Za-z][A-Za-z0-9_]*(?:\s+(?:precision|varying|varchar|varbinary))?)\s*/.exec(text);
  if (!head?.[1]) return undefined;
  const name = head[1].toLowerCase().replace(/\s+/g, " ");
  let rest = text.slice(head[0].length);
  let args: string[] | undefined;
  if (rest.startsWith("(")) {
    const parsed = parseArguments(rest);
    if (!parsed) return undefined;
    args = parsed.args;
    rest = rest.slice(parsed.end);
  }
  const type: SqlType = { base: name, unsigned: false };
  if (name === "bool" || name === "boolean") {
    type.base = "tinyint";
    type.length = 1;
  } else if (name === "serial") {
    type.base = "bigint";
    type.unsigned = true;
  } else {
    type.base = ALIASES[name] ?? name;
  }
  const words = rest.toLowerCase().split(/\s+/).filter(Boolean);
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === "unsigned") type.unsigned = true;
    else if (word === "signed" || word === "zerofill" || word === "binary" || word === "ascii" || word === "unicode") {
      // no bearing on the attribute type
    } else if (word === "charset" || word === "collate") i += 1;
    else if (word === "character" && words[i + 1] === "set") i += 2;
    else return undefined;
  }
  if (args) {
    if (type.base === "enum" || type.base === "set") {
      type.values = args;
    } else {
      const numbers = args.map((arg) => Number(arg));
      if (numbers.some((n) => !Number.isInteger(n) || n < 0) || numbers.length > 2) return undefined;
      const [first, second] = numbers;
      if (DECIMAL_TYPES.has(type.base)) {
        type.precision = first;
        if (second !== undefined) type.scale = second;
      } else if (FRACTIONAL_SECOND_TYPES.has(type.base)) {
        if (second !== undefined) return undefined;
        type.precision = first;
      } else {
        if (second !== undefined) return undefined;
        type.length = first;
      }
    }
  }
  return type;
}

/** Reads "(...)" at the start of `text`: comma-separated numbers or quoted strings ('' and \' escape a quote). */
function parseArguments(text: string): { args: string[]; end: number } | undefined {
  const args: string[] = [];
  let i = 1;
  for (;;) {
    while (text[i] === " ") i++;
    if (text[i] === "'" || text[i] === '"') {
      const quote = text[i];
      let value = "";
      i++;
      for (;;) {
        const char = text[i];
        if (char === undefined) return undefined;
        if (char === "\\" && i + 1 < text.length) {
          value += text[i + 1];
          i += 2;
        } else if (char === quote && text[i + 1] === quote) {
          value += quote;
          i += 2;
        } else if (char === quote) {
          i++;
          break;
        } else {
          value += char;
          i++;
        }
      }
      args.push(value);
    } else {
      const match = /^[^,)'"]*/.exec(text.slice(i));
      const raw = match?.[0] ?? "";
      if (raw.trim() === "") return undefined;
      args.push(raw.trim());
      i += raw.length;
    }
    while (text[i] === " ") i++;
    if (text[i] === ",") i++;
    else if (text[i] === ")") return { args, end: i + 1 };
    else return undefined;
  }
}

/** Whether ferry knows how to map the column type. */
export function isKnownSqlType(type: SqlType): boolean {
  return KNOWN_TYPES.has(type.base);
}

/**
 * The attribute types that fit a column, the default (what the analyzer proposes) first; empty when the column's
 * type is unknown. tinyint(1)/bit(1) -> boolean or integer; bigint -> bigint or string; decimal -> decimal or
 * string; datetime -> datetime or string; text holding JSON -> json or string; ...
 */
export function allowedAttributeTypes(column: Pick<ColumnFacts, "sqlType" | "json">): AttributeType[] {
  const type = parseSqlType(column.sqlType);
  if (!type) return [];
  const { base } = type;
  if (base === "tinyint" && type.length === 1) return ["boolean", "integer"];
  if (base === "bigint") return ["bigint", "string"];
  if (INTEGER_TYPES.has(base)) return ["integer", "bigint"];
  if (base === "decimal") return ["decimal", "string"];
  if (base === "float" || base === "double") return ["float"];
  if (TEXT_TYPES.has(base)) return column.json ? ["json", "string"] : ["string"];
  if (STRING_LIKE_TYPES.has(base)) return ["string"];
  if (base === "json") return ["json", "string"];
  if (base === "enum") return ["enum", "string"];
  if (base === "set") return ["set"];
  if (base === "datetime" || base === "timestamp") return ["datetime", "string"];
  if (base === "date") return ["date", "string"];
  if (base === "time") return ["time", "string"];
  if (base === "year") return ["integer"];
  if (BINARY_TYPES.has(base)) return ["binary"];
  if (GEOMETRY_TYPES.has(base)) return ["geometry", "binary"];
  if (base === "bit") {
    const bits = type.length ?? 1;
    if (bits === 1) return ["boolean", "integer"];
    return bits <= 53 ? ["integer", "bigint"] : ["bigint"];
  }
  return [];
}

/**
 * The attribute type the analyzer proposes for a column: the first of allowedAttributeTypes. A column of a type
 * ferry does not know gets "string", and the contract check reports its unknown SQL type for a person to decide.
 */
export function defaultAttributeType(column: Pick<ColumnFacts, "sqlType" | "json">): AttributeType {
  return allowedAttributeTypes(column)[0] ?? "string";
}
