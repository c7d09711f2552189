/**
 * Rows the codec could not map, kept for `ferry backfill runs`: the first `limit` of a run (default 1,000), each with
 * its primary key and the reason, stored once per key (a segment resumed after a takeover may meet a row again). Each
 * is stored in one transaction with the run's count of stored rows, conditional on the count being under the limit,
 * so the storage stays bounded whatever the number of workers. How many rows were rejected in all is counted with the
 * checkpoints (CheckpointProgress.rejected), where a row is counted once even when its segment is done twice.
 */
import { createHash } from "node:crypto";
import { type DynamoDBClient, TransactWriteItemsCommand } from "@aws-sdk/client-dynamodb";
import type { EntityValue } from "../codec/index.ts";
import { CONTROL_KEY, controlKey } from "../control/table.ts";
import { cancellationCodes } from "../dynamodb/cancellation-codes.ts";
import { decodeKey, encodeKey } from "../outbox/entry.ts";
import { REJECTED_COUNTER, REJECTED_PREFIX, readPartition, runPartition } from "./ledger-items.ts";

/** The rejected rows a run keeps, unless told otherwise. */
export const DEFAULT_REJECTED_LIMIT = 1000;

/** The longest reason kept (longer ones are cut, ending in "..."). */
const REASON_LIMIT = 1000;

/** How often a row whose transaction met another worker's is tried again. */
const CONFLICT_ATTEMPTS = 5;

/** A row the codec could not map. */
export interface RejectedRow {
  entity: string;
  /** Its primary key (the primary-key attributes). */
  key: EntityValue;
  reason: string;
  /** ISO-8601. */
  at: string;
}

/** A run's rejected rows. */
export interface RejectedRows {
  /** The rows rejected in all (counted with the checkpoints). */
  count: number;
  /** The first of them (at most `limit`), oldest first. */
  rows: RejectedRow[];
  limit: number;
}

export class RejectedRowLog {
  /** Runs whose storage was found full: no more writes for them from this process. */
  private readonly full = new Set<string>();

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: () => Promise<string>,
    private readonly now: () => number,
    readonly limit: number,
  ) {}

  /** Keeps a rejected row, unless the run keeps `limit` already or has this key's row. */
  async record(runId: string, entity: string, key: EntityValue, reason: string): Promise<void> {
    if (this.full.has(runId)) return;
    const table = await this.table();
    const encoded = encodeKey(key);
    const id = createHash("sha256").update(`${entity}\0${encoded}`).digest("hex").slice(0, 32);
    const text = reason.length > REASON_LIMIT ? `${reason.slice(0, REASON_LIMIT - 3)}...` : reason;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Put: {
                  TableName: table,
                  Item: {
                    ...controlKey({ pk: runPartition(runId), sk: `${REJECTED_PREFIX}${entity}#${id}` }),
                    entity: { S: entity },
                    key: { S: encoded },
                    reason: { S: text },
                    at: { S: new Date(this.now()).toISOString() },
                  },
                  ConditionExpression: "attribute_not_exists(#pk)",
                  ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition },
                },
              },
              {
                Update: {
                  TableName: table,
                  Key: controlKey({ pk: runPartition(runId), sk: REJECTED_COUNTER }),
                  UpdateExpression: "ADD #stored :one",
                  ConditionExpression: "attribute_not_exists(#stored) OR #stored < :limit",
                  ExpressionAttributeNames: { "#stored": "stored" },
                  ExpressionAttributeValues: { ":one": { N: "1" }, ":limit": { N: String(this.limit) } },
                },
              },
            ],
          }),
        );
        return;
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes === undefined) throw error;
        if (codes[1] === "ConditionalCheckFailed") {
          this.full.add(runId);
          return;
        }
        // The row is kept already.
        if (codes[0] === "ConditionalCheckFailed") return;
        // Another worker's row was being counted at the same moment: try again.
        if (!codes.includes("TransactionConflict") || attempt === CONFLICT_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
      }
    }
  }

  /** The rows kept for a run, oldest first (then by entity); `count` is left for the caller to fill in. */
  async rows(runId: string): Promise<RejectedRow[]> {
    const items = await readPartition(this.client, await this.table(), runId, REJECTED_PREFIX);
    return items
      .map((item) => ({
        entity: item.entity?.S ?? "",
        key: decodeKey(item.key?.S ?? "{}"),
        reason: item.reason?.S ?? "",
        at: item.at?.S ?? "",
      }))
      .sort((a, b) => a.at.localeCompare(b.at) || a.entity.localeCompare(b.entity));
  }
}
