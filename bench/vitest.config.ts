import { ferryVitestConfig } from "../vitest.shared.ts";
export default ferryVitestConfig({ stack: false });
