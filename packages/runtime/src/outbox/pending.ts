/**
 * How many failed writes wait in the outbox for a store, for the guard rails of a phase move (PhaseStore's
 * `pendingWrites`): writes for MySQL wait in the control table, writes for DynamoDB in the app's MySQL database. The
 * CLI (`ferry phase set`) and the admin console both count them with this.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { MysqlExecutor } from "../mysql/index.ts";
import type { StoreName } from "../phases.ts";
import { DynamoOutboxStorage } from "./dynamodb-storage.ts";
import { MysqlOutboxStorage } from "./mysql-storage.ts";

export interface PendingWritesSources {
  client: DynamoDBClient;
  tablePrefix: string;
  /** The app's MySQL database, connected when first needed (a move that does not switch stores never needs it). */
  mysql: () => Promise<MysqlExecutor>;
}

/** Counts the outbox entries waiting for `target`, and the writes in flight (intents within their grace) when asked. */
export function outboxPendingWrites(
  sources: PendingWritesSources,
): (target: StoreName, counting: { inFlight: boolean }) => Promise<number> {
  return async (target, counting) => {
    const storage =
      target === "mysql"
        ? new DynamoOutboxStorage(sources.client, sources.tablePrefix)
        : new MysqlOutboxStorage(await sources.mysql());
    const { depth, inFlight } = await storage.depth(target);
    return depth + (counting.inFlight ? inFlight : 0);
  };
}
