import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** The vitest config every package uses: one local stack per run (see packages/stack/src/test-global-setup.ts). */
export function ferryVitestConfig() {
  return defineConfig({
    test: {
      globalSetup: [fileURLToPath(new URL("./packages/stack/src/test-global-setup.ts", import.meta.url))],
      include: ["test/**/*.test.ts"],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      pool: "forks",
      env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    },
  });
}
