/**
 * How mysql2 hands rows to the codec (src/codec/mysql.ts): JSON as its text, GEOMETRY as its stored bytes, the rest
 * as the connection's settings say.
 */
import { describe, expect, it } from "vitest";
import { mysqlTypeCast, type TypeCastField } from "../src/codec/index.ts";

/** A mysql2 field of `type` holding `text`, recording what the type cast asked of it. */
function field(type: string, text: string, extendedFormat?: string) {
  const calls: string[] = [];
  const value: TypeCastField = {
    type,
    extendedFormat,
    string(encoding) {
      calls.push(`string(${encoding})`);
      return text;
    },
    buffer() {
      calls.push("buffer()");
      return Buffer.from(text);
    },
  };
  return { value, calls };
}

const next = () => "next";

describe("mysqlTypeCast", () => {
  it("reads MySQL's JSON columns as UTF-8 text", () => {
    const json = field("JSON", '{"a": 12345678901234567890}');
    expect(mysqlTypeCast(json.value, next)).toBe('{"a": 12345678901234567890}');
    expect(json.calls).toEqual(["string(utf8)"]);
  });

  it("reads MariaDB's JSON (LONGTEXT marked json) as text", () => {
    const json = field("BLOB", "[1]", "json");
    expect(mysqlTypeCast(json.value, next)).toBe("[1]");
    expect(json.calls).toEqual(["string(utf8)"]);
  });

  it("reads GEOMETRY as its stored bytes", () => {
    const point = field("GEOMETRY", "\u0001\u0002");
    expect(mysqlTypeCast(point.value, next)).toEqual(Buffer.from([1, 2]));
    expect(point.calls).toEqual(["buffer()"]);
  });

  it("leaves every other column to the connection's settings", () => {
    for (const [type, extendedFormat] of [
      ["VAR_STRING", undefined],
      ["BLOB", "uuid"],
      ["json", undefined],
    ] as const) {
      const other = field(type, "x", extendedFormat);
      expect(mysqlTypeCast(other.value, next)).toBe("next");
      expect(other.calls).toEqual([]);
    }
  });
});
