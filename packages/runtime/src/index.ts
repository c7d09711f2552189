/**
 * @ferry/runtime: what runs under the generated repositories: the codec, phases and flag routing, dual write and
 * read, shadow compare, the outbox, the backfill's bookkeeping, the control table and the contract's tables, one
 * folder per concern (docs/architecture.md, "Where each concern lives").
 */

export type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
export * from "./backfill/index.ts";
export {
  AttributeCodec,
  type Codec,
  CodecError,
  createCodec,
  describeValue,
  ENTITY_ATTRIBUTE,
  type EntityCodec,
  type EntityValue,
  type FieldDiff,
  foldForCollation,
  type Item,
  isCaseInsensitive,
  type JsonValue,
  type KeyAttributeNames,
  mysqlTypeCast,
  NOT_IN_KEYS,
  parseJson,
  type RenderOptions,
  sortableInteger,
  type TypeCastField,
  writeJson,
} from "./codec/index.ts";
export type { Condition } from "./condition.ts";
export * from "./control/index.ts";
export * from "./dynamodb/index.ts";
export {
  AlreadyExists,
  ConditionFailed,
  CursorError,
  type ErrorValues,
  ErrorWithHint,
  NotFound,
  StoreError,
  TransactionFailed,
  TransactionRefused,
  UniqueViolation,
  WriteConflict,
  WritesSuspended,
} from "./errors.ts";
export { FailureLog } from "./failure-log.ts";
export { type FleetHealth, FleetMember, type FleetMemberOptions } from "./fleet-member.ts";
export * from "./ids/index.ts";
export * from "./metrics/index.ts";
export * from "./mysql/index.ts";
export * from "./outbox/index.ts";
export {
  FixedPhase,
  isPhase,
  otherStore,
  PHASES,
  type Phase,
  type PhaseDefinition,
  type PhaseFlags,
  type PhaseSource,
  type StoreName,
  secondaryStore,
  writeTargets,
} from "./phases.ts";
export * from "./router/index.ts";
export { keyId, type RowRead, SourceRows } from "./rows/index.ts";
export type { SecondaryFailure } from "./secondary-failure.ts";
export * from "./shadow/index.ts";
export {
  type Contract,
  contractCodec,
  createDynamoRouter,
  createMysqlRouter,
  createPhaseRouter,
  DEFAULT_PAGE_LIMIT,
  type DynamoStoreOptions,
  type MysqlStoreOptions,
  type Page,
  type PageRequest,
  pageOptions,
  type StoreOptions,
} from "./store/index.ts";
export * from "./tables/index.ts";
export {
  TransactionPlan,
  type TransactionResult,
  type TransactionWrite,
} from "./transactions/plan.ts";
export * from "./validation/index.ts";
