import { ferryVitestConfig } from "../vitest.shared.ts";
// The journey brings up its own private stack (its faults stop and start its servers), not the run's shared one.
export default ferryVitestConfig({ stack: false });
