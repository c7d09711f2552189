/**
 * DATETIME/TIMESTAMP, DATE and TIME as strings, fractional seconds kept as digits (never through a Date, which
 * holds milliseconds only). Every function returns the canonical text or a problem to report.
 */

export type Parsed = { text: string } | { problem: string };

const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;
const MYSQL_DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(-?)(\d{2,3}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;
const NON_ZERO = /[1-9]/;

const ISO_EXAMPLE: Record<number, string> = {
  0: "2026-01-02T03:04:05Z",
  1: "2026-01-02T03:04:05.1Z",
  2: "2026-01-02T03:04:05.12Z",
  3: "2026-01-02T03:04:05.123Z",
};

/** What an ISO timestamp for a column with `digits` fractional digits looks like. */
export function isoExample(digits: number): string {
  return ISO_EXAMPLE[digits] ?? `2026-01-02T03:04:05.${"123456".slice(0, digits).padEnd(digits, "0")}Z`;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function validDate(year: string, month: string, day: string): boolean {
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  return y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** Fraction digits padded or cut to `digits`; undefined when cutting would drop a non-zero digit. */
function fitFraction(fraction: string, digits: number): string | undefined {
  if (fraction.length === digits) return fraction;
  if (fraction.length < digits) return fraction.padEnd(digits, "0");
  if (NON_ZERO.test(fraction.slice(digits))) return undefined;
  return fraction.slice(0, digits);
}

function fractionProblem(digits: number): string {
  return digits === 0
    ? "has fractional seconds, and the column keeps whole seconds"
    : `has more than ${digits} fractional-second digit${digits === 1 ? "" : "s"}, which the column does not keep`;
}

function datetimeText(
  parts: readonly [string, string, string, string, string, string],
  fraction: string,
  digits: number,
): Parsed {
  const [year, month, day, hour, minute, second] = parts;
  if (!validDate(year, month, day)) return { problem: "is not a calendar date" };
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return { problem: "is not a time of day" };
  const fitted = fitFraction(fraction, digits);
  if (fitted === undefined) return { problem: fractionProblem(digits) };
  return { text: `${year}-${month}-${day}T${hour}:${minute}:${second}${digits > 0 ? `.${fitted}` : ""}Z` };
}

const pad = (value: number, width = 2) => String(value).padStart(width, "0");

/**
 * A test for text already in canonical form with `digits` fraction digits (days up to 28, so that it needs no
 * calendar): the fast path of reading values the codec wrote itself.
 */
export function canonicalDatetimeTest(digits: number): RegExp {
  const fraction = digits > 0 ? `\\.\\d{${digits}}` : "";
  return new RegExp(
    `^(?!0000)\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\\d|2[0-8])T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d${fraction}Z$`,
  );
}

/** An ISO-8601 timestamp ("Z" or an offset, which is applied) -> canonical UTC text with `digits` fraction digits. */
export function isoDatetime(text: string, digits: number): Parsed {
  const match = ISO_DATETIME.exec(text);
  if (!match) return { problem: `is not an ISO-8601 timestamp like ${isoExample(digits)}` };
  const [, year = "", month = "", day = "", hour = "", minute = "", second = "", fraction = "", zone = "Z"] = match;
  if (zone === "Z" || zone === "+00:00" || zone === "-00:00") {
    return datetimeText([year, month, day, hour, minute, second], fraction, digits);
  }
  const local = datetimeText([year, month, day, hour, minute, second], fraction, digits);
  if ("problem" in local) return local;
  const offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  date.setUTCHours(Number(hour), Number(minute) - offsetMinutes, Number(second), 0);
  const utc = [
    pad(date.getUTCFullYear(), 4),
    pad(date.getUTCMonth() + 1),
    pad(date.getUTCDate()),
    pad(date.getUTCHours()),
    pad(date.getUTCMinutes()),
    pad(date.getUTCSeconds()),
  ] as const;
  return datetimeText(utc, fraction, digits);
}

/** MySQL's "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) -> canonical ISO text. */
export function mysqlDatetime(text: string, digits: number): Parsed {
  const match = MYSQL_DATETIME.exec(text);
  if (!match) return { problem: "is not a MySQL DATETIME" };
  const [, year = "", month = "", day = "", hour = "", minute = "", second = "", fraction = ""] = match;
  return datetimeText([year, month, day, hour, minute, second], fraction, digits);
}

/** Canonical ISO text -> MySQL's "YYYY-MM-DD HH:MM:SS[.fff]". */
export function datetimeToMysql(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, -1)}`;
}

/** "YYYY-MM-DD", checked against the calendar. */
export function dateOnly(text: string): Parsed {
  const match = DATE.exec(text);
  if (!match) return { problem: "is not a date like 2026-01-02" };
  if (!validDate(match[1] ?? "", match[2] ?? "", match[3] ?? "")) return { problem: "is not a calendar date" };
  return { text };
}

/** "[-]HH:MM:SS[.fff]" (MySQL TIME: -838:59:59 to 838:59:59) -> canonical text with `digits` fraction digits. */
export function timeOfDay(text: string, digits: number): Parsed {
  const match = TIME.exec(text);
  if (!match) return { problem: `is not a time like 03:04:05${digits > 0 ? `.${"0".repeat(digits)}` : ""}` };
  const [, sign = "", hour = "", minute = "", second = "", fraction = ""] = match;
  const hours = Number(hour);
  if (hours > 838 || Number(minute) > 59 || Number(second) > 59) return { problem: "is out of range for TIME" };
  const fitted = fitFraction(fraction, digits);
  if (fitted === undefined) return { problem: fractionProblem(digits) };
  const zero = hours === 0 && Number(minute) === 0 && Number(second) === 0 && !NON_ZERO.test(fitted);
  return { text: `${zero ? "" : sign}${pad(hours)}:${minute}:${second}${digits > 0 ? `.${fitted}` : ""}` };
}
