/**
 * Exact decimal text: DECIMAL values never pass through a float. Used for DECIMAL attributes, for the plain-digit
 * form DynamoDB numbers are sent in, and for numbers inside JSON values.
 */

/** A decimal number taken apart: sign, integer digits without leading zeros ("" for zero), fraction digits. */
export interface DecimalParts {
  negative: boolean;
  integer: string;
  fraction: string;
}

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;
const LEADING_ZEROS = /^0+/;
const NON_ZERO = /[1-9]/;

/** Reads "12.50", "-0.5", ".5", "1e-7", "1E+2"; undefined when the text is not a decimal number. */
export function parseDecimal(text: string): DecimalParts | undefined {
  const match = DECIMAL_TEXT.exec(text);
  if (!match) return undefined;
  let integer = match[2] ?? "";
  let fraction = match[3] ?? "";
  if (integer === "" && fraction === "") return undefined;
  const exponent = match[4] === undefined ? 0 : Number(match[4]);
  if (exponent > 0) {
    integer += fraction.slice(0, exponent).padEnd(exponent, "0");
    fraction = fraction.slice(exponent);
  } else if (exponent < 0) {
    const padded = integer.padStart(-exponent, "0");
    fraction = padded.slice(padded.length + exponent) + fraction;
    integer = padded.slice(0, padded.length + exponent);
  }
  return { negative: match[1] === "-", integer: integer.replace(LEADING_ZEROS, ""), fraction };
}

/** Whether the parts are zero (any sign). */
export function isZero(parts: DecimalParts): boolean {
  return parts.integer === "" && !NON_ZERO.test(parts.fraction);
}

/** Why a decimal does not fit DECIMAL(precision, scale), or its text with exactly `scale` fraction digits. */
export function fitDecimal(
  parts: DecimalParts,
  precision: number,
  scale: number,
): { text: string } | { problem: string } {
  let fraction = parts.fraction;
  if (fraction.length > scale) {
    if (NON_ZERO.test(fraction.slice(scale))) {
      return {
        problem: `has more than ${scale} fraction digit${scale === 1 ? "" : "s"} (decimal(${precision},${scale}))`,
      };
    }
    fraction = fraction.slice(0, scale);
  } else if (fraction.length < scale) {
    fraction = fraction.padEnd(scale, "0");
  }
  if (parts.integer.length > precision - scale) {
    return { problem: `is out of range for decimal(${precision},${scale})` };
  }
  const sign = parts.negative && !isZero(parts) ? "-" : "";
  return { text: `${sign}${parts.integer || "0"}${scale > 0 ? `.${fraction}` : ""}` };
}

/** Plain decimal text of parts, without trailing fraction zeros: the shortest exact spelling. */
export function plainDecimal(parts: DecimalParts): string {
  const fraction = parts.fraction.replace(/0+$/, "");
  const sign = parts.negative && !isZero(parts) ? "-" : "";
  return `${sign}${parts.integer || "0"}${fraction ? `.${fraction}` : ""}`;
}

/** The integers MySQL 8 keeps exact inside JSON (int64 and uint64): JSON integers in this range stay exact. */
export const JSON_INTEGER_MIN = -(2n ** 63n);
export const JSON_INTEGER_MAX = 2n ** 64n - 1n;

/**
 * A finite JS number as plain digits (no exponent): the shortest text that reads back as the same double, except for
 * integers beyond 2^53 within 64 bits, which are written with all their digits (2 ** 63 -> "9223372036854775808",
 * not "9223372036854776000"), so that reading the text back as an exact integer gives the same double.
 */
export function numberText(value: number): string {
  if (
    Number.isInteger(value) &&
    (value > Number.MAX_SAFE_INTEGER || value < Number.MIN_SAFE_INTEGER) &&
    value >= -(2 ** 63) &&
    value < 2 ** 64
  ) {
    return BigInt(value).toString();
  }
  const text = String(value);
  if (!text.includes("e")) return text;
  const parts = parseDecimal(text);
  return parts ? plainDecimal(parts) : text;
}

/** Why DynamoDB cannot store a number (its magnitudes run from 1e-130 to 9.99...e125), or undefined. */
export function dynamoNumberProblem(value: number): string | undefined {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-130 || magnitude >= 1e126)) {
    return "is beyond what a DynamoDB number holds (magnitudes 1e-130 to 9.99e125)";
  }
  return undefined;
}

/** Whether two decimal texts are the same number. */
export function sameDecimal(a: string, b: string): boolean {
  if (a === b) return true;
  const left = parseDecimal(a);
  const right = parseDecimal(b);
  return left !== undefined && right !== undefined && plainDecimal(left) === plainDecimal(right);
}

const TEN_POW_20 = 10n ** 20n;

/**
 * An integer as it sorts inside a key: non-negative values zero-padded to 20 digits ("00000000000000000042"),
 * negative values '-' followed by 10^20 - |v| zero-padded to 20 digits ("-99999999999999999999" for -1), so that
 * string order is numeric order for every 64-bit value, signed or unsigned.
 */
export function sortableInteger(value: number | bigint): string {
  if (value >= 0) return String(value).padStart(20, "0");
  const magnitude = typeof value === "bigint" ? -value : BigInt(-value);
  return `-${(TEN_POW_20 - magnitude).toString().padStart(20, "0")}`;
}

/**
 * The sum of two exact decimal texts, exact ("10.50" + "-0.25" = "10.25"): added as integers scaled to the longer
 * fraction, so the result keeps that many fraction digits. Exponent forms are read as parseDecimal reads them.
 */
export function addDecimal(a: string, b: string): string {
  const left = parseDecimal(a);
  const right = parseDecimal(b);
  if (!left || !right)
    throw new RangeError(`cannot add ${JSON.stringify(a)} and ${JSON.stringify(b)}: not decimal numbers`);
  const scale = Math.max(left.fraction.length, right.fraction.length);
  const sum = scaled(left, scale) + scaled(right, scale);
  const negative = sum < 0n;
  const digits = (negative ? -sum : sum).toString().padStart(scale + 1, "0");
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/**
 * A numeric entity value plus `delta`, in the value's own type: a bigint stays exact, a decimal string is added
 * exactly (addDecimal), a number adds as a number; a missing value counts as 0 (DynamoDB's ADD does the same).
 */
export function increment(value: unknown, delta: number): unknown {
  if (typeof value === "bigint") return value + BigInt(delta);
  if (typeof value === "number") return value + delta;
  if (typeof value === "string") return addDecimal(value, numberText(delta));
  return delta;
}

function scaled(parts: DecimalParts, scale: number): bigint {
  const magnitude = BigInt(`${parts.integer}${parts.fraction.padEnd(scale, "0")}` || "0");
  return parts.negative ? -magnitude : magnitude;
}
