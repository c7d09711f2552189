/**
 * The backfill's bookkeeping: an entity's table split into primary-key segments (segments.ts), the runs, segment
 * leases, checkpoints and rejected rows in the control table (BackfillLedger), and a worker's share of a run
 * (worker-share.ts).
 */

export { BulkWriteFailed, BulkWriter, type BulkWriterOptions } from "./bulk-writer.ts";
export {
  BackfillError,
  BackfillNotFinished,
  BackfillRunClosed,
  BackfillRunNotFound,
  BackfillRunOpen,
  BackfillStoppedAgain,
  LeaseLost,
} from "./errors.ts";
export type { CheckpointProgress, ClaimOptions, ClaimResult, SegmentClaim } from "./leases.ts";
export {
  BackfillLedger,
  type BackfillLedgerOptions,
  type CreateRunInput,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  defaultWorkerName,
  type RunHandle,
} from "./ledger.ts";
export type {
  EntityTotals,
  Lease,
  LedgerSegment,
  RunMinute,
  RunRecord,
  RunState,
  RunStop,
  SegmentCounts,
  SegmentRecord,
} from "./ledger-items.ts";
export { type BackfillHooks, BackfillPage, type PageOutcome, type PageRejection } from "./page.ts";
export { DEFAULT_REJECTED_LIMIT, type RejectedRow, type RejectedRows } from "./rejected.ts";
export type { EntityProgress, RunReport } from "./run-report.ts";
export {
  DEFAULT_MAX_SEGMENTS,
  DEFAULT_ROWS_PER_SEGMENT,
  type EntityKey,
  entityKey,
  keyOf,
  keyRange,
  type PlannedSegment,
  type PlanSegmentsOptions,
  planSegments,
  type SegmentStatement,
  segmentRows,
} from "./segments.ts";
export {
  BackfillFailed,
  BackfillInterrupted,
  BackfillRefused,
  type BackfillResult,
  type BackfillRunOptions,
  type BackfillServices,
  backfillBlocked,
  checkRunOptions,
  DEFAULT_LEASE_MS,
  DEFAULT_PAGE_ROWS,
  type PageEvent,
  runBackfill,
} from "./worker.ts";
export {
  TOTAL_SEGMENTS_VARIABLE,
  type WorkerShare,
  WorkerShareError,
  type WorkerShareOptions,
  workerShare,
} from "./worker-share.ts";
