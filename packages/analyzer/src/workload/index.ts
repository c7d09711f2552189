/**
 * The observed workload: statements from a general log file, a live capture or performance_schema,
 * normalised to digests, counted, and broken down into shapes for the analyzer.
 */
export { buildWorkload, type WorkloadEntry, type WorkloadOptions } from "./build.ts";
export { type CaptureOptions, captureGeneralLog } from "./capture.ts";
export { type DigestSummaryRow, readDigestSummary, workloadFromDigestRows } from "./digest-summary.ts";
export { readGeneralLogFile } from "./general-log.ts";
export { type NormalizedStatement, normalizeStatement } from "./normalize.ts";
export { likeOperator, type ShapeOptions, statementShape } from "./shape.ts";
