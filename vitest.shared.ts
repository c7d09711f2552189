import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The AWS SDK warns that its 2027 releases need Node 22; ferry supports Node 20 today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/**
 * The vitest config every package uses: one local stack per run (see packages/stack/src/test-global-setup.ts),
 * unless the package's tests need no database (`stack: false`).
 */
export function ferryVitestConfig(options: { stack?: boolean; isolate?: boolean } = {}) {
  const stack = options.stack ?? true;
  return defineConfig({
    test: {
      globalSetup: stack ? [fileURLToPath(new URL("./packages/stack/src/test-global-setup.ts", import.meta.url))] : [],
      include: ["test/**/*.test.ts"],
      // A ceiling against hangs, not a speed goal: in CI's run every package's tests and type-checks start at once on
      // two cores, and the longer tests take up to 20 times as long as alone (120 s was reached there).
      testTimeout: 300_000,
      hookTimeout: 300_000,
      pool: "forks",
      // Two files at a time (each has its own database and table prefix). Vitest's default on a 2-core machine is one,
      // which made the longest packages (62 files in runtime) a serial chain that CI's run waited for at the end.
      maxWorkers: 2,
      // A worker imports the packages once for all its files (each file still has its own database, table prefix and
      // module of its own): re-importing the AWS SDK and the runtime for every file took a third of runtime's CPU.
      isolate: options.isolate ?? false,
      env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      // expect.poll's own default is 1 s: too short for a round trip through a store (a page's form posted, a
      // heartbeat written) on CI's loaded cores, where a 60 s wait once ran out. A ceiling, not a speed goal; a poll that
      // needs less stops sooner.
      expect: { poll: { timeout: 120_000, interval: 50 } },
    },
  });
}
