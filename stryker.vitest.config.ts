/**
 * The vitest config `pnpm mutation` runs (stryker.config.mjs): the runtime's own config, narrowed to the codec's test
 * files, with the store round trips (which set up MariaDB and DynamoDB Local tables for each run) ordered after the
 * pure tests, so that a mutant the pure tests kill is done with before the slow file starts (Stryker stops at the
 * first failure).
 *
 * The test files are chosen here, not with Stryker's `testFiles` option: with that option StrykerJS 9.6 activates a
 * static mutant (one in module-level code, such as a regex constant) only after the module has loaded, so it is
 * reported as surviving whatever the tests do (stryker-js issue 6144).
 */
import { defineConfig } from "vitest/config";
import type { TestSpecification } from "vitest/node";
import { BaseSequencer } from "vitest/node";
import { ferryVitestConfig } from "./vitest.shared.ts";

class StoresLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const slow = (file: TestSpecification) => file.moduleId.endsWith("-stores.test.ts");
    return [...sorted.filter((file) => !slow(file)), ...sorted.filter(slow)];
  }
}

const runtime = ferryVitestConfig();

export default defineConfig({
  ...runtime,
  test: { ...runtime.test, include: ["test/codec*.test.ts"], sequence: { sequencer: StoresLast } },
});
