/**
 * JSON values, exactly where MySQL 8 is exact. A JSON number is a JS `number`, except an integer within 64 bits
 * (-2^63 to 2^64-1, the integers MySQL 8 stores exactly) that a double cannot hold, which is a `bigint`
 * (12345678901234567890n). Integers beyond 64 bits are doubles, as MySQL 8 makes them, and a bigint beyond 64 bits
 * is refused rather than silently rounded. Parsing, writing, checking and the DynamoDB form (M/L/S/N/BOOL/NULL) all
 * follow that one rule, so a value reads back equal from either store.
 */

import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { dynamoNumberProblem, JSON_INTEGER_MAX, JSON_INTEGER_MIN, numberText } from "./numbers.ts";

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | { [key: string]: JsonValue };

/** A problem at a path inside a JSON value ("$.a[2]"). */
export class JsonProblem extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/**
 * Text JSON.parse cannot read exactly: a run of 16 digits (an integer a double may not hold) or an exponent of three
 * digits or more (a number that may be beyond a double, which JSON.parse makes Infinity).
 */
const NEEDS_EXACT_PARSER = /\d{16}|[eE][+-]?\d{3}/;

/** The number a JSON integer literal stands for, by the rule above. */
function integerNumber(text: string): number | bigint {
  const value = Number(text);
  if (Number.isSafeInteger(value)) return value;
  const exact = BigInt(text);
  if (exact < JSON_INTEGER_MIN || exact > JSON_INTEGER_MAX) return value;
  return BigInt(value) === exact ? value : exact;
}

/** The JSON number (number or bigint) a numeric text stands for; undefined when it is not finite. */
export function jsonNumber(text: string): number | bigint | undefined {
  if (/^-?\d+$/.test(text)) return integerNumber(text);
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Parses JSON text by the number rule above. Throws a SyntaxError (or JsonProblem) for text that is not JSON. */
export function parseJson(text: string): JsonValue {
  // Up to 15 digits and exponents under 100, every number is a finite double: JSON.parse is right and fastest.
  if (!NEEDS_EXACT_PARSER.test(text)) {
    const value = JSON.parse(text) as JsonValue;
    return value;
  }
  return new ExactJsonParser(text).document();
}

const NUMBER_TOKEN = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

class ExactJsonParser {
  private at = 0;
  constructor(private readonly text: string) {}

  document(): JsonValue {
    const value = this.value();
    this.skip();
    if (this.at !== this.text.length) this.fail("unexpected text after the JSON value");
    return value;
  }

  private fail(message: string): never {
    throw new SyntaxError(`${message} at position ${this.at}`);
  }

  private skip(): void {
    WHITESPACE.lastIndex = this.at;
    WHITESPACE.exec(this.text);
    this.at = WHITESPACE.lastIndex;
  }

  private value(): JsonValue {
    this.skip();
    const char = this.text[this.at];
    if (char === "{") return this.object();
    if (char === "[") return this.array();
    if (char === '"') return this.string();
    for (const [word, value] of [
      ["true", true],
      ["false", false],
      ["null", null],
    ] as const) {
      if (this.text.startsWith(word, this.at)) {
        this.at += word.length;
        return value;
      }
    }
    NUMBER_TOKEN.lastIndex = this.at;
    const match = NUMBER_TOKEN.exec(this.text);
    if (!match) this.fail("unexpected character");
    this.at = NUMBER_TOKEN.lastIndex;
    const number = match[1] === undefined && match[2] === undefined ? integerNumber(match[0]) : Number(match[0]);
    if (typeof number === "number" && !Number.isFinite(number)) this.fail("number out of range");
    return number;
  }

  private string(): string {
    const start = this.at;
    let i = start + 1;
    for (;;) {
      const char = this.text[i];
      if (char === undefined) this.fail("unterminated string");
      if (char === "\\") i += 2;
      else if (char === '"') break;
      else i += 1;
    }
    this.at = i + 1;
    return JSON.parse(this.text.slice(start, i + 1)) as string;
  }

  private array(): JsonValue[] {
    this.at += 1;
    const items: JsonValue[] = [];
    this.skip();
    if (this.text[this.at] === "]") {
      this.at += 1;
      return items;
    }
    for (;;) {
      items.push(this.value());
      this.skip();
      const char = this.text[this.at];
      this.at += 1;
      if (char === "]") return items;
      if (char !== ",") this.fail("expected ',' or ']'");
    }
  }

  private object(): { [key: string]: JsonValue } {
    this.at += 1;
    const object: { [key: string]: JsonValue } = {};
    this.skip();
    if (this.text[this.at] === "}") {
      this.at += 1;
      return object;
    }
    for (;;) {
      this.skip();
      if (this.text[this.at] !== '"') this.fail("expected a property name");
      const key = this.string();
      this.skip();
      if (this.text[this.at] !== ":") this.fail("expected ':'");
      this.at += 1;
      setProperty(object, key, this.value());
      this.skip();
      const char = this.text[this.at];
      this.at += 1;
      if (char === "}") return object;
      if (char !== ",") this.fail("expected ',' or '}'");
    }
  }
}

/** Sets a property, "__proto__" included, as JSON.parse does. */
function setProperty(object: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  if (key === "__proto__")
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  else object[key] = value;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Checks that a value is JSON (plain objects, arrays, strings, finite numbers, bigints, booleans, null) and returns
 * it in canonical form: bigints a double holds exactly become numbers; object properties that are undefined are left
 * out, as JSON.stringify does. Throws a JsonProblem naming the path of the first thing that is not JSON.
 */
export function checkJson(value: unknown, path = "$"): JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new JsonProblem(`${String(value)} is not a JSON number`, path);
      return value;
    case "bigint": {
      if (value < JSON_INTEGER_MIN || value > JSON_INTEGER_MAX) {
        throw new JsonProblem(
          `${value}n is beyond 64 bits, where MySQL 8 keeps JSON integers exact (use a string)`,
          path,
        );
      }
      const number = Number(value);
      return BigInt(number) === value ? number : value;
    }
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) return value.map((item: unknown, index) => checkJson(item, `${path}[${index}]`));
      if (!isPlainObject(value)) throw new JsonProblem("is not a plain object", path);
      const object: { [key: string]: JsonValue } = {};
      for (const key of Object.keys(value)) {
        const item = value[key];
        if (item !== undefined) setProperty(object, key, checkJson(item, `${path}.${key}`));
      }
      return object;
    }
    default:
      throw new JsonProblem(`a ${typeof value} is not JSON`, path);
  }
}

/** JSON text of a (checked) value; bigints are written as their digits. `sorted` sorts object keys (canonical form). */
export function writeJson(value: JsonValue, sorted = false): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return numberText(value);
    case "boolean":
      return String(value);
    case "bigint":
      return value.toString();
    default: {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map((item) => writeJson(item, sorted)).join(",")}]`;
      const keys = Object.keys(value);
      if (sorted) keys.sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${writeJson(value[key] ?? null, sorted)}`).join(",")}}`;
    }
  }
}

/** A (checked) JSON value as a DynamoDB attribute: M, L, S, N, BOOL or NULL. */
export function jsonToAttribute(value: JsonValue, path = "$"): AttributeValue {
  switch (typeof value) {
    case "string":
      return { S: value };
    case "number": {
      const problem = dynamoNumberProblem(value);
      if (problem) throw new JsonProblem(`${value} ${problem}`, path);
      return { N: numberText(value) };
    }
    case "bigint":
      return { N: value.toString() };
    case "boolean":
      return { BOOL: value };
    default: {
      if (value === null) return { NULL: true };
      if (Array.isArray(value)) return { L: value.map((item, index) => jsonToAttribute(item, `${path}[${index}]`)) };
      const map: Record<string, AttributeValue> = {};
      for (const key of Object.keys(value)) map[key] = jsonToAttribute(value[key] ?? null, `${path}.${key}`);
      return { M: map };
    }
  }
}

/** A DynamoDB attribute holding JSON back as the JSON value. Throws a JsonProblem for sets and binary values. */
export function attributeToJson(attribute: AttributeValue, path = "$"): JsonValue {
  if (attribute.S !== undefined) return attribute.S;
  if (attribute.N !== undefined) {
    const number = jsonNumber(attribute.N);
    if (number === undefined) throw new JsonProblem(`${attribute.N} is not a JSON number`, path);
    return number;
  }
  if (attribute.BOOL !== undefined) return attribute.BOOL;
  if (attribute.NULL !== undefined) return null;
  if (attribute.L !== undefined) return attribute.L.map((item, index) => attributeToJson(item, `${path}[${index}]`));
  if (attribute.M !== undefined) {
    const object: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(attribute.M))
      setProperty(object, key, attributeToJson(item, `${path}.${key}`));
    return object;
  }
  throw new JsonProblem(`a DynamoDB ${Object.keys(attribute).join("/") || "empty"} value is not JSON`, path);
}
