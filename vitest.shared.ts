import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// The AWS SDK warns that its 2027 releases need Node 22; ferry supports Node 20 today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/**
 * The vitest config every package uses: one local stack per run (see packages/stack/src/test-global-setup.ts),
 * unless the package's tests need no database (`stack: false`).
 */
export function ferryVitestConfig(options: { stack?: boolean } = {}) {
  const stack = options.stack ?? true;
  return defineConfig({
    test: {
      globalSetup: stack ? [fileURLToPath(new URL("./packages/stack/src/test-global-setup.ts", import.meta.url))] : [],
      include: ["test/**/*.test.ts"],
      // A ceiling against hangs, not a speed goal: CI's loaded 2-core machine runs the longer tests 3x slower than here.
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: "forks",
      env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    },
  });
}
