/**
 * One attribute's conversions between its three forms: the entity value (TypeScript), the MySQL column (as mysql2
 * returns it, and as a query parameter) and the DynamoDB attribute, plus its comparison text and its key text.
 * See docs/architecture.md, "Type mapping"; the attribute's `type` says which conversion, its `column.sqlType` the
 * details (DECIMAL scale, fractional-second digits, ENUM/SET members, integer ranges, BIT width).
 */

import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { type Attribute, type AttributeType, parseSqlType, type SqlType } from "@ferry/contract";
import { foldForCollation, isCaseInsensitive } from "./collation.ts";
import { conceal } from "./conceal.ts";
import { CodecError, HIDDEN_VALUE } from "./errors.ts";
import {
  attributeToJson,
  checkJson,
  JsonProblem,
  type JsonValue,
  jsonToAttribute,
  parseJson,
  writeJson,
} from "./json.ts";
import { dynamoNumberProblem, fitDecimal, numberText, parseDecimal, sortableInteger } from "./numbers.ts";
import {
  canonicalDatetimeTest,
  dateOnly,
  datetimeToMysql,
  isoDatetime,
  isoExample,
  mysqlDatetime,
  type Parsed,
  timeOfDay,
} from "./temporal.ts";

/** Attribute types that cannot be written into a string key (the contract check forbids them there). */
export const NOT_IN_KEYS: ReadonlySet<AttributeType> = new Set(["json", "set", "binary", "geometry"]);

/**
 * How one attribute type converts, on canonical values of type T. Every function gets a value that is not null;
 * AttributeCodec handles NULL (an absent attribute in DynamoDB, NULL in MySQL, `null` in the entity value).
 */
interface Conversion<T> {
  /** An entity value as a caller gives it -> the canonical value; throws CodecError when it does not fit. */
  check(value: unknown): T;
  /** A column value as mysql2 returns it with ferry's connection settings -> the canonical value. */
  fromMysql(value: unknown): T;
  toMysql(value: T): unknown;
  /** undefined: stored as an absent attribute (the empty set). */
  toDynamo(value: T): AttributeValue | undefined;
  fromDynamo(value: AttributeValue): T;
  /** What an absent DynamoDB attribute means for a NOT NULL column (the empty set); undefined: it is missing. */
  absent?(): T;
  /** Comparison text; null only for an empty nullable set (stored exactly like NULL). */
  normalize(value: T): string | null;
  /** Text inside a key; undefined for types that cannot be in keys. */
  keyText?(value: T): string;
}

type Fail = (problem: string, value: unknown, cause?: unknown) => never;

/** The conversions of one attribute of one entity (or of a denormalised copy of another entity's attribute). */
export class AttributeCodec {
  /** The attribute's name: the entity value's property and the DynamoDB attribute's name. */
  readonly name: string;
  /** The MySQL column (a denormalised copy has none: it lives on DynamoDB only). */
  readonly column: string | undefined;
  readonly type: AttributeType;
  /** Whether the value may be null (absent in DynamoDB); a denormalised copy always may. */
  readonly nullable: boolean;
  /** Whether it may be a key template's placeholder. */
  readonly keyable: boolean;
  /** A text column with a `_ci` collation: keyed and compared case- and accent-insensitively. */
  readonly caseInsensitive: boolean;
  /** A secret (`sensitive` in the contract): its value is never shown, in errors or anywhere else (see shown()). */
  readonly sensitive: boolean;
  private readonly conversion: Conversion<unknown>;

  constructor(
    readonly entity: string,
    name: string,
    attribute: Attribute,
    options: { denormalized?: boolean } = {},
  ) {
    this.name = name;
    this.column = options.denormalized ? undefined : attribute.column.name;
    this.type = attribute.type;
    this.nullable = options.denormalized === true || attribute.column.nullable;
    this.keyable = !NOT_IN_KEYS.has(attribute.type);
    this.caseInsensitive =
      (attribute.type === "string" || attribute.type === "enum") && isCaseInsensitive(attribute.column.collation);
    this.sensitive = attribute.sensitive === true;
    const fail: Fail = (problem, value, cause) => {
      // A problem's own text (and its cause's) may quote the value, or a piece of it: a sensitive one says only which.
      if (this.sensitive) {
        throw new CodecError(entity, name, `does not fit its ${this.type} type (what is wrong is not shown)`, {
          value: HIDDEN_VALUE,
        });
      }
      throw new CodecError(entity, name, problem, { value, cause });
    };
    const sqlType = parseSqlType(attribute.column.sqlType) ?? { base: attribute.column.sqlType, unsigned: false };
    this.conversion = conversionFor(attribute, sqlType, fail);
  }

  private missing(where = "but has no value"): never {
    throw new CodecError(this.entity, this.name, `is required (its column is NOT NULL) ${where}`);
  }

  /** An entity value -> its canonical form (null for null/undefined when nullable). */
  check(value: unknown): unknown {
    if (value === null || value === undefined) return this.nullable ? null : this.missing();
    return this.conversion.check(value);
  }

  /** A MySQL column value (mysql2) -> the canonical entity value. */
  fromColumn(value: unknown): unknown {
    if (value === null || value === undefined) return null;
    return this.conversion.fromMysql(value);
  }

  /** An entity value -> a MySQL query parameter (null for NULL). */
  toParameter(value: unknown): unknown {
    if (value === null || value === undefined) return this.nullable ? null : this.missing();
    return this.conversion.toMysql(this.conversion.check(value));
  }

  /** An entity value -> the DynamoDB attribute; undefined when the attribute is to be absent (null, empty set). */
  toAttribute(value: unknown): AttributeValue | undefined {
    if (value === null || value === undefined) return this.nullable ? undefined : this.missing();
    return this.conversion.toDynamo(this.conversion.check(value));
  }

  /** A DynamoDB attribute (undefined: absent) -> the canonical entity value. */
  fromAttribute(value: AttributeValue | undefined): unknown {
    if (value === undefined || value.NULL === true) {
      if (this.nullable) return null;
      return this.conversion.absent ? this.conversion.absent() : this.missing("but the item does not have it");
    }
    return this.conversion.fromDynamo(value);
  }

  /** The comparison text of an entity value: equal texts are equal values, on either store. */
  normalize(value: unknown): string | null {
    if (value === null || value === undefined) return null;
    const canonical = this.conversion.check(value);
    const text = this.conversion.normalize(canonical);
    return text === null && !this.nullable ? "" : text;
  }

  /** A normalised value (normalize()) as it may be shown: a sensitive attribute's concealed (`hidden #<tag>`). */
  shown(normalized: string | null): string | null {
    return this.sensitive ? conceal(normalized, `${this.entity}.${this.name}`) : normalized;
  }

  /**
   * An entity value as it is written inside a key (the placeholder rule: see key.ts); on a `_ci` column folded as the
   * collation compares it, so that keys, index keys and unique markers match what MySQL matches.
   */
  keyText(value: unknown): string {
    const keyText = this.conversion.keyText;
    if (!keyText) throw new CodecError(this.entity, this.name, `a ${this.type} attribute cannot be part of a key`);
    const text = keyText(this.conversion.check(value));
    return this.caseInsensitive ? foldForCollation(text) : text;
  }

  /** Whether two values are equal as MySQL's column compares them (its collation for text). */
  same(a: unknown, b: unknown): boolean {
    const left = this.normalize(a);
    const right = this.normalize(b);
    if (left === null || right === null) return left === right;
    return this.caseInsensitive ? foldForCollation(left) === foldForCollation(right) : left === right;
  }
}

function conversionFor(attribute: Attribute, sqlType: SqlType, fail: Fail): Conversion<unknown> {
  switch (attribute.type) {
    case "string":
      return stringConversion(attribute.column.json === true || sqlType.base === "json", fail);
    case "integer":
      return integerConversion(sqlType, fail);
    case "bigint":
      return bigintConversion(sqlType, fail);
    case "decimal":
      return decimalConversion(sqlType, fail);
    case "float":
      return floatConversion(sqlType, fail);
    case "boolean":
      return booleanConversion(fail);
    case "datetime":
      return datetimeConversion(sqlType.precision ?? 0, fail);
    case "date":
      return dateConversion(fail);
    case "time":
      return timeConversion(sqlType.precision ?? 0, fail);
    case "enum":
      return enumConversion(sqlType.values ?? [], fail);
    case "set":
      return setConversion(sqlType.values ?? [], attribute.column.nullable, fail);
    case "json":
      return jsonConversion(fail);
    case "binary":
    case "geometry":
      return bytesConversion(attribute.type, fail);
  }
}

/** The DynamoDB value of an attribute that must be there as type `kind`. */
function stored<K extends "S" | "N" | "B" | "BOOL" | "SS">(
  value: AttributeValue,
  kind: K,
  fail: Fail,
): NonNullable<AttributeValue[K]> {
  const inner = value[kind];
  if (inner === undefined || inner === null) {
    const kinds = Object.keys(value).filter((key) => value[key as keyof AttributeValue] !== undefined);
    return fail(`expected a DynamoDB ${kind} attribute, not ${kinds.join("/") || "an empty one"}`, value);
  }
  return inner as NonNullable<AttributeValue[K]>;
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const INTEGER_BITS: Readonly<Record<string, number>> = { tinyint: 8, smallint: 16, mediumint: 24, int: 32, bigint: 64 };

/** The values a column of an integer type holds. */
function integerRange(sqlType: SqlType): { min: bigint; max: bigint } | undefined {
  const bits = INTEGER_BITS[sqlType.base];
  if (bits !== undefined) {
    return sqlType.unsigned
      ? { min: 0n, max: 2n ** BigInt(bits) - 1n }
      : { min: -(2n ** BigInt(bits - 1)), max: 2n ** BigInt(bits - 1) - 1n };
  }
  if (sqlType.base === "year") return { min: 0n, max: 2155n };
  if (sqlType.base === "bit") return { min: 0n, max: 2n ** BigInt(sqlType.length ?? 1) - 1n };
  return undefined;
}

/** BIT(n) comes from mysql2 as big-endian bytes. */
function bitsValue(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** An unsigned value as BIT(n) bytes, big-endian (mysql2 sends a Buffer as a binary string, which BIT takes bitwise). */
function bitsBuffer(value: bigint, bits: number): Buffer {
  const bytes = Buffer.alloc(Math.ceil(bits / 8));
  let rest = value;
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes;
}

function stringConversion(jsonColumn: boolean, fail: Fail): Conversion<string> {
  const check = (value: unknown): string => (typeof value === "string" ? value : fail("expected a string", value));
  return {
    check,
    fromMysql(value) {
      if (typeof value === "string") return value;
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString();
      // A JSON column read as a string attribute, which mysql2 parsed: its text again.
      if (jsonColumn) return writeJson(checkJson(value));
      return fail("expected text from MySQL", value);
    },
    toMysql: (value) => value,
    toDynamo: (value) => ({ S: value }),
    fromDynamo: (value) => stored(value, "S", fail),
    normalize: (value) => value,
    keyText: (value) => value,
  };
}

function integerConversion(sqlType: SqlType, fail: Fail): Conversion<number> {
  const range = integerRange(sqlType);
  const min = range ? Math.max(Number(range.min), Number.MIN_SAFE_INTEGER) : Number.MIN_SAFE_INTEGER;
  const max = range ? Math.min(Number(range.max), Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
  const bits = sqlType.base === "bit" ? (sqlType.length ?? 1) : undefined;
  const check = (value: unknown): number => {
    if (typeof value !== "number") return fail("expected an integer number", value);
    if (!Number.isInteger(value) || value < min || value > max) {
      return fail(
        `expected an integer from ${min} to ${max} (${sqlType.base}${sqlType.unsigned ? " unsigned" : ""})`,
        value,
      );
    }
    return value === 0 ? 0 : value;
  };
  return {
    check,
    fromMysql(value) {
      if (typeof value === "number") return check(value);
      if (typeof value === "string" && INTEGER_TEXT.test(value)) return check(Number(value));
      if (value instanceof Uint8Array) return check(Number(bitsValue(value)));
      return fail("expected an integer from MySQL", value);
    },
    toMysql: (value) => (bits === undefined ? value : bitsBuffer(BigInt(value), bits)),
    toDynamo: (value) => ({ N: String(value) }),
    fromDynamo(value) {
      const text = stored(value, "N", fail);
      const number = Number(text);
      return Number.isSafeInteger(number) ? check(number) : fail("expected an integer in DynamoDB", text);
    },
    normalize: (value) => String(value),
    keyText: sortableInteger,
  };
}

function bigintConversion(sqlType: SqlType, fail: Fail): Conversion<bigint> {
  const range = integerRange(sqlType) ?? { min: -(2n ** 63n), max: 2n ** 63n - 1n };
  const bits = sqlType.base === "bit" ? (sqlType.length ?? 1) : undefined;
  const inRange = (value: bigint, given: unknown): bigint =>
    value >= range.min && value <= range.max
      ? value
      : fail(
          `is out of range for ${sqlType.base}${sqlType.unsigned ? " unsigned" : ""} (${range.min} to ${range.max})`,
          given,
        );
  const check = (value: unknown): bigint => {
    if (typeof value === "bigint") return inRange(value, value);
    if (typeof value === "string" && INTEGER_TEXT.test(value)) return inRange(BigInt(value), value);
    if (typeof value === "number") {
      if (Number.isSafeInteger(value)) return inRange(BigInt(value), value);
      return fail("is not a safe integer: pass a bigint or a string for values beyond 2^53", value);
    }
    return fail("expected a bigint (or an integer string, or a safe integer number)", value);
  };
  return {
    check,
    fromMysql: (value) => (value instanceof Uint8Array ? inRange(bitsValue(value), value) : check(value)),
    toMysql: (value) => (bits === undefined ? value.toString() : bitsBuffer(value, bits)),
    toDynamo: (value) => ({ N: value.toString() }),
    fromDynamo(value) {
      const text = stored(value, "N", fail);
      if (INTEGER_TEXT.test(text)) return inRange(BigInt(text), text);
      // Not the plain digits DynamoDB returns; accept any exact spelling of an integer ("1E+2").
      const parts = parseDecimal(text);
      if (!parts || /[1-9]/.test(parts.fraction)) return fail("expected an integer in DynamoDB", text);
      return inRange(BigInt(`${parts.negative ? "-" : ""}${parts.integer || "0"}`), text);
    },
    normalize: (value) => value.toString(),
    keyText: sortableInteger,
  };
}

function decimalConversion(sqlType: SqlType, fail: Fail): Conversion<string> {
  const precision = sqlType.precision ?? 10;
  const scale = sqlType.scale ?? 0;
  const example = scale > 0 ? `"12.${"5".padEnd(scale, "0")}"` : `"12"`;
  const toScale = (text: string, given: unknown): string => {
    const parts = parseDecimal(text);
    if (!parts) return fail(`expected a decimal string like ${example}`, given);
    const fitted = fitDecimal(parts, precision, scale);
    return "text" in fitted ? fitted.text : fail(fitted.problem, given);
  };
  const check = (value: unknown): string => {
    if (typeof value === "string") return toScale(value, value);
    if (typeof value === "number") {
      return Number.isFinite(value) ? toScale(numberText(value), value) : fail("is not a finite number", value);
    }
    if (typeof value === "bigint") return toScale(value.toString(), value);
    return fail(`expected a decimal string like ${example}`, value);
  };
  return {
    check,
    fromMysql: check,
    toMysql: (value) => value,
    toDynamo: (value) => ({ N: value }),
    // DynamoDB drops trailing zeros ("10.50" comes back as "10.5"): the column's scale puts them back.
    fromDynamo: (value) => toScale(stored(value, "N", fail), value.N),
    normalize: (value) => value,
    keyText: (value) => sortableDecimal(value, precision, scale),
  };
}

/**
 * A DECIMAL(p, s) value's key text, which sorts as the numbers do: all p digits, zero-padded, the point before the
 * last s ("12.50" in decimal(10,2) -> "00000012.50"); a negative value '-' then 10^p - |v| the same way ("-0.50" ->
 * "-99999999.50"), so negatives sort before positives and among themselves.
 */
function sortableDecimal(text: string, precision: number, scale: number): string {
  const unscaled = BigInt(text.replace(".", ""));
  const digits = (unscaled < 0n ? 10n ** BigInt(precision) + unscaled : unscaled).toString().padStart(precision, "0");
  const placed = scale > 0 ? `${digits.slice(0, precision - scale)}.${digits.slice(precision - scale)}` : digits;
  return unscaled < 0n ? `-${placed}` : placed;
}

function floatConversion(sqlType: SqlType, fail: Fail): Conversion<number> {
  // FLOAT keeps ~7 significant digits and MySQL prints 6 (MariaDB) or the shortest float32 text (MySQL 8); compare
  // FLOAT values at 6 significant digits, DOUBLE values exactly.
  const single = sqlType.base === "float" && (sqlType.precision === undefined || sqlType.precision <= 24);
  const check = (value: unknown): number =>
    typeof value === "number" && Number.isFinite(value) ? value : fail("expected a finite number", value);
  return {
    check,
    fromMysql(value) {
      if (typeof value === "string" && value.trim() !== "") return check(Number(value));
      return check(value);
    },
    toMysql: (value) => value,
    toDynamo(value) {
      const problem = dynamoNumberProblem(value);
      return problem ? fail(problem, value) : { N: numberText(value) };
    },
    fromDynamo: (value) => check(Number(stored(value, "N", fail))),
    normalize: single ? (value) => String(Number(value.toPrecision(6))) : (value) => String(value),
    keyText: numberText,
  };
}

function booleanConversion(fail: Fail): Conversion<boolean> {
  const fromNumber = (number: number, given: unknown): boolean =>
    number === 0 ? false : number === 1 ? true : fail("is neither 0 nor 1 in a boolean column", given);
  return {
    check: (value) => (typeof value === "boolean" ? value : fail("expected true or false", value)),
    fromMysql(value) {
      if (typeof value === "number") return fromNumber(value, value);
      if (value instanceof Uint8Array) return fromNumber(Number(bitsValue(value)), value);
      if (typeof value === "string" && INTEGER_TEXT.test(value)) return fromNumber(Number(value), value);
      if (typeof value === "boolean") return value;
      return fail("expected 0 or 1 from MySQL", value);
    },
    toMysql: (value) => (value ? 1 : 0),
    toDynamo: (value) => ({ BOOL: value }),
    fromDynamo: (value) => stored(value, "BOOL", fail),
    normalize: (value) => String(value),
    keyText: (value) => String(value),
  };
}

function parsedOrFail(parsed: Parsed, given: unknown, fail: Fail): string {
  return "text" in parsed ? parsed.text : fail(parsed.problem, given);
}

function datetimeConversion(digits: number, fail: Fail): Conversion<string> {
  const canonical = canonicalDatetimeTest(digits);
  const check = (value: unknown): string => {
    if (typeof value === "string") {
      return canonical.test(value) ? value : parsedOrFail(isoDatetime(value, digits), value, fail);
    }
    if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) return fail("is an invalid Date", value);
      return parsedOrFail(isoDatetime(value.toISOString(), digits), value, fail);
    }
    return fail(`expected an ISO-8601 UTC timestamp like ${isoExample(digits)}`, value);
  };
  return {
    check,
    fromMysql: (value) =>
      typeof value === "string" ? parsedOrFail(mysqlDatetime(value, digits), value, fail) : check(value),
    toMysql: datetimeToMysql,
    toDynamo: (value) => ({ S: value }),
    fromDynamo: (value) => check(stored(value, "S", fail)),
    normalize: (value) => value,
    keyText: (value) => value,
  };
}

function dateConversion(fail: Fail): Conversion<string> {
  const check = (value: unknown): string => {
    if (typeof value === "string") return parsedOrFail(dateOnly(value), value, fail);
    if (value instanceof Date && !Number.isNaN(value.getTime())) {
      const iso = value.toISOString();
      if (iso.endsWith("T00:00:00.000Z")) return iso.slice(0, 10);
      return fail("is a Date that is not midnight UTC; pass 'YYYY-MM-DD'", value);
    }
    return fail("expected a date string like 2026-01-02", value);
  };
  return textConversion(check, fail);
}

function timeConversion(digits: number, fail: Fail): Conversion<string> {
  const check = (value: unknown): string =>
    typeof value === "string"
      ? parsedOrFail(timeOfDay(value, digits), value, fail)
      : fail("expected a time string like 03:04:05", value);
  return textConversion(check, fail);
}

function quotedList(values: readonly string[]): string {
  return values.map((value) => `'${value}'`).join(", ");
}

/** A value that is checked text on both stores, as it is (enum, date, time). */
function textConversion(check: (value: unknown) => string, fail: Fail): Conversion<string> {
  return {
    check,
    fromMysql: check,
    toMysql: (value) => value,
    toDynamo: (value) => ({ S: value }),
    fromDynamo: (value) => check(stored(value, "S", fail)),
    normalize: (value) => value,
    keyText: (value) => value,
  };
}

function enumConversion(values: readonly string[], fail: Fail): Conversion<string> {
  const allowed = new Set(values);
  const check = (value: unknown): string =>
    typeof value === "string" && allowed.has(value) ? value : fail(`expected one of ${quotedList(values)}`, value);
  return textConversion(check, fail);
}

function setConversion(values: readonly string[], nullable: boolean, fail: Fail): Conversion<string[]> {
  const order = new Map(values.map((value, index) => [value, index]));
  const members = (items: readonly unknown[], given: unknown): string[] => {
    const seen = new Set<string>();
    for (const item of items) {
      if (typeof item !== "string" || !order.has(item)) {
        return fail(
          `has a member ${JSON.stringify(item) ?? String(item)} that is not one of ${quotedList(values)}`,
          given,
        );
      }
      if (seen.has(item)) return fail(`has '${item}' twice`, given);
      seen.add(item);
    }
    return [...seen].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0));
  };
  const check = (value: unknown): string[] =>
    Array.isArray(value) ? members(value, value) : fail(`expected an array of ${quotedList(values)}`, value);
  return {
    check,
    fromMysql: (value) =>
      typeof value === "string" ? (value === "" ? [] : members(value.split(","), value)) : check(value),
    toMysql: (value) => value.join(","),
    // DynamoDB has no empty set: the empty set is an absent attribute.
    toDynamo: (value) => (value.length === 0 ? undefined : { SS: value }),
    fromDynamo: (value) => members(stored(value, "SS", fail), value.SS),
    absent: () => [],
    // A nullable set stores NULL and the empty set alike (an absent attribute): both compare as null.
    normalize: (value) => (value.length > 0 ? value.join(",") : nullable ? null : ""),
  };
}

function jsonConversion(fail: Fail): Conversion<JsonValue> {
  const check = (value: unknown): JsonValue => {
    try {
      return checkJson(value);
    } catch (error) {
      if (error instanceof JsonProblem) return fail(`is not JSON: ${error.path} ${error.message}`, value, error);
      throw error;
    }
  };
  const parse = (text: string, given: unknown): JsonValue => {
    try {
      return parseJson(text);
    } catch (error) {
      return fail(
        "is not JSON text (read JSON columns as text: mysql2's jsonStrings option, or mysqlTypeCast)",
        given,
        error,
      );
    }
  };
  return {
    check,
    fromMysql(value) {
      if (typeof value === "string") return parse(value, value);
      if (value instanceof Uint8Array)
        return parse(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString(), value);
      // Already parsed by mysql2 (numbers beyond 2^53 may have lost digits on the way).
      return check(value);
    },
    toMysql: (value) => writeJson(value),
    toDynamo(value) {
      try {
        return jsonToAttribute(value);
      } catch (error) {
        if (error instanceof JsonProblem) return fail(`cannot be stored: ${error.path} ${error.message}`, value, error);
        throw error;
      }
    },
    fromDynamo(value) {
      try {
        return attributeToJson(value);
      } catch (error) {
        if (error instanceof JsonProblem) return fail(`is not JSON: ${error.path} ${error.message}`, value, error);
        throw error;
      }
    },
    normalize: (value) => writeJson(value, true),
  };
}

/** A plain Uint8Array over the same bytes (Buffer is a Uint8Array subclass; values compare equal as plain arrays). */
function plainBytes(value: Uint8Array): Uint8Array {
  return value.constructor === Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function bytesConversion(type: AttributeType, fail: Fail): Conversion<Uint8Array> {
  const check = (value: unknown): Uint8Array =>
    value instanceof Uint8Array ? plainBytes(value) : fail("expected a Uint8Array", value);
  return {
    check,
    fromMysql(value) {
      if (value instanceof Uint8Array) return plainBytes(value);
      if (type === "geometry") {
        return fail("mysql2 parsed this geometry into objects; read it as bytes with mysqlTypeCast", value);
      }
      return fail("expected bytes (a Buffer) from MySQL", value);
    },
    toMysql: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength),
    toDynamo: (value) => ({ B: value }),
    fromDynamo: (value) => plainBytes(stored(value, "B", fail)),
    normalize: (value) => Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
  };
}
