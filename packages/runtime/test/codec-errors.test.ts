/**
 * The codec's one error type (src/codec/errors.ts): which entity and attribute, which value and what is wrong, with a
 * short unambiguous rendering of any value.
 */
import { describe, expect, it } from "vitest";
import { CodecError, describeValue } from "../src/codec/index.ts";

describe("describeValue renders any value shortly and unambiguously", () => {
  class Money {}
  const cases: Array<[string, unknown, string]> = [
    ["null", null, "null"],
    ["undefined", undefined, "undefined"],
    ["a string", "10.5", '"10.5" (string)'],
    ["the empty string", "", '"" (string)'],
    ["a string with quotes", 'a"b\n', '"a\\"b\\n" (string)'],
    ["a string of 60 characters", "x".repeat(60), `"${"x".repeat(60)}" (string)`],
    ["a string of 61 characters", "x".repeat(61), `"${"x".repeat(57)}..." (string)`],
    ["a number", 10.5, "10.5 (number)"],
    ["NaN", Number.NaN, "NaN (number)"],
    ["-0", -0, "0 (number)"],
    ["a bigint", 7n, "7n (bigint)"],
    ["a boolean", false, "false (boolean)"],
    ["a Uint8Array", new Uint8Array(3), "Uint8Array(3 bytes)"],
    ["a Buffer", Buffer.alloc(2), "Buffer(2 bytes)"],
    ["a Date", new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), "Date(2026-01-02T03:04:05.006Z)"],
    ["an invalid Date", new Date(Number.NaN), "Date(invalid)"],
    ["an array", [1, 2, 3], "an array of 3"],
    ["an empty array", [], "an array of 0"],
    ["an object", { a: 1 }, "an object"],
    ["an object without a prototype", Object.create(null), "an object"],
    ["an object whose prototype has no constructor", Object.create(Object.create(null)), "an object"],
    ["a Map", new Map(), "a Map"],
    ["a class instance", new Money(), "a Money"],
    ["a function", () => 1, "a function"],
    ["a symbol", Symbol("s"), "a symbol"],
  ];
  it.each(cases)("%s", (_name, value, text) => {
    expect(describeValue(value)).toBe(text);
  });
});

describe("CodecError names where, what and which value", () => {
  it("entity.attribute: message, got the value", () => {
    const error = new CodecError("Sample", "price", "is out of range", { value: "1e9" });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("CodecError");
    expect(error.message).toBe('Sample.price: is out of range, got "1e9" (string)');
    expect(error.entity).toBe("Sample");
    expect(error.attribute).toBe("price");
    expect(error.value).toBe("1e9");
    expect("cause" in error).toBe(false);
    expect(String(error)).toBe('CodecError: Sample.price: is out of range, got "1e9" (string)');
  });

  it("an entity alone, and no value when none is given", () => {
    const error = new CodecError("Sample", undefined, "is not an entity");
    expect(error.message).toBe("Sample: is not an entity");
    expect(error.attribute).toBeUndefined();
    expect(error.value).toBeUndefined();
  });

  it("an undefined value given is shown; a cause is kept", () => {
    const cause = new SyntaxError("bad");
    const error = new CodecError("Sample", "payload", "is not JSON", { value: undefined, cause });
    expect(error.message).toBe("Sample.payload: is not JSON, got undefined");
    expect(error.cause).toBe(cause);
  });
});
