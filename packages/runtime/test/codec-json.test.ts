/**
 * JSON values exactly where MySQL 8 is exact (src/codec/json.ts): JSON text as MySQL 8 prints it (with whitespace),
 * integers at the 64-bit edges, checking, canonical text, and the DynamoDB form.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import {
  attributeToJson,
  checkJson,
  JsonProblem,
  type JsonValue,
  jsonNumber,
  jsonToAttribute,
  parseJson,
  writeJson,
} from "../src/codec/json.ts";

/** Runs `action` and returns the JsonProblem it throws. */
function jsonProblem(action: () => unknown): JsonProblem {
  try {
    action();
  } catch (error) {
    if (error instanceof JsonProblem) return error;
    throw error;
  }
  throw new Error("expected a JsonProblem, and nothing was thrown");
}

describe("parseJson reads JSON text as MySQL 8 prints it", () => {
  it("with whitespace after colons and commas, and around everything", () => {
    // MySQL 8's JSON output: '{"a": 1, "b": [1, 2]}'; a long integer takes the exact parser.
    expect(parseJson('{"id": 12345678901234567890, "tags": ["a", "b"], "n": null, "ok": true, "no": false}')).toEqual({
      id: 12345678901234567890n,
      tags: ["a", "b"],
      n: null,
      ok: true,
      no: false,
    });
    expect(parseJson(' \t\r\n{ "a" : [ 12345678901234567890 , { } , [ ] ] , "b" : { "c" : -1.5e+2 } } \n')).toEqual({
      a: [12345678901234567890n, {}, []],
      b: { c: -150 },
    });
    expect(parseJson("[ ]")).toEqual([]);
    expect(parseJson("{ }")).toEqual({});
    expect(parseJson('{"a": 1, "b": [1, 2]}')).toEqual({ a: 1, b: [1, 2] });
    expect(parseJson('[1234567890123456, "x"]')).toEqual([1234567890123456, "x"]);
    expect(parseJson('[ {} ,\t[] , "12345678901234567890" ]')).toEqual([{}, [], "12345678901234567890"]);
  });

  it("keeps strings with escapes intact", () => {
    expect(parseJson('{"k\\"ey": "a\\\\\\"b", "u": "\\u00e9", "big": 12345678901234567890}')).toEqual({
      'k"ey': 'a\\"b',
      u: "é",
      big: 12345678901234567890n,
    });
    expect(parseJson('["", "]", "}", ",", 12345678901234567890]')).toEqual(["", "]", "}", ",", 12345678901234567890n]);
  });

  it("reads numbers of every form beside a long integer", () => {
    expect(parseJson("[0, -7, 1.5, -0.25, 1e3, 2E-2, 1.5e+1, 12345678901234567890]")).toEqual([
      0,
      -7,
      1.5,
      -0.25,
      1000,
      0.02,
      15,
      12345678901234567890n,
    ]);
  });

  const edges: Array<[string, JsonValue]> = [
    ["9007199254740991", 9007199254740991],
    ["-9007199254740991", -9007199254740991],
    ["9007199254740992", 2 ** 53],
    ["9007199254740993", 9007199254740993n],
    ["-9007199254740993", -9007199254740993n],
    ["9223372036854775807", 9223372036854775807n],
    ["-9223372036854775807", -9223372036854775807n],
    ["-9223372036854775808", -(2 ** 63)],
    ["-9223372036854775809", -(2 ** 63)],
    ["-9223372036854777857", -(2 ** 63) - 2048],
    ["18446744073709551615", 18446744073709551615n],
    ["18446744073709551614", 18446744073709551614n],
    ["18446744073709549568", 2 ** 64 - 2048],
    ["18446744073709551616", 2 ** 64],
    ["18446744073709551617", 2 ** 64],
    ["123456789012345678901234567890", 1.2345678901234568e29],
    ["12345678901234567890.5", 12345678901234567000],
  ];
  it.each(edges)("64-bit edge %s", (text, value) => {
    expect(parseJson(text)).toEqual(value);
    expect(parseJson(`[ ${text} ]`)).toEqual([value]);
    expect(jsonNumber(text)).toEqual(value);
  });

  const malformed: Array<[string, string]> = [
    ["12345678901234567890 x", "unexpected text after the JSON value at position 21"],
    ["[12345678901234567890,]", "unexpected character at position 22"],
    ['"12345678901234567890', "unterminated string at position 0"],
    ['"12345678901234567890\\', "unterminated string at position 0"],
    ["[12345678901234567890 1]", "expected ',' or ']' at position 23"],
    ["[12345678901234567890", "expected ',' or ']' at position 22"],
    ["{12345678901234567890: 1}", "expected a property name at position 1"],
    ['{"a" 12345678901234567890}', "expected ':' at position 5"],
    ['{"a": 12345678901234567890 "b": 1}', "expected ',' or '}' at position 28"],
    ['{"a": 12345678901234567890', "expected ',' or '}' at position 27"],
    ["[1e400, 12345678901234567890]", "number out of range at position 6"],
    ["[-1e400, 12345678901234567890]", "number out of range at position 7"],
    ["[12345678901234567890, tru]", "unexpected character at position 23"],
    ["[12345678901234567890, +1]", "unexpected character at position 23"],
    ["[12345678901234567890, .5]", "unexpected character at position 23"],
  ];
  it.each(malformed)("refuses %j: %s", (text, message) => {
    expect(() => parseJson(text)).toThrow(new SyntaxError(message));
  });

  it("refuses a number beyond a double, with or without a long integer beside it (never Infinity)", () => {
    expect(() => parseJson("[1e400]")).toThrow(new SyntaxError("number out of range at position 6"));
    expect(() => parseJson('{"a": -1E+400}')).toThrow(new SyntaxError("number out of range at position 13"));
    expect(parseJson("[1e-400, 1.5e100, 2e2]")).toEqual([0, 1.5e100, 200]);
  });

  it("refuses short text as JSON.parse does", () => {
    expect(() => parseJson("[1,]")).toThrow(SyntaxError);
    expect(() => parseJson("")).toThrow(SyntaxError);
  });

  it("keeps a __proto__ key as a property, in both parsers", () => {
    for (const [text, x] of [
      ['{"__proto__": {"x": 1}}', 1],
      ['{"__proto__": {"x": 12345678901234567890}}', 12345678901234567890n],
    ] as const) {
      const value = parseJson(text) as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.keys(value)).toEqual(["__proto__"]);
      expect(Object.getOwnPropertyDescriptor(value, "__proto__")).toEqual({
        value: { x },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  });
});

describe("jsonNumber: the number a DynamoDB N holding JSON stands for", () => {
  it.each<[string, number | bigint]>([
    ["1", 1],
    ["-1", -1],
    ["1.5", 1.5],
    ["1E+2", 100],
    ["12345678901234567890", 12345678901234567890n],
  ])("%s", (text, value) => {
    expect(jsonNumber(text)).toBe(value);
  });

  it.each(["1e400", "-1e400", "abc", "Infinity"])("%s is not a JSON number", (text) => {
    expect(jsonNumber(text)).toBeUndefined();
  });
});

describe("checkJson: what is JSON, in canonical form", () => {
  it("makes bigints a double holds exactly numbers, and keeps the others at the 64-bit edges", () => {
    expect(checkJson(5n)).toBe(5);
    expect(checkJson(-(2n ** 53n))).toBe(-(2 ** 53));
    expect(checkJson(2n ** 53n + 1n)).toBe(9007199254740993n);
    expect(checkJson(-(2n ** 63n))).toBe(-(2 ** 63));
    expect(checkJson(-(2n ** 63n) + 1n)).toBe(-9223372036854775807n);
    expect(checkJson(2n ** 64n - 1n)).toBe(18446744073709551615n);
    expect(checkJson(2n ** 63n)).toBe(2 ** 63);
  });

  it("refuses bigints beyond 64 bits, at either end", () => {
    for (const [value, text] of [
      [-(2n ** 63n) - 1n, "-9223372036854775809n"],
      [2n ** 64n, "18446744073709551616n"],
    ] as const) {
      const problem = jsonProblem(() => checkJson({ a: [value] }));
      expect(problem.message).toBe(`${text} is beyond 64 bits, where MySQL 8 keeps JSON integers exact (use a string)`);
      expect(problem.path).toBe("$.a[0]");
    }
  });

  it("keeps strings, booleans, null, arrays and plain objects; drops undefined properties", () => {
    expect(checkJson({ s: "", t: true, f: false, n: null, l: [1, "x"], o: {}, u: undefined })).toEqual({
      s: "",
      t: true,
      f: false,
      n: null,
      l: [1, "x"],
      o: {},
    });
    const bare = Object.create(null) as Record<string, unknown>;
    bare.a = 1;
    expect(checkJson(bare)).toEqual({ a: 1 });
    const value = checkJson(JSON.parse('{"__proto__": 5}')) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  const problems: Array<[string, unknown, string, string]> = [
    ["Infinity", Number.POSITIVE_INFINITY, "Infinity is not a JSON number", "$"],
    ["NaN in an array", [Number.NaN], "NaN is not a JSON number", "$[0]"],
    ["undefined in an array", [1, undefined], "a undefined is not JSON", "$[1]"],
    ["undefined", undefined, "a undefined is not JSON", "$"],
    ["a symbol", { a: { b: Symbol("s") } }, "a symbol is not JSON", "$.a.b"],
    ["a function", [{ f: () => 1 }], "a function is not JSON", "$[0].f"],
    ["a Date", { at: new Date(0) }, "is not a plain object", "$.at"],
    ["a Map", new Map(), "is not a plain object", "$"],
    ["a Uint8Array", { b: new Uint8Array(1) }, "is not a plain object", "$.b"],
  ];
  it.each(problems)("refuses %s", (_name, value, message, path) => {
    const problem = jsonProblem(() => checkJson(value));
    expect(problem.message).toBe(message);
    expect(problem.path).toBe(path);
  });
});

describe("writeJson: JSON text, canonical when sorted", () => {
  it("writes every kind of value", () => {
    expect(writeJson(null)).toBe("null");
    expect(writeJson(true)).toBe("true");
    expect(writeJson(false)).toBe("false");
    expect(writeJson('a"b\n')).toBe('"a\\"b\\n"');
    expect(writeJson(1.5)).toBe("1.5");
    expect(writeJson(0)).toBe("0");
    expect(writeJson(12345678901234567890n)).toBe("12345678901234567890");
    expect(writeJson([])).toBe("[]");
    expect(writeJson({})).toBe("{}");
    expect(writeJson({ a: 0, b: "", c: false, d: null, e: [0] })).toBe('{"a":0,"b":"","c":false,"d":null,"e":[0]}');
  });

  it("keeps key order unless sorted, and sorts nested objects too", () => {
    const value: JsonValue = { b: 1, a: { d: [{ z: 1, y: 2 }], c: 2 } };
    expect(writeJson(value)).toBe('{"b":1,"a":{"d":[{"z":1,"y":2}],"c":2}}');
    expect(writeJson(value, true)).toBe('{"a":{"c":2,"d":[{"y":2,"z":1}]},"b":1}');
  });
});

describe("JSON in DynamoDB: M, L, S, N, BOOL, NULL", () => {
  it("writes each kind", () => {
    expect(
      jsonToAttribute({
        s: "x",
        n: 1.5,
        e: 1e21,
        big: 12345678901234567890n,
        t: true,
        f: false,
        z: null,
        l: [1, [null]],
        o: { p: {} },
      }),
    ).toEqual({
      M: {
        s: { S: "x" },
        n: { N: "1.5" },
        e: { N: "1000000000000000000000" },
        big: { N: "12345678901234567890" },
        t: { BOOL: true },
        f: { BOOL: false },
        z: { NULL: true },
        l: { L: [{ N: "1" }, { L: [{ NULL: true }] }] },
        o: { M: { p: { M: {} } } },
      },
    });
    expect(jsonToAttribute("")).toEqual({ S: "" });
    expect(jsonToAttribute(null)).toEqual({ NULL: true });
  });

  it("refuses numbers DynamoDB cannot hold, naming the path", () => {
    const problem = jsonProblem(() => jsonToAttribute({ a: [1, { b: 1e200 }] }));
    expect(problem.message).toBe("1e+200 is beyond what a DynamoDB number holds (magnitudes 1e-130 to 9.99e125)");
    expect(problem.path).toBe("$.a[1].b");
  });

  it("reads each kind back", () => {
    const item: AttributeValue = {
      M: {
        s: { S: "" },
        n: { N: "1.5" },
        e: { N: "1E+2" },
        big: { N: "12345678901234567890" },
        t: { BOOL: true },
        f: { BOOL: false },
        z: { NULL: true },
        l: { L: [{ N: "1" }, { L: [] }] },
        o: { M: { ["__proto__"]: { N: "1" } } },
      },
    };
    const value = attributeToJson(item) as Record<string, JsonValue>;
    expect(value).toEqual({
      s: "",
      n: 1.5,
      e: 100,
      big: 12345678901234567890n,
      t: true,
      f: false,
      z: null,
      l: [1, []],
      o: { ["__proto__"]: 1 },
    });
    expect(Object.keys(value.o as object)).toEqual(["__proto__"]);
  });

  it("refuses attributes that are not JSON, naming the path", () => {
    const cases: Array<[AttributeValue, string, string]> = [
      [{ M: { a: { L: [{ SS: ["x"] }] } } }, "a DynamoDB SS value is not JSON", "$.a[0]"],
      [{ L: [{ B: new Uint8Array(1) }] }, "a DynamoDB B value is not JSON", "$[0]"],
      [{} as AttributeValue, "a DynamoDB empty value is not JSON", "$"],
      [{ SS: ["x"], NS: ["1"] } as unknown as AttributeValue, "a DynamoDB SS/NS value is not JSON", "$"],
      [{ M: { x: { N: "abc" } } }, "abc is not a JSON number", "$.x"],
    ];
    for (const [attribute, message, path] of cases) {
      const problem = jsonProblem(() => attributeToJson(attribute));
      expect(problem.message).toBe(message);
      expect(problem.path).toBe(path);
    }
  });
});
