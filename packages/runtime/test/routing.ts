/**
 * What one test of the router needs, made afresh for each test: its own phase, its own record of failed secondary
 * writes, and routers over its file's stores that follow that phase. Nothing of it outlives the test, so a test
 * passes alone (`it.only`) or in any order.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { TestStack } from "@ferry/stack/testing";
import { DynamoEntityStore } from "../src/dynamodb/index.ts";
import { IdAllocator } from "../src/ids/index.ts";
import type { Metrics } from "../src/metrics/index.ts";
import { MysqlEntityStore, type MysqlExecutor } from "../src/mysql/index.ts";
import type { Phase, PhaseSource } from "../src/phases.ts";
import { EntityRouter } from "../src/router/index.ts";
import type { SecondaryFailure } from "../src/secondary-failure.ts";
import type { ShadowReader } from "../src/shadow/index.ts";
import { type ContractStores, SettablePhase } from "../src/testing/index.ts";

/** What a test may put in place of the file's own for one router. */
export interface RouterParts {
  /** Another phase source than the test's own. */
  phase?: PhaseSource;
  /** Another MySQL connection than the file's. */
  mysql?: MysqlExecutor;
  /** Another DynamoDB client than the file's. */
  dynamodb?: DynamoDBClient;
  /** Another table prefix than the file's (e.g. one whose tables do not exist). */
  tablePrefix?: string;
  metrics?: Metrics;
  shadow?: ShadowReader;
  /** Puts something around the router's DynamoDB store (a fault: a method that fails or waits). */
  wrapDynamo?: (store: DynamoEntityStore) => DynamoEntityStore;
}

export interface Routing {
  /** The test's phase: every router of this routing follows it at once. */
  phase: SettablePhase;
  /** The failed secondary writes the test's routers handed over, in order. */
  failures: SecondaryFailure[];
  /** A router over the file's stores (ids from the control table's counter when DynamoDB is authoritative). */
  router(parts?: RouterParts): EntityRouter;
}

/** `routing(start)` gives a test its own Routing, starting in phase `start`. */
export function routingOver(stack: TestStack, testbed: ContractStores): (start: Phase) => Routing {
  return (start) => {
    const phase = new SettablePhase(start);
    const failures: SecondaryFailure[] = [];
    const router = (parts: RouterParts = {}) => {
      const codec = testbed.codec();
      return new EntityRouter({
        phase: parts.phase ?? phase,
        codec,
        mysql: new MysqlEntityStore(parts.mysql ?? testbed.connection(), codec),
        dynamodb: (parts.wrapDynamo ?? ((store) => store))(
          new DynamoEntityStore(parts.dynamodb ?? stack.dynamodb(), codec, {
            tablePrefix: parts.tablePrefix ?? stack.tablePrefix,
          }),
        ),
        ids: new IdAllocator(stack.dynamodb(), { tablePrefix: stack.tablePrefix }),
        onSecondaryFailure: (failure) => failures.push(failure),
        ...(parts.metrics ? { metrics: parts.metrics } : {}),
        ...(parts.shadow ? { shadow: parts.shadow } : {}),
      });
    };
    return { phase, failures, router };
  };
}
