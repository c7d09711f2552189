/** The durable outbox: failed secondary writes, stored beside the authoritative store and replayed by key. */

export { type DrainNowOptions, type DrainNowResult, drainNow, type RefreshablePhase } from "./drain-now.ts";
export { DynamoOutboxStorage, OUTBOX_SEQUENCE_KEY, OUTBOX_SHARDS } from "./dynamodb-storage.ts";
export { decodeKey, encodeKey, entriesOf, type NewOutboxEntry, type OutboxEntry } from "./entry.ts";
export { MysqlOutboxStorage, OUTBOX_TABLE } from "./mysql-storage.ts";
export {
  type DrainOptions,
  type DrainResult,
  Outbox,
  type OutboxMetrics,
  type OutboxOptions,
  type OutboxTargetMetrics,
  OutboxUnavailable,
} from "./outbox.ts";
export { outboxPendingWrites, type PendingWritesSources } from "./pending.ts";
export type { HeadOptions, OutboxDepth, OutboxStorage, Postponement } from "./storage.ts";
export {
  type ResolveOptions,
  type ResolveResult,
  type StrandedKey,
  StrandedKeyWaits,
} from "./stranded.ts";
export { isPermanent, KeySync, RESOLUTIONS, type SyncOutcome, UniqueHeld } from "./sync.ts";
