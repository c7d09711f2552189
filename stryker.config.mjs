// @ts-check
/**
 * Mutation testing of the codec (`pnpm mutation`; not part of `pnpm test`: it takes minutes). Every value passes
 * through the codec, so its tests (test/codec*.test.ts, the store round trips included) must fail for any change
 * that changes a value. Reports: reports/mutation/ (not in git).
 */
import { fileURLToPath } from "node:url";

/*
 * Surviving mutants that no input can tell apart from the code (file:line, mutator: why), left as they are:
 *
 * numbers.ts
 * - 24 ConditionalExpression (`match[4] === undefined` -> false): Number(undefined) is NaN, and NaN is neither > 0
 *   nor < 0, so no digits move, exactly as for exponent 0.
 * - 25 EqualityOperator (`exponent > 0` -> `>= 0`), 28 (`exponent < 0` -> `<= 0`, or -> true): an exponent of 0
 *   moves no digits.
 * - 21 StringLiteral (`match[2] ?? ""`): the group `(\d*)` always takes part in a match, so the default is never used.
 * - 48 EqualityOperator (`fraction.length > scale` -> `>=`), 55 (`<` -> `<=`, or -> true): at equal length cutting
 *   and padding change nothing.
 * - 83 ConditionalExpression (`Number.isInteger(value)` -> true): every double beyond 2^53 is an integer, and
 *   +-Infinity fail the 64-bit bounds anyway.
 * - 84 EqualityOperator (`> MAX_SAFE_INTEGER` -> `>=`, `< MIN_SAFE_INTEGER` -> `<=`): at +-(2^53 - 1) the exact digits
 *   and String() are the same text.
 * - 91 ConditionalExpression (`!text.includes("e")` -> false): plainDecimal of String(number) without an exponent is
 *   that same text.
 * - 93 ConditionalExpression (`parts ?` -> true): String() of a finite number with an exponent always parses.
 * - 122 ConditionalExpression (`typeof value === "bigint"` -> false): BigInt(-v) of a bigint is -v.
 * - 155 StringLiteral (`|| "0"` -> `|| ""`): BigInt("") is 0n.
 *
 * temporal.ts
 * - 40 ConditionalExpression (`fraction.length === digits` -> false), 41 EqualityOperator (`<` -> `<=`): a fast path;
 *   at equal length the later branches return the same fraction.
 * - 82, 107, 128 StringLiteral (destructuring defaults of the date, time and sign groups), 120 StringLiteral
 *   (`match[n] ?? ""`): those groups always take part in a match; only the optional fraction's default is ever used.
 * - 82 StringLiteral (`zone = "Z"`), 83 ConditionalExpression / LogicalOperator / StringLiteral / BlockStatement (the
 *   `zone === "Z" || "+00:00" || "-00:00"` shortcut): without the shortcut the offset path applies an offset of 0
 *   minutes and gives the same text or the same problem.
 *
 * json.ts
 * - 33 ConditionalExpression (`Number.isSafeInteger(value)` -> false): a safe integer is within 64 bits and its
 *   double is exact, so the later branches return the same number.
 * - 35 EqualityOperator (`exact < JSON_INTEGER_MIN` -> `<=`): at -2^63 both branches return the same (exact) double.
 * - 28 Regex (NEEDS_EXACT_PARSER loosened: `\d{16}` -> `\d`, `\d{3}` -> `\d`), 49 ConditionalExpression /
 *   BlockStatement (JSON.parse's fast path off): the fast path is an optimisation; the exact parser reads every JSON
 *   text to the same value (and, since parseJson refuses numbers beyond a double, refuses the same texts).
 * - 164 ConditionalExpression (`key === "__proto__"` -> true): defineProperty with these flags makes the same
 *   property as an assignment does for any other key.
 *
 * attribute.ts
 * - 90 ObjectLiteral / StringLiteral / BooleanLiteral (the fallback when parseSqlType fails), 180 and 182
 *   ArrayDeclaration (`sqlType.values ?? []`), 260 and 261 ConditionalExpression (`range ?` -> true), 294 (bigint's
 *   fallback range), 295 (`sqlType.length ?? 1` for a bigint): the contract check accepts no column type that reaches
 *   these fallbacks (every integer, enum and set type parses, and a bigint attribute on BIT needs BIT(n > 1)).
 * - 136 ConditionalExpression (`text === null && !this.nullable` -> false) and its "" StringLiteral: a conversion
 *   returns null only for the empty set of a nullable column, whose attribute is nullable; the branch is never taken.
 * - 217 ConditionalExpression (`sqlType.base === "bit"` -> true): only BIT reaches it (integer types and YEAR
 *   return before).
 * - 365, 472, 481 ConditionalExpression (the `typeof` half of a check -> true): Number.isFinite and Set.has are
 *   false for anything but a finite number and a declared (string) member anyway.
 * - 319 ConditionalExpression (INTEGER_TEXT fast path -> false): parseDecimal reads plain integer text to the same
 *   bigint.
 * - 542 ConditionalExpression (`error instanceof JsonProblem` -> true): jsonToAttribute of a checked value throws
 *   nothing else.
 *
 * codec.ts
 * - 175, 178 ConditionalExpression (`if (table.sortKey)`, `if (index.sortKey)` -> true): reserving `undefined`
 *   reserves no name.
 * - 235 (the identity placeholders: `template === undefined ? [] : ...` mutated): an absent template adds no name,
 *   and no identity attribute is named `undefined` or "Stryker was here".
 * - 253 ConditionalExpression (`!compiled` -> true): recompiling a template gives the same pieces.
 * - 328 and 355 ConditionalExpression / LogicalOperator on `names.sort !== undefined && sort !== undefined` (and
 *   `key.sort && key.names.sort !== undefined`): compileKey guarantees both are defined or both undefined.
 *
 * collation.ts
 * - 11 ConditionalExpression (`collation !== undefined` -> true): the regex tests "undefined", which does not end in _ci.
 * - 22 Regex (`/\p{M}+/gu` -> `/\p{M}/gu`): with the g flag removing marks one by one removes the same marks.
 *
 * Surviving mutants that are not equivalent (kept in sight, not hidden):
 * - numbers.ts 73 UnaryOperator (`-(2n ** 63n)` -> `+(2n ** 63n)`): throws while the module loads, so no test file
 *   loads; Stryker's vitest runner counts a file that fails to load as no test rather than a failed one.
 * - codec.ts 187 ArrayDeclaration (`columns = ["Stryker was here"]`): reads as a column "S"; only a row with a
 *   column named "S" tells it apart.
 * - numbers.ts 83, 123 and json.ts 220: reported as surviving static mutants although tests assert the values they
 *   change (numberText(2 ** 64), negative sort keys, writeJson(true)); not explained yet.
 */
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  // Under pnpm the runner is not next to @stryker-mutator/core, so Stryker cannot find it by name.
  plugins: [fileURLToPath(import.meta.resolve("@stryker-mutator/vitest-runner"))],
  testRunner: "vitest",
  vitest: {
    // The runtime's vitest config narrowed to test/codec*.test.ts, the store round trips last (see the file).
    configFile: "stryker.vitest.config.ts",
    // The runtime's test files are named relative to the package.
    dir: "packages/runtime",
  },
  mutate: ["packages/runtime/src/codec/**/*.ts", "!packages/runtime/src/codec/index.ts"],
  coverageAnalysis: "perTest",
  // The machine is shared: each runner also starts its own MariaDB and DynamoDB Local for the store round trips.
  concurrency: 2,
  timeoutMS: 30_000,
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  // The repository's other packages, apps and benchmarks are not needed to run the codec's tests.
  ignorePatterns: ["/apps", "/bench", "/.ci", "/reports"],
  thresholds: { high: 95, low: 90, break: 90 },
};
