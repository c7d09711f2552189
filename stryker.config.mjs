// @ts-check
/**
 * Mutation testing of the codec (`pnpm mutation`; not part of `pnpm test`: it takes minutes). Every value passes
 * through the codec, so its tests (test/codec*.test.ts, the store round trips included) must fail for any change
 * that changes a value. Reports: reports/mutation/ (not in git).
 */
import { fileURLToPath } from "node:url";

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
