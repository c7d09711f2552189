/**
 * The codec's exact numbers (src/codec/numbers.ts): decimal text taken apart and put together again without a float,
 * JS numbers as plain digits, DynamoDB's number range, sortable integers, and exact decimal addition.
 */
import { describe, expect, it } from "vitest";
import {
  addDecimal,
  type DecimalParts,
  dynamoNumberProblem,
  fitDecimal,
  increment,
  isZero,
  JSON_INTEGER_MAX,
  JSON_INTEGER_MIN,
  numberText,
  parseDecimal,
  plainDecimal,
  sameDecimal,
  sortableInteger,
} from "../src/codec/numbers.ts";

const parts = (negative: boolean, integer: string, fraction: string): DecimalParts => ({ negative, integer, fraction });

describe("parseDecimal reads decimal text exactly", () => {
  const cases: Array<[string, DecimalParts]> = [
    ["12.50", parts(false, "12", "50")],
    ["-12", parts(true, "12", "")],
    ["+12", parts(false, "12", "")],
    ["-0.5", parts(true, "", "5")],
    [".5", parts(false, "", "5")],
    ["5.", parts(false, "5", "")],
    ["007.250", parts(false, "7", "250")],
    ["0", parts(false, "", "")],
    ["000", parts(false, "", "")],
    ["-0", parts(true, "", "")],
    // Exponent forms: the digits move, nothing is rounded.
    ["1.25e1", parts(false, "12", "5")],
    ["125e-1", parts(false, "12", "5")],
    ["125E-3", parts(false, "", "125")],
    ["12.5e-3", parts(false, "", "0125")],
    ["1e-7", parts(false, "", "0000001")],
    ["1E+2", parts(false, "100", "")],
    ["1.5e3", parts(false, "1500", "")],
    ["1.2345e2", parts(false, "123", "45")],
    ["-2.5E+0", parts(true, "2", "5")],
    ["7e0", parts(false, "7", "")],
    ["3e-0", parts(false, "3", "")],
    ["0.0e5", parts(false, "", "")],
    ["1e9999", parts(false, `1${"0".repeat(9999)}`, "")],
  ];
  it.each(cases)("%s", (text, expected) => {
    expect(parseDecimal(text)).toEqual(expected);
  });

  it.each([
    "",
    ".",
    "-",
    "+",
    "-.",
    "e5",
    ".e5",
    "-e5",
    "1e",
    "1e+",
    "1e12345",
    "1.2.3",
    "1,5",
    " 1",
    "1 ",
    "0x10",
    "Infinity",
    "NaN",
    "--1",
    "1-",
  ])("refuses %j", (text) => {
    expect(parseDecimal(text)).toBeUndefined();
  });
});

describe("isZero, plainDecimal and sameDecimal", () => {
  it("zero is zero whatever its sign and fraction zeros", () => {
    expect(isZero(parts(false, "", ""))).toBe(true);
    expect(isZero(parts(true, "", "000"))).toBe(true);
    expect(isZero(parts(false, "", "001"))).toBe(false);
    expect(isZero(parts(false, "1", ""))).toBe(false);
    expect(isZero(parts(false, "1", "0"))).toBe(false);
  });

  it("plainDecimal is the shortest exact spelling", () => {
    expect(plainDecimal(parts(false, "10", "50"))).toBe("10.5");
    expect(plainDecimal(parts(false, "10", "00"))).toBe("10");
    expect(plainDecimal(parts(true, "10", "0500"))).toBe("-10.05");
    expect(plainDecimal(parts(true, "", "000"))).toBe("0");
    expect(plainDecimal(parts(true, "", "5"))).toBe("-0.5");
    expect(plainDecimal(parts(false, "", ""))).toBe("0");
    expect(plainDecimal(parts(false, "100", ""))).toBe("100");
  });

  it("sameDecimal compares numbers, not spellings", () => {
    expect(sameDecimal("10.50", "10.5")).toBe(true);
    expect(sameDecimal("1e2", "100.00")).toBe(true);
    expect(sameDecimal("-0", "0.000")).toBe(true);
    expect(sameDecimal("10.5", "10.05")).toBe(false);
    expect(sameDecimal("-1", "1")).toBe(false);
    // Identical texts are the same even when they are not numbers; different non-numbers are not.
    expect(sameDecimal("n/a", "n/a")).toBe(true);
    expect(sameDecimal("n/a", "N/A")).toBe(false);
    expect(sameDecimal("", "0")).toBe(false);
    expect(sameDecimal("0", "")).toBe(false);
  });
});

describe("fitDecimal puts a decimal at DECIMAL(precision, scale)", () => {
  const atScale = (text: string, precision: number, scale: number) => {
    const parsed = parseDecimal(text);
    if (!parsed) throw new Error(`${text} is not a decimal`);
    return fitDecimal(parsed, precision, scale);
  };

  const fits: Array<[string, number, number, string]> = [
    ["12.5", 10, 2, "12.50"],
    ["12.500", 10, 2, "12.50"],
    ["12.5000000", 10, 2, "12.50"],
    ["12", 10, 0, "12"],
    ["12.000", 10, 0, "12"],
    ["-12", 10, 0, "-12"],
    ["-12", 10, 2, "-12.00"],
    ["-0.5", 10, 2, "-0.50"],
    ["-0", 10, 2, "0.00"],
    ["-0.000", 10, 2, "0.00"],
    ["-0.00e1", 10, 2, "0.00"],
    [".5", 3, 1, "0.5"],
    ["99.99", 4, 2, "99.99"],
    ["-99.99", 4, 2, "-99.99"],
    ["1.25e1", 4, 2, "12.50"],
    ["125e-1", 4, 2, "12.50"],
    ["9999999999", 10, 0, "9999999999"],
    ["1.5", 5, 1, "1.5"],
  ];
  it.each(fits)("%s at (%i,%i) is %s", (text, precision, scale, expected) => {
    expect(atScale(text, precision, scale)).toEqual({ text: expected });
  });

  const problems: Array<[string, number, number, string]> = [
    ["12.555", 10, 2, "has more than 2 fraction digits (decimal(10,2))"],
    ["12.501", 10, 2, "has more than 2 fraction digits (decimal(10,2))"],
    ["1.25", 5, 1, "has more than 1 fraction digit (decimal(5,1))"],
    ["0.5", 10, 0, "has more than 0 fraction digits (decimal(10,0))"],
    ["-0.001", 10, 2, "has more than 2 fraction digits (decimal(10,2))"],
    ["100", 4, 2, "is out of range for decimal(4,2)"],
    ["-100.00", 4, 2, "is out of range for decimal(4,2)"],
    ["10000000000", 10, 0, "is out of range for decimal(10,0)"],
    ["1e3", 4, 2, "is out of range for decimal(4,2)"],
  ];
  it.each(problems)("%s at (%i,%i): %s", (text, precision, scale, problem) => {
    expect(atScale(text, precision, scale)).toEqual({ problem });
  });
});

describe("numberText writes a JS number as plain digits", () => {
  const cases: Array<[number, string]> = [
    [0, "0"],
    [-0, "0"],
    [1.5, "1.5"],
    [-1.5, "-1.5"],
    [0.1 + 0.2, "0.30000000000000004"],
    [1e21, "1000000000000000000000"],
    [-1e21, "-1000000000000000000000"],
    [1.5e-7, "0.00000015"],
    [-2.5e-7, "-0.00000025"],
    [1e-7, "0.0000001"],
    [5e-324, `0.${"0".repeat(323)}5`],
    [1.7976931348623157e308, `17976931348623157${"0".repeat(292)}`],
    [Number.MAX_SAFE_INTEGER, "9007199254740991"],
    [Number.MIN_SAFE_INTEGER, "-9007199254740991"],
    // Integers beyond 2^53 and within 64 bits: every digit of the double.
    [2 ** 53, "9007199254740992"],
    [-(2 ** 53), "-9007199254740992"],
    [2 ** 63, "9223372036854775808"],
    [-(2 ** 63), "-9223372036854775808"],
    [2 ** 64 - 2048, "18446744073709549568"],
    // Beyond 64 bits: the shortest digits that read back as the same double.
    [2 ** 64, "18446744073709552000"],
    [-(2 ** 63) - 2048, "-9223372036854778000"],
    [1e40, "10000000000000000000000000000000000000000"],
  ];
  it.each(cases)("%d -> %s", (value, text) => {
    expect(numberText(value)).toBe(text);
    expect(Number(text)).toBe(value === 0 ? 0 : value);
  });

  it("64-bit JSON integer bounds are int64's minimum and uint64's maximum", () => {
    expect(JSON_INTEGER_MIN).toBe(-9223372036854775808n);
    expect(JSON_INTEGER_MAX).toBe(18446744073709551615n);
  });
});

describe("dynamoNumberProblem: DynamoDB numbers run from 1e-130 to 9.99e125 in magnitude", () => {
  const PROBLEM = "is beyond what a DynamoDB number holds (magnitudes 1e-130 to 9.99e125)";
  it.each([0, -0, 1e-130, -1e-130, 9.999999999999998e125, -9.999999999999998e125, 1, -1.5, 123.456])(
    "%d fits",
    (value) => {
      expect(dynamoNumberProblem(value)).toBeUndefined();
    },
  );
  it.each([
    1e126, -1e126, 9.999999999999999e-131, -9.999999999999999e-131, 1e-131, 5e-324, 1.7976931348623157e308, -1e300,
  ])("%d does not", (value) => {
    expect(dynamoNumberProblem(value)).toBe(PROBLEM);
  });
});

describe("sortableInteger", () => {
  it.each<[number | bigint, string]>([
    [0, "00000000000000000000"],
    [0n, "00000000000000000000"],
    [1, "00000000000000000001"],
    [-1n, "-99999999999999999999"],
    [-2, "-99999999999999999998"],
    [Number.MAX_SAFE_INTEGER, "00009007199254740991"],
    [Number.MIN_SAFE_INTEGER, "-99990992800745259009"],
    [-9223372036854775808n, "-90776627963145224192"],
  ])("%s -> %s", (value, text) => {
    expect(sortableInteger(value)).toBe(text);
  });
});

describe("addDecimal adds decimal texts exactly", () => {
  const cases: Array<[string, string, string]> = [
    ["10.50", "-0.25", "10.25"],
    ["1", "2", "3"],
    ["0.1", "0.2", "0.3"],
    ["-1", "0.5", "-0.5"],
    ["-0.5", "-0.5", "-1.0"],
    ["-5", "2", "-3"],
    ["2", "-5", "-3"],
    ["0.05", "-0.05", "0.00"],
    ["0.01", "0", "0.01"],
    ["-0.01", "0", "-0.01"],
    ["0", "0", "0"],
    ["99.99", "0.01", "100.00"],
    ["1e2", "1", "101"],
    ["1.5e-3", "1", "1.0015"],
    [".5", "5.", "5.5"],
    ["18446744073709551615", "1", "18446744073709551616"],
    ["-9223372036854775808", "-1", "-9223372036854775809"],
    ["12345678901234.123400", "0.000001", "12345678901234.123401"],
  ];
  it.each(cases)("%s + %s = %s", (a, b, sum) => {
    expect(addDecimal(a, b)).toBe(sum);
    expect(addDecimal(b, a)).toBe(sum);
  });

  it("refuses text that is not a decimal number, naming both", () => {
    expect(() => addDecimal("x", "1")).toThrow(new RangeError('cannot add "x" and "1": not decimal numbers'));
    expect(() => addDecimal("1", "")).toThrow(new RangeError('cannot add "1" and "": not decimal numbers'));
    expect(() => addDecimal("1", "1e")).toThrow(RangeError);
  });
});

describe("increment adds a delta in the value's own type", () => {
  it("bigints stay exact", () => {
    expect(increment(18446744073709551614n, 1)).toBe(18446744073709551615n);
    expect(increment(5n, -7)).toBe(-2n);
  });

  it("numbers add as numbers", () => {
    expect(increment(1.5, 1)).toBe(2.5);
    expect(increment(10, -3)).toBe(7);
  });

  it("decimal strings add exactly, keeping their scale", () => {
    expect(increment("10.50", 1)).toBe("11.50");
    expect(increment("10.50", 0.1)).toBe("10.60");
    expect(increment("0.10", 0.2)).toBe("0.30");
    expect(increment("5", -7)).toBe("-2");
    expect(increment("1.000", 1e21)).toBe("1000000000000000000001.000");
  });

  it("a missing value counts as 0", () => {
    expect(increment(undefined, 3)).toBe(3);
    expect(increment(null, -2)).toBe(-2);
  });
});
