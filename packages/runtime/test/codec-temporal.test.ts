/**
 * The codec's dates and times (src/codec/temporal.ts): DATETIME/TIMESTAMP, DATE and TIME as text, checked against the
 * calendar and the clock, offsets applied, fractional seconds kept as digits.
 */
import { describe, expect, it } from "vitest";
import {
  canonicalDatetimeTest,
  dateOnly,
  datetimeToMysql,
  isoDatetime,
  isoExample,
  mysqlDatetime,
  timeOfDay,
} from "../src/codec/temporal.ts";

const NOT_A_DATE = { problem: "is not a calendar date" };
const NOT_A_TIME = { problem: "is not a time of day" };

describe("isoExample: what a timestamp with n fraction digits looks like", () => {
  it.each([
    [0, "2026-01-02T03:04:05Z"],
    [1, "2026-01-02T03:04:05.1Z"],
    [2, "2026-01-02T03:04:05.12Z"],
    [3, "2026-01-02T03:04:05.123Z"],
    [4, "2026-01-02T03:04:05.1234Z"],
    [5, "2026-01-02T03:04:05.12345Z"],
    [6, "2026-01-02T03:04:05.123456Z"],
    [8, "2026-01-02T03:04:05.12345600Z"],
  ])("%i digits: %s", (digits, example) => {
    expect(isoExample(digits)).toBe(example);
  });
});

describe("isoDatetime checks the calendar", () => {
  it.each([
    ["2026-01-31T00:00:00Z", "2026-01-31T00:00:00Z"],
    ["2026-02-28T00:00:00Z", "2026-02-28T00:00:00Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"],
    ["2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"],
    ["2026-03-31T00:00:00Z", "2026-03-31T00:00:00Z"],
    ["2026-04-30T00:00:00Z", "2026-04-30T00:00:00Z"],
    ["2026-05-31T00:00:00Z", "2026-05-31T00:00:00Z"],
    ["2026-06-30T00:00:00Z", "2026-06-30T00:00:00Z"],
    ["2026-07-31T00:00:00Z", "2026-07-31T00:00:00Z"],
    ["2026-08-31T00:00:00Z", "2026-08-31T00:00:00Z"],
    ["2026-09-30T00:00:00Z", "2026-09-30T00:00:00Z"],
    ["2026-10-31T00:00:00Z", "2026-10-31T00:00:00Z"],
    ["2026-11-30T00:00:00Z", "2026-11-30T00:00:00Z"],
    ["2026-12-31T00:00:00Z", "2026-12-31T00:00:00Z"],
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"],
    ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"],
  ])("%s is a date", (text, canonical) => {
    expect(isoDatetime(text, 0)).toEqual({ text: canonical });
  });

  it.each([
    "2026-02-29T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2100-02-29T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-06-31T00:00:00Z",
    "2026-09-31T00:00:00Z",
    "2026-11-31T00:00:00Z",
    "2026-01-32T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-00-10T00:00:00Z",
    "2026-01-00T00:00:00Z",
    "0000-01-01T00:00:00Z",
    // The same with an offset: the local date is checked before the offset moves it.
    "2026-02-29T12:00:00+01:00",
    "2026-04-31T12:00:00-01:00",
    "2026-13-01T12:00:00+01:00",
  ])("%s is not", (text) => {
    expect(isoDatetime(text, 0)).toEqual(NOT_A_DATE);
  });

  it.each(["2026-01-02T24:00:00Z", "2026-01-02T23:60:00Z", "2026-01-02T23:59:60Z", "2026-01-02T24:00:00+01:00"])(
    "%s is not a time of day",
    (text) => {
      expect(isoDatetime(text, 0)).toEqual(NOT_A_TIME);
    },
  );

  it.each([
    "2026-01-02 03:04:05Z",
    "2026-01-02T03:04:05",
    "2026-01-02T03:04:05z",
    "2026-01-02T03:04:05+0100",
    "2026-01-02T03:04:05.Z",
    "2026-01-02T03:04:05.1234567890Z",
    "2026-1-02T03:04:05Z",
    "x2026-01-02T03:04:05Z",
    "2026-01-02T03:04:05Zx",
    "",
  ])("%j is not an ISO-8601 timestamp", (text) => {
    expect(isoDatetime(text, 3)).toEqual({
      problem: "is not an ISO-8601 timestamp like 2026-01-02T03:04:05.123Z",
    });
    expect(isoDatetime(text, 6)).toEqual({
      problem: "is not an ISO-8601 timestamp like 2026-01-02T03:04:05.123456Z",
    });
  });
});

describe("isoDatetime applies offsets", () => {
  it.each([
    ["2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05.000Z"],
    ["2026-01-02T03:04:05-00:00", "2026-01-02T03:04:05.000Z"],
    ["2026-01-02T03:04:05+02:00", "2026-01-02T01:04:05.000Z"],
    ["2026-01-02T03:04:05-03:00", "2026-01-02T06:04:05.000Z"],
    ["2026-01-02T03:04:05+05:30", "2026-01-01T21:34:05.000Z"],
    ["2026-01-02T03:04:05-09:30", "2026-01-02T12:34:05.000Z"],
    ["2026-01-02T03:04:05.5+05:45", "2026-01-01T21:19:05.500Z"],
    ["2026-01-02T03:04:05.123-00:01", "2026-01-02T03:05:05.123Z"],
    // Across a day, a month, a year and a leap day.
    ["2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00.000Z"],
    ["2025-12-31T23:30:00-01:00", "2026-01-01T00:30:00.000Z"],
    ["2024-02-28T23:00:00-02:00", "2024-02-29T01:00:00.000Z"],
    ["2026-02-28T23:00:00-02:00", "2026-03-01T01:00:00.000Z"],
    ["2024-03-01T01:00:00+02:00", "2024-02-29T23:00:00.000Z"],
    ["0099-06-15T12:00:00+01:00", "0099-06-15T11:00:00.000Z"],
  ])("%s -> %s", (text, canonical) => {
    expect(isoDatetime(text, 3)).toEqual({ text: canonical });
  });
});

describe("isoDatetime fits fractional seconds to the column", () => {
  it.each<[string, number, string]>([
    ["2026-01-02T03:04:05Z", 3, "2026-01-02T03:04:05.000Z"],
    ["2026-01-02T03:04:05.1Z", 3, "2026-01-02T03:04:05.100Z"],
    ["2026-01-02T03:04:05.123Z", 3, "2026-01-02T03:04:05.123Z"],
    ["2026-01-02T03:04:05.123000000Z", 3, "2026-01-02T03:04:05.123Z"],
    ["2026-01-02T03:04:05.000Z", 0, "2026-01-02T03:04:05Z"],
    ["2026-01-02T03:04:05.5Z", 1, "2026-01-02T03:04:05.5Z"],
    ["2026-01-02T03:04:05.123456Z", 6, "2026-01-02T03:04:05.123456Z"],
    ["2026-01-02T03:04:05.1234567+01:00", 7, "2026-01-02T02:04:05.1234567Z"],
  ])("%s at %i digits -> %s", (text, digits, canonical) => {
    expect(isoDatetime(text, digits)).toEqual({ text: canonical });
  });

  it.each<[string, number, string]>([
    ["2026-01-02T03:04:05.5Z", 0, "has fractional seconds, and the column keeps whole seconds"],
    ["2026-01-02T03:04:05.001+01:00", 0, "has fractional seconds, and the column keeps whole seconds"],
    ["2026-01-02T03:04:05.55Z", 1, "has more than 1 fractional-second digit, which the column does not keep"],
    ["2026-01-02T03:04:05.1234Z", 3, "has more than 3 fractional-second digits, which the column does not keep"],
    ["2026-01-02T03:04:05.1230001Z", 6, "has more than 6 fractional-second digits, which the column does not keep"],
  ])("%s at %i digits: %s", (text, digits, problem) => {
    expect(isoDatetime(text, digits)).toEqual({ problem });
  });
});

describe("canonicalDatetimeTest: the fast path for text already canonical", () => {
  it.each<[number, string]>([
    [0, "2026-01-02T03:04:05Z"],
    [3, "2026-01-02T03:04:05.123Z"],
    [6, "2026-01-02T03:04:05.123456Z"],
    [3, "0001-01-01T00:00:00.000Z"],
    [3, "9999-12-28T23:59:59.999Z"],
    [3, "2026-10-19T19:09:59.000Z"],
    [3, "2026-09-20T20:00:00.000Z"],
  ])("digits %i: %s is canonical", (digits, text) => {
    expect(canonicalDatetimeTest(digits).test(text)).toBe(true);
  });

  it.each<[number, string]>([
    [0, "2026-01-02T03:04:05.000Z"],
    [3, "2026-01-02T03:04:05Z"],
    [3, "2026-01-02T03:04:05.12Z"],
    [3, "2026-01-02T03:04:05.1234Z"],
    [3, "0000-01-02T03:04:05.123Z"],
    [3, "2026-00-02T03:04:05.123Z"],
    [3, "2026-13-02T03:04:05.123Z"],
    [3, "2026-01-00T03:04:05.123Z"],
    [3, "2026-02-29T03:04:05.123Z"],
    [3, "2026-01-31T03:04:05.123Z"],
    [3, "2026-01-02T24:04:05.123Z"],
    [3, "2026-01-02T03:60:05.123Z"],
    [3, "2026-01-02T03:04:60.123Z"],
    [3, "2026-01-02T03:04:05.123+00:00"],
    [3, "x2026-01-02T03:04:05.123Z"],
    [3, "2026-01-02T03:04:05.123Zx"],
  ])("digits %i: %s is not", (digits, text) => {
    expect(canonicalDatetimeTest(digits).test(text)).toBe(false);
  });
});

describe("MySQL's DATETIME text", () => {
  it.each<[string, number, string]>([
    ["2026-01-02 03:04:05", 0, "2026-01-02T03:04:05Z"],
    ["2026-01-02 03:04:05", 3, "2026-01-02T03:04:05.000Z"],
    ["2026-01-02 03:04:05.5", 3, "2026-01-02T03:04:05.500Z"],
    ["2026-01-02 03:04:05.123456", 6, "2026-01-02T03:04:05.123456Z"],
  ])("%s at %i digits -> %s", (text, digits, canonical) => {
    expect(mysqlDatetime(text, digits)).toEqual({ text: canonical });
  });

  it.each<[string, { problem: string }]>([
    ["2026-01-02T03:04:05", { problem: "is not a MySQL DATETIME" }],
    ["2026-01-02 03:04:05Z", { problem: "is not a MySQL DATETIME" }],
    [" 2026-01-02 03:04:05", { problem: "is not a MySQL DATETIME" }],
    ["0000-00-00 00:00:00", NOT_A_DATE],
    ["2026-02-29 00:00:00", NOT_A_DATE],
    ["2026-01-02 24:00:00", NOT_A_TIME],
    ["2026-01-02 03:04:05.5", { problem: "has fractional seconds, and the column keeps whole seconds" }],
  ])("%j: %o", (text, problem) => {
    expect(mysqlDatetime(text, 0)).toEqual(problem);
  });

  it("writes canonical text back as MySQL's", () => {
    expect(datetimeToMysql("2026-01-02T03:04:05.123Z")).toBe("2026-01-02 03:04:05.123");
    expect(datetimeToMysql("2026-01-02T03:04:05Z")).toBe("2026-01-02 03:04:05");
    expect(datetimeToMysql("9999-12-31T23:59:59.999999Z")).toBe("9999-12-31 23:59:59.999999");
  });
});

describe("dateOnly", () => {
  it.each(["2026-01-02", "2024-02-29", "0001-01-01", "9999-12-31"])("%s is a date", (text) => {
    expect(dateOnly(text)).toEqual({ text });
  });

  it.each(["2026-02-29", "2026-04-31", "2026-13-01", "2026-00-01", "2026-01-00", "0000-01-01"])(
    "%s is not a calendar date",
    (text) => {
      expect(dateOnly(text)).toEqual(NOT_A_DATE);
    },
  );

  it.each(["2026-01-02x", "2026-01-02T00:00:00Z", " 2026-01-02", "x2026-01-02", "2026-1-02", "20260102", ""])(
    "%j is not a date like 2026-01-02",
    (text) => {
      expect(dateOnly(text)).toEqual({ problem: "is not a date like 2026-01-02" });
    },
  );
});

describe("timeOfDay: MySQL TIME, -838:59:59 to 838:59:59", () => {
  it.each<[string, number, string]>([
    ["03:04:05", 0, "03:04:05"],
    ["03:04:05", 3, "03:04:05.000"],
    ["03:04:05.5", 3, "03:04:05.500"],
    ["03:04:05.500000", 3, "03:04:05.500"],
    ["03:04:05.123456", 6, "03:04:05.123456"],
    ["838:59:59", 0, "838:59:59"],
    ["-838:59:59", 0, "-838:59:59"],
    ["-838:59:59.000000", 6, "-838:59:59.000000"],
    ["100:00:00", 0, "100:00:00"],
    ["007:08:09", 0, "07:08:09"],
    ["-007:08:09", 0, "-07:08:09"],
    ["-00:00:01", 0, "-00:00:01"],
    ["-00:01:00", 0, "-00:01:00"],
    ["-01:00:00", 0, "-01:00:00"],
    ["-00:00:00.5", 1, "-00:00:00.5"],
    // Zero has no sign.
    ["-00:00:00", 0, "00:00:00"],
    ["-00:00:00.000", 3, "00:00:00.000"],
    ["-000:00:00.0000", 3, "00:00:00.000"],
  ])("%s at %i digits -> %s", (text, digits, canonical) => {
    expect(timeOfDay(text, digits)).toEqual({ text: canonical });
  });

  it.each<[string, number, string]>([
    ["839:00:00", 0, "is out of range for TIME"],
    ["-839:00:00", 0, "is out of range for TIME"],
    ["00:60:00", 0, "is out of range for TIME"],
    ["00:00:60", 0, "is out of range for TIME"],
    ["00:00:00.5", 0, "has fractional seconds, and the column keeps whole seconds"],
    ["-00:00:00.0001", 3, "has more than 3 fractional-second digits, which the column does not keep"],
    ["7:05:00", 0, "is not a time like 03:04:05"],
    ["7:05:00", 3, "is not a time like 03:04:05.000"],
    ["07:05", 6, "is not a time like 03:04:05.000000"],
    ["07:05:00 ", 0, "is not a time like 03:04:05"],
    ["+07:05:00", 0, "is not a time like 03:04:05"],
    ["1000:00:00", 0, "is not a time like 03:04:05"],
  ])("%j at %i digits: %s", (text, digits, problem) => {
    expect(timeOfDay(text, digits)).toEqual({ problem });
  });
});
