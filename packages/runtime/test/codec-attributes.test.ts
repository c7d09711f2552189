import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { type Contract, loadValidContract } from "@ferry/contract";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AttributeCodec, createCodec, type EntityCodec } from "../src/codec/index.ts";
import { JsonProblem } from "../src/codec/json.ts";
import { EVERY_TYPE_CONTRACT } from "../src/testing/index.ts";
import { CODEC_EDGES_CONTRACT, codecError } from "./codec-fixtures.ts";

let edge: EntityCodec;
let sample: EntityCodec;

// Contracts are read once; codecs are compiled before each test, so that a test fails (rather than a whole file being
// skipped) when compiling breaks, and the compile counts toward each test's coverage in mutation runs.
let edges: Contract;
let everyType: Contract;

beforeAll(async () => {
  edges = await loadValidContract(CODEC_EDGES_CONTRACT);
  everyType = await loadValidContract(EVERY_TYPE_CONTRACT);
});

beforeEach(() => {
  edge = createCodec(edges).entity("Edge");
  sample = createCodec(everyType).entity("Sample");
});

/** The entity of fixtures/codec-edges.yaml or fixtures/every-type.yaml that has the attribute (or copy). */
const owner = (name: string): EntityCodec =>
  name in edge.definition.attributes || name in (edge.definition.denormalized ?? {}) ? edge : sample;
const of = (name: string): AttributeCodec => owner(name).attribute(name);

/** The message of the CodecError `action` throws, after checking that it names the attribute and the value. */
function refusal(attribute: string, action: () => unknown): string {
  const error = codecError(action);
  expect(error.attribute).toBe(attribute);
  return error.message;
}

describe("what every attribute knows about itself", () => {
  it("its column, nullability, whether it can be in a key and whether it folds case", () => {
    const facts = (name: string) => {
      const attribute = of(name);
      return [attribute.entity, attribute.column, attribute.type, attribute.nullable, attribute.keyable];
    };
    expect(facts("code")).toEqual(["Edge", "code", "string", false, true]);
    expect(facts("exact")).toEqual(["Edge", "exact", "string", true, true]);
    expect(facts("narrowBig")).toEqual(["Edge", "narrow_big", "bigint", true, true]);
    expect(facts("ownerName")).toEqual(["Edge", undefined, "string", true, true]);
    expect(facts("payload")).toEqual(["Sample", "payload", "json", true, false]);
    expect(facts("tags")).toEqual(["Sample", "tags", "set", false, false]);
    expect(facts("blob")).toEqual(["Sample", "blob", "binary", true, false]);
    expect(facts("location")).toEqual(["Sample", "location", "geometry", true, false]);
    expect(facts("score")).toEqual(["Sample", "score", "float", false, true]);
  });

  it("folds case for text and enum columns under a _ci collation only", () => {
    expect(of("code").caseInsensitive).toBe(true);
    expect(of("kind").caseInsensitive).toBe(true);
    expect(of("exact").caseInsensitive).toBe(false);
    expect(of("label").caseInsensitive).toBe(false);
    expect(of("colors").caseInsensitive).toBe(false);
    // A copy folds as its source column does.
    expect(of("ownerName").caseInsensitive).toBe(false);
  });
});

describe("NULL and missing values", () => {
  it("a nullable attribute is null in every form", () => {
    const tiny = of("tiny");
    for (const empty of [null, undefined]) {
      expect(tiny.check(empty)).toBeNull();
      expect(tiny.fromColumn(empty)).toBeNull();
      expect(tiny.toParameter(empty)).toBeNull();
      expect(tiny.toAttribute(empty)).toBeUndefined();
      expect(tiny.normalize(empty)).toBeNull();
    }
    expect(tiny.fromAttribute(undefined)).toBeNull();
    expect(tiny.fromAttribute({ NULL: true })).toBeNull();
  });

  it("a NOT NULL attribute refuses null, except from MySQL, which never sends it", () => {
    const code = of("code");
    const required = "Edge.code: is required (its column is NOT NULL) but has no value";
    for (const empty of [null, undefined]) {
      expect(refusal("code", () => code.check(empty))).toBe(required);
      expect(refusal("code", () => code.toParameter(empty))).toBe(required);
      expect(refusal("code", () => code.toAttribute(empty))).toBe(required);
      expect(code.fromColumn(empty)).toBeNull();
      expect(code.normalize(empty)).toBeNull();
    }
    const absent = "Edge.code: is required (its column is NOT NULL) but the item does not have it";
    expect(refusal("code", () => code.fromAttribute(undefined))).toBe(absent);
    expect(refusal("code", () => code.fromAttribute({ NULL: true }))).toBe(absent);
  });

  it("an absent NOT NULL set is the empty set; a NULL:false attribute is not NULL", () => {
    expect(of("tags").fromAttribute(undefined)).toEqual([]);
    expect(of("tags").fromAttribute({ NULL: true })).toEqual([]);
    expect(refusal("tiny", () => of("tiny").fromAttribute({ NULL: false }))).toBe(
      "Edge.tiny: expected a DynamoDB N attribute, not NULL, got an object",
    );
  });
});

describe("DynamoDB attributes of the wrong kind", () => {
  it.each<[string, object, string]>([
    ["tiny", { S: "1" }, "expected a DynamoDB N attribute, not S"],
    ["tiny", {}, "expected a DynamoDB N attribute, not an empty one"],
    ["tiny", { N: undefined, S: "1" }, "expected a DynamoDB N attribute, not S"],
    ["tiny", { N: null }, "expected a DynamoDB N attribute, not N"],
    ["tiny", { S: "1", BOOL: true }, "expected a DynamoDB N attribute, not S/BOOL"],
    ["code", { N: "1" }, "expected a DynamoDB S attribute, not N"],
    ["switch", { S: "true" }, "expected a DynamoDB BOOL attribute, not S"],
    ["colors", { L: [] }, "expected a DynamoDB SS attribute, not L"],
    ["blob", { S: "AA==" }, "expected a DynamoDB B attribute, not S"],
    ["at", { N: "0" }, "expected a DynamoDB S attribute, not N"],
    ["day", { N: "0" }, "expected a DynamoDB S attribute, not N"],
    ["time0", { N: "0" }, "expected a DynamoDB S attribute, not N"],
    ["kind", { N: "0" }, "expected a DynamoDB S attribute, not N"],
    ["whole", { S: "1" }, "expected a DynamoDB N attribute, not S"],
    ["double", { S: "1" }, "expected a DynamoDB N attribute, not S"],
    ["narrowBig", { S: "1" }, "expected a DynamoDB N attribute, not S"],
  ])("%s from %o: %s", (name, attribute, problem) => {
    const table = owner(name).name;
    expect(refusal(name, () => of(name).fromAttribute(attribute as AttributeValue))).toBe(
      `${table}.${name}: ${problem}, got an object`,
    );
  });
});

describe("integers: every width, signed and unsigned, both edges", () => {
  const ranges: Array<[string, number, number, string]> = [
    ["tiny", -128, 127, "tinyint"],
    ["utiny", 0, 255, "tinyint unsigned"],
    ["medium", -8388608, 8388607, "mediumint"],
    ["umedium", 0, 16777215, "mediumint unsigned"],
    ["seq", -2147483648, 2147483647, "int"],
    ["uint", 0, 4294967295, "int unsigned"],
    ["smallCount", 0, 65535, "smallint unsigned"],
    ["builtYear", 0, 2155, "year"],
    ["bit1", 0, 1, "bit"],
    ["bareBit", 0, 1, "bit"],
    ["mask", 0, 1023, "bit"],
    ["bit53", 0, 9007199254740991, "bit"],
  ];
  it.each(ranges)("%s holds %d to %d (%s)", (name, min, max, type) => {
    const attribute = of(name);
    expect(attribute.check(min)).toBe(min);
    expect(attribute.check(max)).toBe(max);
    const table = owner(name).name;
    const message = (value: number) =>
      `${table}.${name}: expected an integer from ${min} to ${max} (${type}), got ${value} (number)`;
    expect(refusal(name, () => attribute.check(min - 1))).toBe(message(min - 1));
    expect(refusal(name, () => attribute.check(max + 1))).toBe(message(max + 1));
    expect(refusal(name, () => attribute.fromAttribute({ N: String(min - 1) }))).toBe(message(min - 1));
    expect(refusal(name, () => attribute.fromColumn(String(max + 1)))).toBe(message(max + 1));
  });

  it("refuses fractions and non-numbers, and writes -0 as 0", () => {
    const tiny = of("tiny");
    expect(refusal("tiny", () => tiny.check(1.5))).toBe(
      "Edge.tiny: expected an integer from -128 to 127 (tinyint), got 1.5 (number)",
    );
    expect(refusal("tiny", () => tiny.check("1"))).toBe('Edge.tiny: expected an integer number, got "1" (string)');
    expect(refusal("tiny", () => tiny.check(1n))).toBe("Edge.tiny: expected an integer number, got 1n (bigint)");
    expect(tiny.check(-0)).toBe(0);
    expect(tiny.toAttribute(-0)).toEqual({ N: "0" });
  });

  it("reads MySQL's numbers, integer text and BIT bytes", () => {
    expect(of("tiny").fromColumn(-7)).toBe(-7);
    expect(of("tiny").fromColumn("-7")).toBe(-7);
    expect(of("tiny").fromColumn("+7")).toBe(7);
    expect(of("uint").fromColumn("4294967295")).toBe(4294967295);
    expect(of("bit1").fromColumn(Buffer.from([1]))).toBe(1);
    expect(of("bit53").fromColumn(Buffer.from([0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]))).toBe(9007199254740990);
    expect(of("mask").fromColumn(new Uint8Array([0x03, 0x00]))).toBe(768);
    for (const [value, shown] of [
      ["1.5", '"1.5" (string)'],
      ["", '"" (string)'],
      ["7x", '"7x" (string)'],
      ["x7", '"x7" (string)'],
      [" 7", '" 7" (string)'],
      [true, "true (boolean)"],
      [7n, "7n (bigint)"],
    ] as const) {
      expect(refusal("tiny", () => of("tiny").fromColumn(value))).toBe(
        `Edge.tiny: expected an integer from MySQL, got ${shown}`,
      );
    }
  });

  it("writes MySQL parameters: numbers, and BIT columns as big-endian bytes", () => {
    expect(of("tiny").toParameter(-128)).toBe(-128);
    expect(of("bit1").toParameter(1)).toEqual(Buffer.from([1]));
    expect(of("bareBit").toParameter(1)).toEqual(Buffer.from([1]));
    expect(of("mask").toParameter(1023)).toEqual(Buffer.from([0x03, 0xff]));
    expect(of("bit53").toParameter(9007199254740991)).toEqual(Buffer.from([0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(of("bit53").toParameter(258)).toEqual(Buffer.from([0, 0, 0, 0, 0, 1, 2]));
    expect(Buffer.isBuffer(of("bit53").toParameter(0))).toBe(true);
  });

  it("reads DynamoDB numbers, refusing what is not a safe integer", () => {
    expect(of("uint").fromAttribute({ N: "4294967295" })).toBe(4294967295);
    expect(of("tiny").fromAttribute({ N: "-128" })).toBe(-128);
    expect(of("tiny").fromAttribute({ N: "1E+2" })).toBe(100);
    expect(refusal("tiny", () => of("tiny").fromAttribute({ N: "1.5" }))).toBe(
      'Edge.tiny: expected an integer in DynamoDB, got "1.5" (string)',
    );
    expect(refusal("bit53", () => of("bit53").fromAttribute({ N: "9007199254740993" }))).toBe(
      'Edge.bit53: expected an integer in DynamoDB, got "9007199254740993" (string)',
    );
  });

  it("compares and keys by the number", () => {
    expect(of("medium").toAttribute(-8388608)).toEqual({ N: "-8388608" });
    expect(of("medium").normalize(-8388608)).toBe("-8388608");
    expect(of("medium").keyText(-8388608)).toBe("-99999999999991611392");
    expect(of("uint").keyText(4294967295)).toBe("00000000004294967295");
  });
});

describe("bigints on every column width", () => {
  const ranges: Array<[string, bigint, bigint, string]> = [
    ["narrowBig", -2147483648n, 2147483647n, "int"],
    ["unsignedNarrowBig", 0n, 65535n, "smallint unsigned"],
    ["signedBig", -9223372036854775808n, 9223372036854775807n, "bigint"],
    ["unsignedBig", 0n, 18446744073709551615n, "bigint unsigned"],
    ["bits", 0n, 18446744073709551615n, "bit"],
  ];
  it.each(ranges)("%s holds %s to %s (%s)", (name, min, max, type) => {
    const attribute = of(name);
    expect(attribute.check(min)).toBe(min);
    expect(attribute.check(max)).toBe(max);
    expect(attribute.check(String(max))).toBe(max);
    expect(attribute.fromAttribute({ N: String(min) })).toBe(min);
    const table = owner(name).name;
    const message = (got: string) => `${table}.${name}: is out of range for ${type} (${min} to ${max}), got ${got}`;
    expect(refusal(name, () => attribute.check(min - 1n))).toBe(message(`${min - 1n}n (bigint)`));
    expect(refusal(name, () => attribute.check(max + 1n))).toBe(message(`${max + 1n}n (bigint)`));
    expect(refusal(name, () => attribute.check(String(max + 1n)))).toBe(message(`"${max + 1n}" (string)`));
    expect(refusal(name, () => attribute.fromAttribute({ N: String(max + 1n) }))).toBe(
      message(`"${max + 1n}" (string)`),
    );
  });

  it("takes bigints, integer strings and safe integer numbers", () => {
    const narrow = of("narrowBig");
    expect(narrow.check(-5)).toBe(-5n);
    expect(narrow.check("+5")).toBe(5n);
    expect(narrow.check("-5")).toBe(-5n);
    expect(of("signedBig").check(Number.MAX_SAFE_INTEGER)).toBe(9007199254740991n);
    expect(of("signedBig").check(Number.MIN_SAFE_INTEGER)).toBe(-9007199254740991n);
    expect(refusal("signedBig", () => of("signedBig").check(2 ** 53))).toBe(
      "Sample.signedBig: is not a safe integer: pass a bigint or a string for values beyond 2^53, got 9007199254740992 (number)",
    );
    for (const [value, shown] of [
      ["1.5", '"1.5" (string)'],
      ["", '"" (string)'],
      ["12x", '"12x" (string)'],
      [true, "true (boolean)"],
      [{ n: 1 }, "an object"],
    ] as const) {
      expect(refusal("narrowBig", () => narrow.check(value))).toBe(
        `Edge.narrowBig: expected a bigint (or an integer string, or a safe integer number), got ${shown}`,
      );
    }
  });

  it("reads MySQL's text and BIT bytes, and writes text and BIT bytes", () => {
    expect(of("unsignedBig").fromColumn("18446744073709551615")).toBe(18446744073709551615n);
    expect(of("bits").fromColumn(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(
      18446744073709551615n,
    );
    expect(of("bits").fromColumn(Buffer.from([1, 2]))).toBe(258n);
    expect(of("narrowBig").fromColumn(Buffer.from([0x7f, 0xff, 0xff, 0xff]))).toBe(2147483647n);
    expect(refusal("narrowBig", () => of("narrowBig").fromColumn(Buffer.from([0x80, 0, 0, 0])))).toBe(
      "Edge.narrowBig: is out of range for int (-2147483648 to 2147483647), got Buffer(4 bytes)",
    );
    expect(of("signedBig").toParameter(-9223372036854775808n)).toBe("-9223372036854775808");
    expect(of("bits").toParameter(18446744073709551615n)).toEqual(Buffer.alloc(8, 0xff));
    expect(of("bits").toParameter(258n)).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 1, 2]));
  });

  it("reads any exact spelling of an integer from DynamoDB", () => {
    const big = of("signedBig");
    expect(big.fromAttribute({ N: "1E+2" })).toBe(100n);
    expect(big.fromAttribute({ N: "-1E+2" })).toBe(-100n);
    expect(big.fromAttribute({ N: "1.0" })).toBe(1n);
    expect(big.fromAttribute({ N: "0.0" })).toBe(0n);
    expect(big.fromAttribute({ N: "-0E+0" })).toBe(0n);
    expect(big.fromAttribute({ N: "+7" })).toBe(7n);
    expect(big.fromAttribute({ N: "9.223372036854775807E+18" })).toBe(9223372036854775807n);
    expect(refusal("signedBig", () => big.fromAttribute({ N: "1.5" }))).toBe(
      'Sample.signedBig: expected an integer in DynamoDB, got "1.5" (string)',
    );
    expect(refusal("signedBig", () => big.fromAttribute({ N: "abc" }))).toBe(
      'Sample.signedBig: expected an integer in DynamoDB, got "abc" (string)',
    );
    expect(refusal("signedBig", () => big.fromAttribute({ N: "1E+19" }))).toBe(
      'Sample.signedBig: is out of range for bigint (-9223372036854775808 to 9223372036854775807), got "1E+19" (string)',
    );
  });

  it("compares and keys by the number", () => {
    expect(of("narrowBig").toAttribute(-5n)).toEqual({ N: "-5" });
    expect(of("narrowBig").normalize("-5")).toBe("-5");
    expect(of("narrowBig").keyText(-5)).toBe("-99999999999999999995");
  });
});

describe("decimals: exact text at the column's scale", () => {
  it("a bare DECIMAL is DECIMAL(10,0)", () => {
    const whole = of("whole");
    expect(whole.check("-12")).toBe("-12");
    expect(whole.check("1.2e1")).toBe("12");
    expect(whole.check("12.000")).toBe("12");
    expect(whole.check(12)).toBe("12");
    expect(whole.check(-12n)).toBe("-12");
    expect(whole.check("9999999999")).toBe("9999999999");
    expect(refusal("whole", () => whole.check("10000000000"))).toBe(
      'Edge.whole: is out of range for decimal(10,0), got "10000000000" (string)',
    );
    for (const text of ["1.25e1", "125e-1", "12.5"]) {
      expect(refusal("whole", () => whole.check(text))).toBe(
        `Edge.whole: has more than 0 fraction digits (decimal(10,0)), got "${text}" (string)`,
      );
    }
  });

  it("refuses empty and malformed text, showing an example at the column's scale", () => {
    for (const text of ["", ".", "-", "+", "1e", "12,5", " 12"]) {
      expect(refusal("whole", () => of("whole").check(text))).toBe(
        `Edge.whole: expected a decimal string like "12", got ${JSON.stringify(text)} (string)`,
      );
    }
    expect(refusal("tenth", () => of("tenth").check(true))).toBe(
      'Edge.tenth: expected a decimal string like "12.5", got true (boolean)',
    );
    // Not even an object that prints as a decimal.
    expect(refusal("tenth", () => of("tenth").check({ toString: () => "12" }))).toBe(
      'Edge.tenth: expected a decimal string like "12.5", got an object',
    );
    expect(refusal("amount", () => of("amount").check("abc"))).toBe(
      'Sample.amount: expected a decimal string like "12.500000", got "abc" (string)',
    );
    expect(refusal("tenth", () => of("tenth").check(Number.NaN))).toBe(
      "Edge.tenth: is not a finite number, got NaN (number)",
    );
    expect(refusal("tenth", () => of("tenth").check(Number.NEGATIVE_INFINITY))).toBe(
      "Edge.tenth: is not a finite number, got -Infinity (number)",
    );
  });

  it("DECIMAL(5,1): one fraction digit, four integer digits", () => {
    const tenth = of("tenth");
    expect(tenth.check("9999.9")).toBe("9999.9");
    expect(tenth.check("-9999.9")).toBe("-9999.9");
    expect(tenth.check("1.25e1")).toBe("12.5");
    expect(tenth.check("125e-1")).toBe("12.5");
    expect(tenth.check("-12")).toBe("-12.0");
    expect(tenth.check("-0.0")).toBe("0.0");
    expect(refusal("tenth", () => tenth.check("-0.05"))).toBe(
      'Edge.tenth: has more than 1 fraction digit (decimal(5,1)), got "-0.05" (string)',
    );
    expect(refusal("tenth", () => tenth.check(10000))).toBe(
      "Edge.tenth: is out of range for decimal(5,1), got 10000 (number)",
    );
  });

  it("MySQL and DynamoDB forms, the comparison text and the key text", () => {
    const tenth = of("tenth");
    expect(tenth.fromColumn("12.5")).toBe("12.5");
    expect(tenth.toParameter("-12")).toBe("-12.0");
    expect(tenth.toAttribute("12")).toEqual({ N: "12.0" });
    expect(of("whole").toAttribute("-12")).toEqual({ N: "-12" });
    expect(tenth.fromAttribute({ N: "12" })).toBe("12.0");
    expect(tenth.fromAttribute({ N: "1.25E+1" })).toBe("12.5");
    expect(refusal("tenth", () => tenth.fromAttribute({ N: "12.55" }))).toBe(
      'Edge.tenth: has more than 1 fraction digit (decimal(5,1)), got "12.55" (string)',
    );
    expect(tenth.normalize("12")).toBe("12.0");
    expect(tenth.normalize(-0.5)).toBe("-0.5");
    expect(tenth.keyText("-0.5")).toBe("-9999.5");
    expect(tenth.keyText("12")).toBe("0012.0");
  });

  it("key texts sort as the numbers do, negatives first", () => {
    const tenth = of("tenth");
    const values = ["-9999.9", "-12.5", "-12.0", "-0.5", "0", "0.1", "9.9", "12.0", "100.0", "9999.9"];
    const texts = values.map((value) => tenth.keyText(value));
    expect([...texts].sort()).toEqual(texts);
    expect(new Set(texts).size).toBe(values.length);
  });
});

describe("FLOAT and DOUBLE", () => {
  it("take finite numbers only", () => {
    for (const name of ["single", "double"]) {
      expect(of(name).check(-2.5)).toBe(-2.5);
      for (const [value, shown] of [
        ["1", '"1" (string)'],
        [Number.NaN, "NaN (number)"],
        [Number.POSITIVE_INFINITY, "Infinity (number)"],
        [1n, "1n (bigint)"],
      ] as const) {
        expect(refusal(name, () => of(name).check(value))).toBe(`Edge.${name}: expected a finite number, got ${shown}`);
      }
    }
  });

  it("read MySQL's numbers and number text", () => {
    const double = of("double");
    expect(double.fromColumn(1.5)).toBe(1.5);
    expect(double.fromColumn("1.5")).toBe(1.5);
    expect(double.fromColumn(" -2.5e-7 ")).toBe(-2.5e-7);
    expect(double.fromColumn("1e308")).toBe(1e308);
    expect(refusal("double", () => double.fromColumn(""))).toBe(
      'Edge.double: expected a finite number, got "" (string)',
    );
    expect(refusal("double", () => double.fromColumn("  "))).toBe(
      'Edge.double: expected a finite number, got "  " (string)',
    );
    expect(refusal("double", () => double.fromColumn("abc"))).toBe(
      "Edge.double: expected a finite number, got NaN (number)",
    );
    expect(double.toParameter(-0.1)).toBe(-0.1);
  });

  it("write DynamoDB numbers as plain digits, up to DynamoDB's range edges", () => {
    const double = of("double");
    expect(double.toAttribute(1.5)).toEqual({ N: "1.5" });
    expect(double.toAttribute(-1e21)).toEqual({ N: "-1000000000000000000000" });
    expect(double.toAttribute(1.5e-7)).toEqual({ N: "0.00000015" });
    expect(double.toAttribute(1e-130)).toEqual({ N: `0.${"0".repeat(129)}1` });
    expect(double.toAttribute(-9.999999999999998e125)).toEqual({ N: `-9999999999999998${"0".repeat(110)}` });
    expect(double.toAttribute(0)).toEqual({ N: "0" });
    for (const [value, shown] of [
      [1e126, "1e+126"],
      [-1e126, "-1e+126"],
      [9.999999999999999e-131, "9.999999999999999e-131"],
      [-5e-324, "-5e-324"],
    ] as const) {
      expect(refusal("double", () => double.toAttribute(value))).toBe(
        `Edge.double: is beyond what a DynamoDB number holds (magnitudes 1e-130 to 9.99e125), got ${shown} (number)`,
      );
    }
    expect(double.toParameter(1e126)).toBe(1e126);
  });

  it("read DynamoDB numbers", () => {
    expect(of("double").fromAttribute({ N: "1e-130" })).toBe(1e-130);
    expect(of("single").fromAttribute({ N: "-2.5" })).toBe(-2.5);
    expect(refusal("double", () => of("double").fromAttribute({ N: "abc" }))).toBe(
      "Edge.double: expected a finite number, got NaN (number)",
    );
  });

  it("compare FLOAT (up to 24 bits of precision) at 6 significant digits, DOUBLE exactly", () => {
    const cases: Array<[string, number, string]> = [
      ["single", 1.23456789, "1.23457"],
      ["ratio", 1.23456789, "1.23457"],
      ["single", 0.1 + 0.2, "0.3"],
      ["single", -2.5, "-2.5"],
      ["single", 16777217, "16777200"],
      ["single", 1e-7, "1e-7"],
      ["precise", 1.23456789, "1.23456789"],
      ["double", 1.23456789, "1.23456789"],
      ["double", 0.1 + 0.2, "0.30000000000000004"],
      ["double", -2.5, "-2.5"],
      ["double", 1e21, "1e+21"],
      ["score", 16777217, "16777217"],
    ];
    for (const [name, value, text] of cases) expect([name, of(name).normalize(value)]).toEqual([name, text]);
    expect(of("single").same(1.2345671, 1.2345674)).toBe(true);
    expect(of("double").same(1.2345671, 1.2345674)).toBe(false);
  });

  it("key by their plain digits", () => {
    expect(of("double").keyText(1e21)).toBe("1000000000000000000000");
    expect(of("double").keyText(-1.5)).toBe("-1.5");
  });
});

describe("booleans", () => {
  it("are true or false, from MySQL's 0 and 1 in every form", () => {
    const flag = of("switch");
    expect(flag.check(true)).toBe(true);
    expect(flag.check(false)).toBe(false);
    const reads: Array<[unknown, boolean]> = [
      [0, false],
      [1, true],
      ["0", false],
      ["1", true],
      [Buffer.from([0]), false],
      [Buffer.from([1]), true],
      [true, true],
      [false, false],
    ];
    for (const [value, read] of reads) expect([value, flag.fromColumn(value)]).toEqual([value, read]);
    const refusals: Array<[unknown, string]> = [
      [2, "is neither 0 nor 1 in a boolean column, got 2 (number)"],
      [-1, "is neither 0 nor 1 in a boolean column, got -1 (number)"],
      ["2", 'is neither 0 nor 1 in a boolean column, got "2" (string)'],
      [Buffer.from([0, 1, 0]), "is neither 0 nor 1 in a boolean column, got Buffer(3 bytes)"],
      ["true", 'expected 0 or 1 from MySQL, got "true" (string)'],
      ["", 'expected 0 or 1 from MySQL, got "" (string)'],
      [{}, "expected 0 or 1 from MySQL, got an object"],
      [{ toString: () => "1" }, "expected 0 or 1 from MySQL, got an object"],
    ];
    for (const [value, problem] of refusals) {
      expect(refusal("switch", () => flag.fromColumn(value))).toBe(`Edge.switch: ${problem}`);
    }
  });

  it("are 1 and 0 in MySQL, BOOL in DynamoDB, and their names in keys", () => {
    const flag = of("switch");
    expect(flag.toParameter(true)).toBe(1);
    expect(flag.toParameter(false)).toBe(0);
    expect(flag.toAttribute(false)).toEqual({ BOOL: false });
    expect(flag.fromAttribute({ BOOL: false })).toBe(false);
    expect(flag.fromAttribute({ BOOL: true })).toBe(true);
    expect(flag.normalize(false)).toBe("false");
    expect(flag.keyText(true)).toBe("true");
  });
});

describe("datetimes", () => {
  it("take canonical text, other ISO spellings and Dates, at the column's fraction digits", () => {
    const at = of("at");
    expect(at.check("2026-01-02T03:04:05Z")).toBe("2026-01-02T03:04:05Z");
    expect(at.check("2026-01-31T03:04:05Z")).toBe("2026-01-31T03:04:05Z");
    expect(at.check("2026-01-02T03:04:05.000Z")).toBe("2026-01-02T03:04:05Z");
    expect(at.check("2026-01-02T04:04:05+01:00")).toBe("2026-01-02T03:04:05Z");
    expect(at.check(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe("2026-01-02T03:04:05Z");
    expect(of("at1").check("2026-01-02T03:04:05Z")).toBe("2026-01-02T03:04:05.0Z");
    expect(of("at1").check(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 500)))).toBe("2026-01-02T03:04:05.5Z");
    expect(of("preciseAt").check("2026-01-02T03:04:05.123Z")).toBe("2026-01-02T03:04:05.123000Z");
  });

  it("refuse what is not a timestamp of the column", () => {
    expect(refusal("at", () => of("at").check(5))).toBe(
      "Edge.at: expected an ISO-8601 UTC timestamp like 2026-01-02T03:04:05Z, got 5 (number)",
    );
    expect(refusal("at1", () => of("at1").check(5))).toBe(
      "Edge.at1: expected an ISO-8601 UTC timestamp like 2026-01-02T03:04:05.1Z, got 5 (number)",
    );
    expect(refusal("at1", () => of("at1").check("2026-01-02"))).toBe(
      'Edge.at1: is not an ISO-8601 timestamp like 2026-01-02T03:04:05.1Z, got "2026-01-02" (string)',
    );
    expect(refusal("at", () => of("at").check(new Date(Number.NaN)))).toBe(
      "Edge.at: is an invalid Date, got Date(invalid)",
    );
    expect(refusal("at", () => of("at").check("2026-02-29T00:00:00Z"))).toBe(
      'Edge.at: is not a calendar date, got "2026-02-29T00:00:00Z" (string)',
    );
    expect(refusal("at", () => of("at").check(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 1))))).toBe(
      "Edge.at: has fractional seconds, and the column keeps whole seconds, got Date(2026-01-02T03:04:05.001Z)",
    );
  });

  it("MySQL's text both ways, DynamoDB's S both ways", () => {
    const at = of("at");
    expect(at.fromColumn("2026-01-02 03:04:05")).toBe("2026-01-02T03:04:05Z");
    expect(of("at1").fromColumn("2026-01-02 03:04:05.5")).toBe("2026-01-02T03:04:05.5Z");
    expect(at.fromColumn(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe("2026-01-02T03:04:05Z");
    expect(refusal("at", () => at.fromColumn("2026-01-02T03:04:05Z"))).toBe(
      'Edge.at: is not a MySQL DATETIME, got "2026-01-02T03:04:05Z" (string)',
    );
    expect(at.toParameter("2026-01-02T04:04:05+01:00")).toBe("2026-01-02 03:04:05");
    expect(of("at1").toParameter("2026-01-02T03:04:05.5Z")).toBe("2026-01-02 03:04:05.5");
    expect(at.toAttribute("2026-01-02T03:04:05.000Z")).toEqual({ S: "2026-01-02T03:04:05Z" });
    expect(at.fromAttribute({ S: "2026-01-02T04:04:05+01:00" })).toBe("2026-01-02T03:04:05Z");
    expect(at.normalize("2026-01-02T04:04:05+01:00")).toBe("2026-01-02T03:04:05Z");
    expect(at.keyText("2026-01-02T04:04:05+01:00")).toBe("2026-01-02T03:04:05Z");
  });
});

describe("dates", () => {
  it("take 'YYYY-MM-DD' on the calendar, and Dates at midnight UTC", () => {
    const day = of("day");
    expect(day.check("2024-02-29")).toBe("2024-02-29");
    expect(day.check(new Date("2026-01-02T00:00:00.000Z"))).toBe("2026-01-02");
    const refusals: Array<[unknown, string]> = [
      ["2026-02-29", 'is not a calendar date, got "2026-02-29" (string)'],
      ["2026-04-31", 'is not a calendar date, got "2026-04-31" (string)'],
      ["2026-13-01", 'is not a calendar date, got "2026-13-01" (string)'],
      ["2026-01-00", 'is not a calendar date, got "2026-01-00" (string)'],
      ["2026-01-02x", 'is not a date like 2026-01-02, got "2026-01-02x" (string)'],
      ["2026-01-02T00:00:00Z", 'is not a date like 2026-01-02, got "2026-01-02T00:00:00Z" (string)'],
      [
        new Date("2026-01-02T00:00:00.001Z"),
        "is a Date that is not midnight UTC; pass 'YYYY-MM-DD', got Date(2026-01-02T00:00:00.001Z)",
      ],
      [
        new Date("2026-01-02T12:00:00.000Z"),
        "is a Date that is not midnight UTC; pass 'YYYY-MM-DD', got Date(2026-01-02T12:00:00.000Z)",
      ],
      [new Date(Number.NaN), "expected a date string like 2026-01-02, got Date(invalid)"],
      [20260102, "expected a date string like 2026-01-02, got 20260102 (number)"],
    ];
    for (const [value, problem] of refusals)
      expect(refusal("day", () => day.check(value))).toBe(`Edge.day: ${problem}`);
  });

  it("are the same text in every form", () => {
    const day = of("day");
    expect(day.fromColumn("2026-01-02")).toBe("2026-01-02");
    expect(refusal("day", () => day.fromColumn("0000-00-00"))).toBe(
      'Edge.day: is not a calendar date, got "0000-00-00" (string)',
    );
    expect(day.toParameter(new Date("2026-01-02T00:00:00Z"))).toBe("2026-01-02");
    expect(day.toAttribute("2026-01-02")).toEqual({ S: "2026-01-02" });
    expect(day.fromAttribute({ S: "2026-01-02" })).toBe("2026-01-02");
    expect(refusal("day", () => day.fromAttribute({ S: "2026-02-30" }))).toBe(
      'Edge.day: is not a calendar date, got "2026-02-30" (string)',
    );
    expect(day.normalize(new Date("2026-01-02T00:00:00Z"))).toBe("2026-01-02");
    expect(day.keyText("2026-01-02")).toBe("2026-01-02");
  });
});

describe("times", () => {
  it("take MySQL TIME text at the column's fraction digits", () => {
    expect(of("time0").check("-838:59:59")).toBe("-838:59:59");
    expect(of("time6").check("12:00:00.5")).toBe("12:00:00.500000");
    expect(of("time0").fromColumn("-01:02:03")).toBe("-01:02:03");
    expect(of("time6").toParameter("01:02:03")).toBe("01:02:03.000000");
    expect(of("time6").toAttribute("-00:00:00")).toEqual({ S: "00:00:00.000000" });
    expect(of("time6").fromAttribute({ S: "01:02:03.25" })).toBe("01:02:03.250000");
    expect(of("time6").normalize("01:02:03")).toBe("01:02:03.000000");
    expect(of("time0").keyText("-01:02:03")).toBe("-01:02:03");
    expect(refusal("time0", () => of("time0").check(5))).toBe(
      "Edge.time0: expected a time string like 03:04:05, got 5 (number)",
    );
    expect(refusal("time0", () => of("time0").check("12:00:00.5"))).toBe(
      'Edge.time0: has fractional seconds, and the column keeps whole seconds, got "12:00:00.5" (string)',
    );
    expect(refusal("time6", () => of("time6").fromAttribute({ S: "839:00:00" }))).toBe(
      'Edge.time6: is out of range for TIME, got "839:00:00" (string)',
    );
  });
});

describe("enums", () => {
  it("take their members as declared, and fold them in keys under a _ci collation", () => {
    const kind = of("kind");
    expect(kind.check("Alpha")).toBe("Alpha");
    expect(kind.fromColumn("beta")).toBe("beta");
    expect(kind.toParameter("beta")).toBe("beta");
    expect(kind.toAttribute("Alpha")).toEqual({ S: "Alpha" });
    expect(kind.fromAttribute({ S: "Alpha" })).toBe("Alpha");
    expect(kind.normalize("Alpha")).toBe("Alpha");
    expect(kind.keyText("Alpha")).toBe("alpha");
    expect(of("status").keyText("live")).toBe("live");
    for (const [value, shown] of [
      ["alpha", '"alpha" (string)'],
      ["", '"" (string)'],
      [0, "0 (number)"],
    ] as const) {
      expect(refusal("kind", () => kind.check(value))).toBe(`Edge.kind: expected one of 'Alpha', 'beta', got ${shown}`);
    }
    expect(refusal("kind", () => kind.fromAttribute({ S: "gamma" }))).toBe(
      "Edge.kind: expected one of 'Alpha', 'beta', got \"gamma\" (string)",
    );
  });
});

describe("sets", () => {
  it("keep their members in declared order", () => {
    expect(of("tags").check(["blue", "green", "red"])).toEqual(["red", "green", "blue"]);
    expect(of("tags").check(["blue", "red"])).toEqual(["red", "blue"]);
    expect(of("tags").check(["green", "red"])).toEqual(["red", "green"]);
    expect(of("tags").check([])).toEqual([]);
  });

  it("refuse members that are not declared, twice-named members and non-arrays", () => {
    const tags = of("tags");
    const members = "'red', 'green', 'blue'";
    const refusals: Array<[unknown, string]> = [
      [["Red"], `has a member "Red" that is not one of ${members}, got an array of 1`],
      [[5], `has a member 5 that is not one of ${members}, got an array of 1`],
      [[null], `has a member null that is not one of ${members}, got an array of 1`],
      [[undefined], `has a member undefined that is not one of ${members}, got an array of 1`],
      [["red", "blue", "red"], "has 'red' twice, got an array of 3"],
      ["red", `expected an array of ${members}, got "red" (string)`],
    ];
    for (const [value, problem] of refusals) {
      expect(refusal("tags", () => tags.check(value))).toBe(`Sample.tags: ${problem}`);
    }
  });

  it("are 'a,b' in MySQL and SS in DynamoDB, where the empty set is absent", () => {
    const tags = of("tags");
    expect(tags.fromColumn("blue,red")).toEqual(["red", "blue"]);
    expect(tags.fromColumn("")).toEqual([]);
    expect(tags.fromColumn(["blue"])).toEqual(["blue"]);
    expect(refusal("tags", () => tags.fromColumn("red,red"))).toBe(
      `Sample.tags: has 'red' twice, got "red,red" (string)`,
    );
    expect(refusal("tags", () => tags.fromColumn(5))).toBe(
      "Sample.tags: expected an array of 'red', 'green', 'blue', got 5 (number)",
    );
    expect(tags.toParameter(["blue", "red"])).toBe("red,blue");
    expect(tags.toParameter([])).toBe("");
    expect(tags.toAttribute([])).toBeUndefined();
    expect(tags.toAttribute(["blue", "red"])).toEqual({ SS: ["red", "blue"] });
    expect(tags.fromAttribute({ SS: ["blue", "red"] })).toEqual(["red", "blue"]);
    expect(refusal("tags", () => tags.fromAttribute({ SS: ["pink"] }))).toBe(
      "Sample.tags: has a member \"pink\" that is not one of 'red', 'green', 'blue', got an array of 1",
    );
  });

  it("compare as their members joined; the empty nullable set as NULL", () => {
    expect(of("tags").normalize(["blue", "red"])).toBe("red,blue");
    expect(of("tags").normalize([])).toBe("");
    expect(of("extras").normalize([])).toBeNull();
    expect(of("extras").normalize(["y", "x"])).toBe("x,y");
    expect(of("extras").same([], null)).toBe(true);
    expect(of("tags").same([], null)).toBe(false);
  });
});

describe("JSON values", () => {
  it("name the path of what is not JSON, and let other errors through", () => {
    const payload = of("payload");
    const error = codecError(() => payload.check({ a: [1, Number.NaN] }));
    expect(error.message).toBe("Sample.payload: is not JSON: $.a[1] NaN is not a JSON number, got an object");
    expect(error.cause).toBeInstanceOf(JsonProblem);
    const throwing = {
      get a(): number {
        throw new TypeError("boom");
      },
    };
    expect(() => payload.check(throwing)).toThrow(new TypeError("boom"));
  });

  it("read MySQL's text, bytes or parsed values", () => {
    const payload = of("payload");
    expect(payload.fromColumn('{"a": 12345678901234567890}')).toEqual({ a: 12345678901234567890n });
    expect(payload.fromColumn(Buffer.from('{"a": [1, 2]}'))).toEqual({ a: [1, 2] });
    expect(payload.fromColumn(new Uint8Array(Buffer.from('x["y"]')).subarray(1))).toEqual(["y"]);
    expect(payload.fromColumn({ a: 5n })).toEqual({ a: 5 });
    expect(payload.fromColumn('"text"')).toBe("text");
    const error = codecError(() => payload.fromColumn("{"));
    expect(error.message).toBe(
      'Sample.payload: is not JSON text (read JSON columns as text: mysql2\'s jsonStrings option, or mysqlTypeCast), got "{" (string)',
    );
    expect(error.cause).toBeInstanceOf(SyntaxError);
    expect(refusal("payload", () => payload.fromColumn(Buffer.from("{")))).toBe(
      "Sample.payload: is not JSON text (read JSON columns as text: mysql2's jsonStrings option, or mysqlTypeCast), got Buffer(1 bytes)",
    );
  });

  it("write MySQL's text as given, compare sorted", () => {
    const payload = of("payload");
    expect(payload.toParameter({ b: 1, a: [2n ** 63n] })).toBe('{"b":1,"a":[9223372036854775808]}');
    expect(payload.normalize({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(payload.normalize("x")).toBe('"x"');
  });

  it("refuse what DynamoDB cannot hold, and items that are not JSON", () => {
    const payload = of("payload");
    const stored = codecError(() => payload.toAttribute({ a: 1e200 }));
    expect(stored.message).toBe(
      "Sample.payload: cannot be stored: $.a 1e+200 is beyond what a DynamoDB number holds (magnitudes 1e-130 to 9.99e125), got an object",
    );
    expect(stored.cause).toBeInstanceOf(JsonProblem);
    const read = codecError(() => payload.fromAttribute({ M: { a: { SS: ["x"] } } }));
    expect(read.message).toBe("Sample.payload: is not JSON: $.a a DynamoDB SS value is not JSON, got an object");
    expect(read.cause).toBeInstanceOf(JsonProblem);
    expect(() => payload.fromAttribute({ L: 5 } as never)).toThrow(TypeError);
  });
});

describe("bytes", () => {
  it("are plain Uint8Arrays over the bytes given", () => {
    const blob = of("blob");
    const plain = new Uint8Array([1, 2]);
    expect(blob.check(plain)).toBe(plain);
    const buffer = Buffer.from([1, 2, 3]);
    const checked = blob.check(buffer) as Uint8Array;
    expect(checked.constructor).toBe(Uint8Array);
    expect([...checked]).toEqual([1, 2, 3]);
    expect(checked.buffer).toBe(buffer.buffer);
    expect(checked.byteOffset).toBe(buffer.byteOffset);
    expect((blob.fromColumn(buffer) as Uint8Array).constructor).toBe(Uint8Array);
    expect((blob.fromAttribute({ B: buffer }) as Uint8Array).constructor).toBe(Uint8Array);
  });

  it("are Buffers of exactly their bytes in MySQL, B in DynamoDB, base64 to compare", () => {
    const blob = of("blob");
    const part = new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4);
    const parameter = blob.toParameter(part);
    expect(Buffer.isBuffer(parameter)).toBe(true);
    expect(parameter).toEqual(Buffer.from([1, 2, 3]));
    expect(blob.toAttribute(part)).toEqual({ B: new Uint8Array([1, 2, 3]) });
    expect(blob.normalize(part)).toBe("AQID");
  });

  it("refuse what is not bytes", () => {
    expect(refusal("blob", () => of("blob").fromColumn("abc"))).toBe(
      'Sample.blob: expected bytes (a Buffer) from MySQL, got "abc" (string)',
    );
    expect(refusal("location", () => of("location").fromColumn({ x: 1, y: 2 }))).toBe(
      "Sample.location: mysql2 parsed this geometry into objects; read it as bytes with mysqlTypeCast, got an object",
    );
    expect(refusal("location", () => of("location").check("POINT(1 2)"))).toBe(
      'Sample.location: expected a Uint8Array, got "POINT(1 2)" (string)',
    );
    expect(refusal("blob", () => of("blob").keyText(new Uint8Array(1)))).toBe(
      "Sample.blob: a binary attribute cannot be part of a key",
    );
    expect(refusal("payload", () => of("payload").keyText({}))).toBe(
      "Sample.payload: a json attribute cannot be part of a key",
    );
    expect(refusal("tags", () => of("tags").keyText([]))).toBe("Sample.tags: a set attribute cannot be part of a key");
  });
});

describe("strings", () => {
  it("are text in every form; MySQL may send bytes", () => {
    const text = of("text");
    expect(text.check("")).toBe("");
    expect(text.fromColumn("Zoë")).toBe("Zoë");
    expect(text.fromColumn(Buffer.from("Zoë"))).toBe("Zoë");
    expect(text.fromColumn(new Uint8Array(Buffer.from("xZoë")).subarray(1))).toBe("Zoë");
    expect(text.toParameter("a")).toBe("a");
    expect(text.toAttribute("")).toEqual({ S: "" });
    expect(text.fromAttribute({ S: "" })).toBe("");
    expect(text.normalize("AbC")).toBe("AbC");
    expect(refusal("text", () => text.fromColumn({ a: 1 }))).toBe("Edge.text: expected text from MySQL, got an object");
    expect(refusal("text", () => text.fromColumn(5))).toBe("Edge.text: expected text from MySQL, got 5 (number)");
  });

  it("on a JSON column, are the JSON text of what mysql2 parsed", () => {
    for (const name of ["doc", "mariaDoc"]) {
      const doc = of(name);
      expect(doc.fromColumn({ a: 12345678901234567890n, b: [1, "x"] })).toBe('{"a":12345678901234567890,"b":[1,"x"]}');
      expect(doc.fromColumn(5)).toBe("5");
      expect(doc.fromColumn('{"a": 1}')).toBe('{"a": 1}');
    }
  });

  it("fold in keys and compare under a _ci collation, and only there", () => {
    const code = of("code");
    const exact = of("exact");
    expect(code.keyText("ÀbC  ")).toBe("abc");
    expect(code.keyText("Straße")).toBe("strasse");
    expect(exact.keyText("ÀbC  ")).toBe("ÀbC  ");
    expect(code.normalize("ÀbC")).toBe("ÀbC");
    expect(code.same("Abc", "aBC  ")).toBe(true);
    expect(code.same("Abc", "Abd")).toBe(false);
    expect(exact.same("a", "A")).toBe(false);
    expect(exact.same("a", "a")).toBe(true);
    for (const attribute of [code, exact]) {
      expect(attribute.same(null, null)).toBe(true);
      expect(attribute.same(undefined, null)).toBe(true);
      expect(attribute.same(null, "a")).toBe(false);
      expect(attribute.same("a", null)).toBe(false);
      expect(attribute.same("", null)).toBe(false);
    }
  });
});
