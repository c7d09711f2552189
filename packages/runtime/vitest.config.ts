import { ferryVitestConfig } from "../../vitest.shared.ts";

// The codec's round-trip tests use the local stack (MariaDB + DynamoDB Local).
export default ferryVitestConfig();
