/** What a generated store runs on: the options of its createStore(), createMysqlStore() and createDynamoStore(). */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Metrics } from "../metrics/index.ts";
import type { MysqlExecutor } from "../mysql/index.ts";
import type { WriteIntents } from "../outbox/intents.ts";
import type { PhaseSource } from "../phases.ts";
import type { BackgroundCopies } from "../router/background.ts";
import type { SecondaryFailure } from "../secondary-failure.ts";
import type { ShadowReader } from "../shadow/index.ts";

/**
 * The options of a generated createStore(): both stores, routed by the migration phase. A FleetMember's
 * storeOptions has them all.
 */
export interface StoreOptions {
  /** Where the current migration phase comes from (a FleetMember's CachedPhase, or a FixedPhase). */
  phase: PhaseSource;
  /** A MySQL connection or pool (from connectMysql or createMysqlPool). */
  mysql: MysqlExecutor;
  dynamodb: DynamoDBClient;
  /** Put before every DynamoDB table name (FERRY_TABLE_PREFIX); default none. */
  tablePrefix?: string;
  /**
   * Receives every write the non-authoritative store refused, to be replayed: an Outbox's `record`. A returned
   * promise is awaited before the call answers.
   */
  onSecondaryFailure: (failure: SecondaryFailure) => unknown;
  /**
   * Records each write's outbox entry with its authoritative write (an Outbox's `intents`), so that a process killed
   * between its two writes leaves a trace; without them only the copies that failed are recorded.
   */
  intents?: WriteIntents;
  /** Times every store call (mount its Prometheus text at /metrics). */
  metrics?: Metrics;
  /** Phase 3's shadow reads; without them phase 3 reads like phase 2. */
  shadow?: ShadowReader;
  /**
   * Lets a dual write answer before its copy to the other store has landed, the copy covered by its intent (needs
   * `intents`): a FleetMember's `copies`. Without it every write answers after its copy.
   */
  background?: BackgroundCopies;
}

/** The options of a generated createMysqlStore(): MySQL alone. */
export type MysqlStoreOptions = Pick<StoreOptions, "mysql">;

/** The options of a generated createDynamoStore(): DynamoDB alone. */
export type DynamoStoreOptions = Pick<StoreOptions, "dynamodb" | "tablePrefix">;
