import { ferryVitestConfig } from "../../vitest.shared.ts";

// The contract is files and rules: no database needed.
export default ferryVitestConfig({ stack: false });
