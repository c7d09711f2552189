/**
 * MySQL's `_ci` collations in keys (src/codec/collation.ts): which collations fold, and how text folds.
 */
import { describe, expect, it } from "vitest";
import { foldForCollation, isCaseInsensitive } from "../src/codec/index.ts";

describe("isCaseInsensitive: MySQL's and MariaDB's _ci collations", () => {
  it.each([
    ["utf8mb4_unicode_ci", true],
    ["utf8mb4_general_ci", true],
    ["utf8mb4_0900_ai_ci", true],
    ["UTF8MB4_UNICODE_CI", true],
    ["latin1_swedish_ci", true],
    ["utf8mb4_bin", false],
    ["utf8mb4_0900_as_cs", false],
    ["utf8mb4_ci_bin", false],
    ["ci", false],
    ["", false],
    [undefined, false],
  ])("%s: %s", (collation, folds) => {
    expect(isCaseInsensitive(collation)).toBe(folds);
  });
});

describe("foldForCollation: case, accents and trailing spaces", () => {
  it.each([
    ["MiXeD", "mixed"],
    ["ÀbC", "abc"],
    ["Éé", "ee"],
    ["ệ", "e"],
    ["Straße", "strasse"],
    ["ﬁ", "fi"],
    ["abc  ", "abc"],
    ["a b  ", "a b"],
    ["  abc", "  abc"],
    ["a  b", "a  b"],
    ["a\t", "a\t"],
    ["   ", ""],
    ["", ""],
  ])("%j -> %j", (text, folded) => {
    expect(foldForCollation(text)).toBe(folded);
  });
});
