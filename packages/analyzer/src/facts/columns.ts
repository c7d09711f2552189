/**
 * One information_schema.COLUMNS row -> ColumnInfo, the same for MariaDB and MySQL 8, plus the
 * per-column sizes the table facts add up.
 */
import { BINARY_TYPES, FRACTIONAL_SECOND_TYPES, GEOMETRY_TYPES, TEXT_TYPES } from "@ferry/contract";
import type { CatalogRow, CatalogValue } from "./catalog.ts";
import {
  isBitLiteral,
  isNumberLiteral,
  normaliseExpression,
  parseMembers,
  parseStringLiteral,
  quoteString,
} from "./sql-text.ts";
import type { ColumnInfo } from "./types.ts";

/** What a column's facts depend on besides its own row. */
export interface ServerDialect {
  engine: "mysql" | "mariadb";
  /** MariaDB 10.2.7+ prints COLUMN_DEFAULT as SQL text ('abc', NULL, current_timestamp()). */
  defaultsAsSql: boolean;
}

const INTEGER_TYPES = new Set(["tinyint", "smallint", "mediumint", "int", "integer", "bigint"]);
const NUMERIC_TYPES = new Set([...INTEGER_TYPES, "decimal", "numeric", "float", "double", "real", "year"]);
const TEMPORAL_TYPES = new Set(["date", "time", "datetime", "timestamp", "year"]);
const BINARY_STRING_TYPES = new Set(["binary", "varbinary"]);

/** The largest value a MEDIUMTEXT/MEDIUMBLOB holds; a column this large or larger is "unbounded". */
export const UNBOUNDED_BYTES = 16 * 1024 * 1024 - 1;

/**
 * The facts of one column. `jsonChecked` says a CHECK (json_valid(`col`)) guards it, which is how
 * MariaDB stores JSON (LONGTEXT + that check).
 */
export function columnFacts(row: CatalogRow, dialect: ServerDialect, jsonChecked: boolean): ColumnInfo {
  const reportedType = text(row.DATA_TYPE).toLowerCase();
  const reportedColumnType = text(row.COLUMN_TYPE).toLowerCase();
  const extra = text(row.EXTRA);
  // MariaDB's JSON is LONGTEXT + CHECK (json_valid(`col`)); MySQL's is its own type. Both read "json".
  const json = reportedType === "json" || (jsonChecked && TEXT_TYPES.has(reportedType));
  const jsonType = reportedType === "json" || (json && reportedType === "longtext");
  const dataType = jsonType ? "json" : reportedType;
  const columnType = jsonType ? "json" : reportedColumnType;
  const generated = isGenerated(row);

  const column: ColumnInfo = {
    name: text(row.COLUMN_NAME),
    position: int(row.ORDINAL_POSITION) ?? 0,
    dataType,
    columnType,
    nullable: text(row.IS_NULLABLE).toUpperCase() === "YES",
    autoIncrement: /\bauto_increment\b/i.test(extra),
    generated,
    unsigned: /\bunsigned\b/.test(columnType),
    json,
    // MySQL 8.0.19+ drops display widths but keeps TINYINT(1) (signed, no ZEROFILL) for this reason.
    booleanLike: columnType === "tinyint(1)",
  };

  const defaultValue = generated ? undefined : normaliseDefault(row.COLUMN_DEFAULT, dataType, extra, dialect);
  if (defaultValue !== undefined) column.default = defaultValue;
  const onUpdate = /\bon update\s+(.+)$/i.exec(extra)?.[1];
  if (onUpdate) column.onUpdate = normaliseExpression(onUpdate);

  if (dataType === "decimal" || dataType === "numeric") {
    setIfDefined(column, "precision", int(row.NUMERIC_PRECISION));
    setIfDefined(column, "scale", int(row.NUMERIC_SCALE));
  } else if (dataType === "float" || dataType === "double" || dataType === "real") {
    // Only FLOAT(M,D) / DOUBLE(M,D) say; plain FLOAT and DOUBLE have no fixed scale.
    const declared = /\((\d+),(\d+)\)/.exec(columnType);
    if (declared) {
      column.precision = Number(declared[1]);
      column.scale = Number(declared[2]);
    }
  } else if (FRACTIONAL_SECOND_TYPES.has(dataType)) {
    column.scale = int(row.DATETIME_PRECISION) ?? Number(/\((\d+)\)/.exec(columnType)?.[1] ?? 0);
  }

  if (!jsonType && (TEXT_TYPES.has(dataType) || BINARY_TYPES.has(dataType))) {
    setIfDefined(column, "maxLength", int(row.CHARACTER_MAXIMUM_LENGTH));
  } else if (dataType === "bit") {
    setIfDefined(column, "maxLength", int(row.NUMERIC_PRECISION) ?? Number(/\((\d+)\)/.exec(columnType)?.[1] ?? 1));
  }

  if (dataType === "enum" || dataType === "set") column.values = parseMembers(columnType);

  // JSON has no character set of its own on MySQL 8 (MariaDB's LONGTEXT says utf8mb4_bin): none on both.
  if (!jsonType) {
    const charset = text(row.CHARACTER_SET_NAME);
    const collation = text(row.COLLATION_NAME);
    if (charset) column.charset = charset;
    if (collation) column.collation = collation;
  }
  const comment = text(row.COLUMN_COMMENT);
  if (comment) column.comment = comment;
  return column;
}

function isGenerated(row: CatalogRow): boolean {
  if (text(row.IS_GENERATED).toUpperCase() === "ALWAYS") return true;
  // MySQL: VIRTUAL GENERATED / STORED GENERATED; MariaDB: VIRTUAL GENERATED / STORED GENERATED, and
  // VIRTUAL / PERSISTENT before 10.2. Not MySQL's DEFAULT_GENERATED (an expression default).
  return /(^|\s)(virtual|stored|persistent)(\s+generated)?(\s|$)/i.test(text(row.EXTRA));
}

/**
 * COLUMN_DEFAULT in one form. MariaDB 10.2.7+ gives SQL text ('abc', 0, NULL, current_timestamp());
 * MySQL gives the bare value (abc, 0) or, with EXTRA DEFAULT_GENERATED, an expression
 * (CURRENT_TIMESTAMP, (1 + 1), _utf8mb4\'x\'). Out comes: a quoted string literal, a bare number,
 * b'..' for BIT, or a lower-case expression; undefined for no default and for DEFAULT NULL.
 */
export function normaliseDefault(
  value: CatalogValue | undefined,
  dataType: string,
  extra: string,
  dialect: ServerDialect,
): string | undefined {
  if (value === null || value === undefined) return undefined;
  const raw = String(value);
  if (dialect.defaultsAsSql) {
    if (raw.toUpperCase() === "NULL") return undefined;
    const literal = parseStringLiteral(raw);
    if (literal !== undefined) {
      return BINARY_STRING_TYPES.has(dataType)
        ? binaryDefault(Buffer.from(literal, "utf8"), dataType)
        : quoteString(literal);
    }
    if (isNumberLiteral(raw) || isBitLiteral(raw)) return raw;
    return normaliseExpression(raw);
  }
  if (/\bDEFAULT_GENERATED\b/i.test(extra)) return normaliseExpression(raw);
  // MySQL 5.7 marks no expression defaults, but CURRENT_TIMESTAMP on a temporal column is one.
  if (TEMPORAL_TYPES.has(dataType) && /^(current_timestamp|now|localtime|localtimestamp)\b/i.test(raw)) {
    return normaliseExpression(raw);
  }
  if (dataType === "bit" && isBitLiteral(raw)) return raw;
  if (NUMERIC_TYPES.has(dataType) && isNumberLiteral(raw)) return raw;
  // MySQL 8 prints BINARY/VARBINARY defaults in hex (0x6162).
  if (BINARY_STRING_TYPES.has(dataType) && /^0x([0-9a-f]{2})*$/i.test(raw)) {
    return binaryDefault(Buffer.from(raw.slice(2), "hex"), dataType);
  }
  return BINARY_STRING_TYPES.has(dataType) ? binaryDefault(Buffer.from(raw, "utf8"), dataType) : quoteString(raw);
}

/**
 * A BINARY/VARBINARY default: quoted text when the bytes are printable UTF-8, else 0x-hex. BINARY's
 * trailing zero-byte padding is dropped (MariaDB prints it as \0, MySQL 8 leaves it out).
 */
function binaryDefault(bytes: Buffer, dataType: string): string {
  let end = bytes.length;
  if (dataType === "binary") while (end > 0 && bytes[end - 1] === 0) end -= 1;
  const value = bytes.subarray(0, end);
  const text = value.toString("utf8");
  if (Buffer.from(text, "utf8").equals(value) && !/\p{Cc}/u.test(text)) return quoteString(text);
  return `0x${value.toString("hex")}`;
}

/** The largest value of the column in bytes (MySQL storage sizes, text in its character set); null = unbounded. */
export function maxColumnBytes(column: ColumnInfo, row: CatalogRow): number | null {
  if (column.dataType === "json" || GEOMETRY_TYPES.has(column.dataType)) return null;
  const octets = int(row.CHARACTER_OCTET_LENGTH);
  if (octets !== undefined) return octets >= UNBOUNDED_BYTES ? null : octets;
  const fixed = fixedBytes(column);
  return fixed ?? null;
}

/** A rough typical size of the column in bytes, for tables the server has no statistics for. */
export function typicalColumnBytes(column: ColumnInfo): number {
  if (column.json) return 512;
  const fixed = fixedBytes(column);
  if (fixed !== undefined) return fixed;
  const length = column.maxLength ?? 0;
  switch (column.dataType) {
    case "char":
    case "binary":
      return length;
    case "varchar":
    case "varbinary":
      return Math.min(Math.ceil(length / 2), 255);
    case "tinytext":
    case "tinyblob":
      return 64;
    case "text":
    case "blob":
      return 256;
    case "mediumtext":
    case "mediumblob":
      return 1024;
    case "longtext":
    case "longblob":
      return 4096;
    case "enum":
    case "set":
      return Math.max(1, ...(column.values ?? []).map((value) => Buffer.byteLength(value)));
    case "point":
      return 25;
    default:
      return GEOMETRY_TYPES.has(column.dataType) ? 256 : 8;
  }
}

const INTEGER_BYTES: Record<string, number> = { tinyint: 1, smallint: 2, mediumint: 3, int: 4, integer: 4, bigint: 8 };
const DECIMAL_LEFTOVER_BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4] as const;

/** Storage size of fixed-size types (MySQL's "Data Type Storage Requirements"); undefined for the rest. */
function fixedBytes(column: ColumnInfo): number | undefined {
  const type = column.dataType;
  const integer = INTEGER_BYTES[type];
  if (integer !== undefined) return integer;
  switch (type) {
    case "float":
      return 4;
    case "double":
    case "real":
      return 8;
    case "decimal":
    case "numeric": {
      const precision = column.precision ?? 10;
      const scale = column.scale ?? 0;
      return decimalBytes(precision - scale) + decimalBytes(scale);
    }
    case "bit":
      return Math.ceil((column.maxLength ?? 1) / 8);
    case "year":
      return 1;
    case "date":
      return 3;
    case "time":
      return 3 + Math.ceil((column.scale ?? 0) / 2);
    case "datetime":
      return 5 + Math.ceil((column.scale ?? 0) / 2);
    case "timestamp":
      return 4 + Math.ceil((column.scale ?? 0) / 2);
    case "inet4":
      return 4;
    case "inet6":
    case "uuid":
      return 16;
    default:
      return undefined;
  }
}

function decimalBytes(digits: number): number {
  return Math.floor(digits / 9) * 4 + (DECIMAL_LEFTOVER_BYTES[digits % 9] ?? 4);
}

function setIfDefined<K extends "precision" | "scale" | "maxLength">(
  column: ColumnInfo,
  key: K,
  value: number | undefined,
): void {
  if (value !== undefined) column[key] = value;
}

/** A whole number from a catalog value (numbers or numeric strings); undefined for NULL. */
export function int(value: CatalogValue | undefined): number | undefined {
  if (value === null || value === undefined || value === "") return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
}

export function text(value: CatalogValue | undefined): string {
  return value === null || value === undefined ? "" : String(value);
}
