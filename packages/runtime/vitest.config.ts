import { ferryVitestConfig } from "../../vitest.shared.ts";

// Pure logic so far: no local stack needed.
export default ferryVitestConfig({ stack: false });
