export { type DriftReport, schemaDrift } from "./drift.ts";
export { type MergeResult, mergeContract } from "./merge.ts";
