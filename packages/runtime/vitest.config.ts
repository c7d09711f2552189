import { ferryVitestConfig } from "../../vitest.shared.ts";

// The codec's round-trip tests use the local stack (MariaDB + DynamoDB Local).
// Each file in a process of its own: its tests leave components running whose timers write later (a shadow reader's
// counts flush a minute on), which in a shared worker created control tables after the file had removed its own.
export default ferryVitestConfig({ isolate: true });
