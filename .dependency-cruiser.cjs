/**
 * ferry's import rules, checked by `pnpm deps` (part of `pnpm test`) with dependency-cruiser.
 *
 * The layers, bottom up:
 *   contract, stack               depend on no other ferry package
 *   analyzer, codegen, runtime    on the contract (and the stack; codegen also on runtime's public entry)
 *   cli                           on everything below it
 *   generated packages            on @ferry/runtime's public entry only
 *   apps                          on generated packages, @ferry/runtime's public entry and @ferry/stack
 * apps/store/src/legacy (the store's pre-migration MySQL database: schema, seed, synthetic data) stands apart: it
 * depends on @ferry/stack only, and the CLI, tests and benchmarks reach it through the @ferry/store entry.
 *
 * Paths here are where an import lands on disk: `@ferry/stack` is packages/stack/src/index.ts (pnpm links the
 * workspace, and packages are resolved through their package.json `exports`, so an import of a file a package does
 * not export cannot be resolved and breaks `not-to-unresolvable`).
 */

/** Every ferry package's folder; the benchmarks are a package too (@ferry/bench). */
const FERRY = "^(packages|apps|bench|journey)/";

/** The generated packages: ferry's output, committed. */
const GENERATED = "^(packages/store-data|packages/codegen/test/generated/[^/]+)/";

/** @ferry/runtime's public entry: what generated code and apps are written against. */
const RUNTIME_ENTRY = "^packages/runtime/src/index\\.ts$";

/** @ferry/runtime/testing: what tests built on the runtime share (a settable phase, a file's stores over a contract). */
const RUNTIME_TESTING = "^packages/runtime/src/testing/";

/** A package's tests, test fixtures and config files: everything in it but src/. */
const notSrc = (pkg) => `^${pkg}/(?!src/)`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment:
        "A cycle means no module in it can be understood, tested or loaded on its own, and ESM may evaluate one " +
        "of them half-initialised. Cut it where the shared piece belongs (a type in a module of its own; a " +
        "sibling's file instead of the folder's index.ts barrel).",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "not-to-unresolvable",
      comment:
        "An import that does not resolve fails at run time. Across packages it is also how a deep import shows: a " +
        "package is reached only through its package.json `exports` (`@ferry/stack/testing`, never " +
        "`@ferry/stack/src/...`), and the importing package must list it in its own package.json.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "no-relative-cross-package",
      comment:
        "A relative path into another package (`../../codegen/src/...`) skips its package.json: its `exports` (the " +
        "public entry) and the dependency the importer must declare. Import the other package by its name. The one " +
        "exception is the shared vitest config at the repository root, which every package's vitest.config.ts uses.",
      severity: "error",
      from: { path: "^(packages/[^/]+|apps/[^/]+|bench|journey)/" },
      to: { dependencyTypes: ["local"], pathNot: ["^$1/", "^vitest\\.shared\\.ts$"] },
    },
    {
      name: "contract-imports-no-ferry-package",
      comment: "The contract is the model every other package is written against: it depends on none of them.",
      severity: "error",
      from: { path: "^packages/contract/" },
      to: { path: FERRY, pathNot: "^packages/contract/" },
    },
    {
      name: "stack-imports-no-ferry-package",
      comment:
        "The local stack (MariaDB + DynamoDB Local) is the base of development, tests and CI for every package, so " +
        "it depends on none of them.",
      severity: "error",
      from: { path: "^packages/stack/" },
      to: { path: FERRY, pathNot: "^packages/stack/" },
    },
    {
      name: "analyzer-src-on-contract-and-stack",
      comment: "The analyzer reads MySQL (through the stack's connections) and writes a contract: nothing else.",
      severity: "error",
      from: { path: "^packages/analyzer/src/" },
      to: { path: FERRY, pathNot: "^packages/(analyzer|contract|stack)/" },
    },
    {
      name: "analyzer-tests-on-contract-stack-and-legacy-store",
      comment:
        "The analyzer's tests may also seed the store's legacy database (@ferry/store) to have a real schema to read.",
      severity: "error",
      from: { path: notSrc("packages/analyzer") },
      to: { path: FERRY, pathNot: ["^packages/(analyzer|contract|stack)/", "^apps/store/(src|db)/"] },
    },
    {
      name: "codegen-src-on-contract-runtime-entry-and-stack",
      comment:
        "Code generation turns a contract into code written against @ferry/runtime's public entry; it may use that " +
        "entry and the stack, and nothing above it (the CLI) or beside it (the analyzer).",
      severity: "error",
      from: { path: "^packages/codegen/src/" },
      to: { path: FERRY, pathNot: ["^packages/(codegen|contract|stack)/", RUNTIME_ENTRY] },
    },
    {
      name: "codegen-tests-on-their-layers-generated-code-and-legacy-store",
      comment:
        "The codegen tests also run what it generated (@ferry/store-data, test/generated/*) against the store's " +
        "legacy database (@ferry/store). test/generated/* is codegen's own output for its tests: codegen's tests " +
        "import it by path like any of their fixtures.",
      severity: "error",
      from: { path: notSrc("packages/codegen"), pathNot: GENERATED },
      to: {
        path: FERRY,
        pathNot: [
          "^packages/(codegen|contract|stack|store-data)/",
          RUNTIME_ENTRY,
          RUNTIME_TESTING,
          "^apps/store/(src|db)/",
        ],
      },
    },
    {
      name: "runtime-src-on-contract-only",
      comment:
        "The runtime is what generated code and apps run on, in production: it knows the contract and nothing else " +
        "of ferry (no codegen, analyzer, CLI, local stack or app).",
      severity: "error",
      from: { path: "^packages/runtime/src/", pathNot: RUNTIME_TESTING },
      to: { path: FERRY, pathNot: "^packages/(runtime|contract)/" },
    },
    {
      name: "runtime-testing-on-contract-and-stack",
      comment:
        "@ferry/runtime/testing is test support, loaded by tests only: besides the runtime and the contract it may use " +
        "the test stack (@ferry/stack/testing), never codegen, the analyzer, the CLI or an app.",
      severity: "error",
      from: { path: RUNTIME_TESTING },
      to: { path: FERRY, pathNot: "^packages/(runtime|contract|stack)/" },
    },
    {
      name: "runtime-tests-never-on-codegen-or-analyzer",
      comment:
        "The runtime's tests may also run on the local stack (@ferry/stack, @ferry/stack/testing) with the store's " +
        "legacy database as a fixture (@ferry/store), but never on codegen or the analyzer: the runtime must be " +
        "testable on its own, and what it needs of them (table definitions) belongs in the runtime.",
      severity: "error",
      from: { path: notSrc("packages/runtime") },
      to: { path: FERRY, pathNot: ["^packages/(runtime|contract|stack)/", "^apps/store/(src|db)/"] },
    },
    {
      name: "cli-on-everything-below-it",
      comment:
        "The CLI drives the analyzer, codegen, the runtime and the stack, and seeds the store's legacy database " +
        "(@ferry/store). Nothing depends on the CLI but its user (a generated package's staleness check runs its " +
        "bin as a program, not as an import).",
      severity: "error",
      from: { path: "^packages/cli/src/" },
      to: {
        path: FERRY,
        pathNot: ["^packages/(cli|contract|analyzer|codegen|runtime|stack)/", "^apps/store/(src|db)/"],
      },
    },
    {
      name: "cli-tests-also-on-generated-store-data",
      comment: "The CLI's tests may also use the generated @ferry/store-data, as an application would.",
      severity: "error",
      from: { path: notSrc("packages/cli") },
      to: {
        path: FERRY,
        pathNot: ["^packages/(cli|contract|analyzer|codegen|runtime|stack|store-data)/", "^apps/store/(src|db)/"],
      },
    },
    {
      name: "generated-only-on-runtime-entry",
      comment:
        "Generated packages are written against @ferry/runtime's public entry and nothing else, so that the runtime " +
        "can change inside without regenerating every application's code, and the code can be read on its own.",
      severity: "error",
      from: { path: GENERATED },
      to: { pathNot: ["^$1/", RUNTIME_ENTRY] },
    },
    {
      name: "apps-on-generated-runtime-entry-and-stack",
      comment:
        "An application uses its generated data package, @ferry/runtime's public entry and the local stack: it " +
        "never imports the contract, the analyzer, codegen, the CLI or another application.",
      severity: "error",
      from: { path: "^(apps/[^/]+)/", pathNot: ["^apps/store/src/legacy/", "^apps/store/web/", "^apps/admin/test/"] },
      to: { path: FERRY, pathNot: ["^$1/", "^packages/(store-data|stack)/", RUNTIME_ENTRY] },
    },
    {
      name: "admin-tests-on-the-console-and-the-store-seed",
      comment:
        "The console's tests drive it (apps/admin) over the generated store, and seed the store's legacy database " +
        "through its entry (@ferry/store), as `pnpm start` does.",
      severity: "error",
      from: { path: "^apps/admin/test/" },
      to: {
        path: FERRY,
        pathNot: ["^apps/admin/", "^packages/(store-data|stack)/", RUNTIME_ENTRY, "^apps/store/src/index\\.ts$"],
      },
    },
    {
      name: "store-web-on-generated-runtime-entry-stack-and-passwords",
      comment:
        "The store's web app (apps/store/web, @ferry/store-web) runs on the generated @ferry/store-data and " +
        "@ferry/runtime's public entry (its fleet member), with no SQL, no AWS SDK call and no phase logic of its " +
        "own. From the legacy store (@ferry/store) it takes only the entry, for the password hash format the seed " +
        "writes.",
      severity: "error",
      from: { path: "^apps/store/web/src/" },
      to: {
        path: FERRY,
        pathNot: [
          "^apps/store/web/src/",
          "^packages/(store-data|stack)/",
          RUNTIME_ENTRY,
          "^apps/store/src/index\\.ts$",
          "^apps/admin/src/index\\.ts$",
        ],
      },
    },
    {
      name: "only-the-launcher-starts-the-console",
      comment:
        "`pnpm start` (apps/store/web/src/main.ts) runs the admin console beside the store; nothing else in the " +
        "store imports the console.",
      severity: "error",
      from: { path: "^apps/store/web/", pathNot: ["^apps/store/web/src/main\\.ts$"] },
      to: { path: "^apps/admin/" },
    },
    {
      name: "store-web-tests-also-on-the-seed-and-the-stack",
      comment:
        "The web app's tests prepare what a running store has: the legacy database seeded (@ferry/store), the " +
        "contract's tables and the backfill (@ferry/runtime's entry), the test stack (@ferry/stack/testing).",
      severity: "error",
      from: { path: notSrc("apps/store/web") },
      to: {
        path: FERRY,
        pathNot: [
          "^apps/store/web/",
          "^packages/(store-data|stack)/",
          RUNTIME_ENTRY,
          "^apps/store/src/index\\.ts$",
          "^vitest\\.shared\\.ts$",
        ],
      },
    },
    {
      name: "store-web-no-sql-or-aws-sdk",
      comment:
        "The store's data layer is the generated package and nothing else: no mysql2 and no AWS SDK in the web app.",
      severity: "error",
      from: { path: "^apps/store/web/src/" },
      to: { path: "(^|/)node_modules/(mysql2|@aws-sdk/)" },
    },
    {
      name: "legacy-store-on-stack-only",
      comment:
        "apps/store/src/legacy is the store's database before the migration (schema, seed, synthetic data): it " +
        "knows nothing of ferry but the local stack, so it stays what a team would have before adopting ferry.",
      severity: "error",
      from: { path: "^apps/store/src/legacy/" },
      to: { path: FERRY, pathNot: ["^apps/store/src/legacy/", "^packages/stack/"] },
    },
  ],
  options: {
    // Sources, tests, benchmarks and config files (vitest.config.ts, vitest.shared.ts); `pnpm deps` names the roots.
    exclude: { path: ["^bench/results/"] },
    doNotFollow: { path: "(^|/)node_modules/" },
    // Type-only imports count: a cycle tied by a type is still a cycle to read and to cut.
    tsPreCompilationDeps: true,
    // allowImportingTsExtensions: imports name `.ts` files.
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      // Resolve workspace packages through their package.json `exports`, as Node does.
      exportsFields: ["exports"],
      conditionNames: ["import", "node", "default", "types"],
      extensions: [".ts", ".js", ".mjs", ".cjs", ".json", ".d.ts"],
      mainFields: ["module", "main", "types", "typings"],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
