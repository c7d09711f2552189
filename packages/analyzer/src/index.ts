/**
 * @ferry/analyzer: live MySQL (schema facts + observed query workload) -> a draft contract.
 * Nothing downstream reads MySQL's schema again; the contract carries what they need.
 */
export {
  type Analysis,
  type AnalyzeInput,
  analyze,
  combineWorkloads,
  contractText,
  readWorkloadFile,
  schemaPathFor,
} from "./analyze.ts";
export * from "./facts/index.ts";
export type * from "./facts/types.ts";
export * from "./merge/index.ts";
export * from "./propose/index.ts";
export * from "./workload/index.ts";
export type * from "./workload/types.ts";
