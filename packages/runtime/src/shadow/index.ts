/** Shadow reads (phase 3): the other store read concurrently within a budget, compared, mismatches persisted. */

export { currentCorrelationId, requestAnswered, shadowReadsAfter, withCorrelationId } from "./correlation.ts";
export {
  diffValues,
  ITEM_FIELD,
  identityOf,
  MAX_VALUE_CHARS,
  type Mismatch,
  type MismatchField,
  type MismatchSink,
  normalizeKey,
  shownMismatch,
} from "./mismatch.ts";
export {
  DEFAULT_MISMATCH_TTL_SECONDS,
  MISMATCH_PARTITION,
  type MismatchListOptions,
  MismatchLog,
  MismatchLogError,
  type MismatchLogOptions,
  type MismatchPage,
} from "./mismatch-log.ts";
export {
  DEFAULT_COUNTS_FLUSH_MS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_SHADOW_BUDGET_MS,
  ShadowBudgetExceeded,
  type ShadowErrorContext,
  type ShadowPageInput,
  ShadowReader,
  type ShadowReaderOptions,
  type ShadowReadInput,
} from "./reader.ts";
