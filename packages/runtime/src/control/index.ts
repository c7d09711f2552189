/**
 * The control table and what lives in it: the shared phase (PhaseStore) with its guard rails and audit log, the
 * fleet's heartbeats and each process's cached phase, and the records the guard rails read.
 */

export {
  PHASE_AUDIT_PARTITION,
  type PhaseAuditEntry,
  type PhaseChangeKind,
  type PhaseHistoryPage,
} from "./audit-log.ts";
export {
  AUDIT_KINDS,
  AUDIT_TRAIL_PARTITION,
  type AuditKind,
  AuditTrail,
  type AuditTrailEntry,
  type AuditTrailPage,
  type AuditTrailQuery,
  isAuditKind,
} from "./audit-trail.ts";
export {
  BACKFILL_STATUS_KEY,
  type BackfillStatus,
  readBackfillStatus,
  recordBackfillStatus,
} from "./backfill-status.ts";
export { CachedPhase, type CachedPhaseOptions, type CachedPhaseState } from "./cached-phase.ts";
export { CONTROL_REQUEST_TIMEOUT_MS, controlClientFor } from "./control-client.ts";
export type { Precondition } from "./guard-rails.ts";
export {
  DEFAULT_HEARTBEAT_TTL_SECONDS,
  DEFAULT_LEASE_MARGIN_MS,
  DEFAULT_REFRESH_MS,
  DEFAULT_STALE_AFTER_MS,
  DEFAULT_WRITE_LEASE_MS,
  type FleetInstance,
  type FleetOptions,
  type FleetView,
  type Heartbeat,
  INSTANCE_PARTITION,
  type SilentInstance,
} from "./heartbeats.ts";
export {
  isOperatorRole,
  MAX_OPERATOR_PASSWORD,
  MIN_OPERATOR_PASSWORD,
  OPERATOR_NAME,
  OPERATOR_PARTITION,
  OPERATOR_ROLES,
  type Operator,
  OperatorAccountError,
  type OperatorRole,
  OperatorStore,
  type OperatorStoreOptions,
  operatorNameProblem,
  operatorPasswordProblem,
} from "./operators.ts";
export {
  InvalidPhaseSettings,
  PhaseChangeRefused,
  PhaseConflict,
  PhaseControlError,
  PhaseMoveTimedOut,
  type RefusalRule,
} from "./phase-errors.ts";
export { PHASE_ITEM_KEY } from "./phase-item.ts";
export { DEFAULT_MOVE_WAIT_MS, type MoveProgress, movesAuthority } from "./phase-move.ts";
export { DEFAULT_PHASE_SETTINGS, type PendingMove, type PhaseSettings, type PhaseState } from "./phase-state.ts";
export {
  type PhaseChangeOptions,
  type PhaseSettingsOptions,
  PhaseStore,
  type PhaseStoreOptions,
} from "./phase-store.ts";
export { SECRET_PARTITION, sharedSecret } from "./secrets.ts";
export {
  addShadowCounts,
  addShadowMinute,
  readShadowCounts,
  readShadowMinutes,
  SHADOW_COUNTERS_KEY,
  SHADOW_MINUTES_PARTITION,
  type ShadowCounts,
  type ShadowCountsAdded,
  type ShadowMinute,
  shadowMinute,
} from "./shadow-counts.ts";
export {
  CONTROL_KEY,
  CONTROL_TABLE,
  CONTROL_TTL_ATTRIBUTE,
  ControlCursorError,
  type ControlKey,
  controlKey,
  controlTableName,
  ensureControlTable,
} from "./table.ts";
export { readValidation, recordValidation, VALIDATION_KEY, type ValidationResult } from "./validation-result.ts";
