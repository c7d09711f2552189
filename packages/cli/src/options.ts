import { InvalidArgumentError } from "commander";

/** A parser for options that take a whole number in a range. */
export function wholeNumber(min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const number = Number(value.replace(/_/g, ""));
    if (!/^\s*\d[\d_]*\s*$/.test(value) || !Number.isSafeInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(
        `expected a whole number from ${min} to ${max.toLocaleString("en-US")}, got "${value}"`,
      );
    }
    return number;
  };
}

export const port = wholeNumber(1, 65535);
