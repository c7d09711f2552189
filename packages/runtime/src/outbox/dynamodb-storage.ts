/**
 * Outbox entries in ferry's DynamoDB control table: where the writes MySQL missed are kept while DynamoDB is
 * authoritative (phase 4).
 *
 * | pk                         | sk                  | what                                                     |
 * |----------------------------|---------------------|----------------------------------------------------------|
 * | `OUTBOX#SEQUENCE`          | `COUNTER`           | `last` (N): the last sequence number handed out          |
 * | `OUTBOX#<target>#<shard>`  | seq, 20 digits      | one entry (shard = its key's hash mod OUTBOX_SHARDS)     |
 *
 * Sequence numbers come from one counter, a block per append (one UpdateItem ADD), so they ascend across the fleet in
 * the order entries were stored. Entries are spread over OUTBOX_SHARDS partitions (a fixed number, so that every
 * process reads all of them) to stay under one partition's write rate while MySQL is down under full traffic; all
 * entries of one key are in one shard, in sequence order.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { CONTROL_KEY, controlKey, ensureControlTable } from "../control/table.ts";
import type { StoreName } from "../phases.ts";
import { decodeKey, encodeKey, type NewOutboxEntry, type OutboxEntry } from "./entry.ts";
import type { HeadOptions, OutboxDepth, OutboxStorage, Postponement } from "./storage.ts";

type Item = Record<string, AttributeValue>;

/** The partitions entries are spread over, per target store. Never change it while entries wait. */
export const OUTBOX_SHARDS = 8;

/** The key of the sequence counter item. */
export const OUTBOX_SEQUENCE_KEY = { pk: "OUTBOX#SEQUENCE", sk: "COUNTER" } as const;

/** BatchWriteItem's limit. */
const BATCH = 25;

export class DynamoOutboxStorage implements OutboxStorage {
  readonly description: string;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tablePrefix: string,
  ) {
    this.description = `DynamoDB control table (${tablePrefix}ferry_control, pk OUTBOX#…)`;
  }

  /** The partition key of a target's shard. */
  static partition(target: StoreName, shard: number): string {
    return `OUTBOX#${target}#${shard}`;
  }

  async append(entries: readonly NewOutboxEntry[]): Promise<bigint[]> {
    if (entries.length === 0) return [];
    const table = await ensureControlTable(this.client, this.tablePrefix);
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: controlKey(OUTBOX_SEQUENCE_KEY),
        UpdateExpression: "ADD #last :count",
        ExpressionAttributeNames: { "#last": "last" },
        ExpressionAttributeValues: { ":count": { N: String(entries.length) } },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    const last = BigInt(out.Attributes?.last?.N ?? String(entries.length));
    const first = last - BigInt(entries.length) + 1n;
    const puts: WriteRequest[] = entries.map((entry, index) => {
      const seq = first + BigInt(index);
      const item: Item = {
        ...controlKey({ pk: DynamoOutboxStorage.partition(entry.target, shardOf(entry.keyId)), sk: sortKey(seq) }),
        seq: { N: seq.toString() },
        target: { S: entry.target },
        entity: { S: entry.entity },
        keyId: { S: entry.keyId },
        key: { S: encodeKey(entry.key) },
        operation: { S: entry.operation },
        attempts: { N: "0" },
        nextAttemptAt: { N: String(entry.notBefore ?? entry.createdAt) },
        createdAt: { N: String(entry.createdAt) },
      };
      if (entry.movedFrom !== undefined) item.movedFrom = { S: encodeKey(entry.movedFrom) };
      return { PutRequest: { Item: item } };
    });
    await this.batchWrite(table, puts);
    return entries.map((_, index) => first + BigInt(index));
  }

  /**
   * With `dueBy`, each shard is read in sequence order with a filter on `nextAttemptAt`, page after page until `max`
   * due entries are found or the shard ends: entries backing off are read past (and paid for), never returned.
   */
  async head(target: StoreName, max: number, options: HeadOptions = {}): Promise<OutboxEntry[]> {
    const filter =
      options.dueBy === undefined
        ? undefined
        : {
            expression: "#next <= :due",
            names: { "#next": "nextAttemptAt" },
            values: { ":due": { N: String(options.dueBy) } },
          };
    return this.read(target, max, filter, options.afterSeq);
  }

  async holdsKey(target: StoreName, keyId: string): Promise<boolean> {
    const table = await ensureControlTable(this.client, this.tablePrefix);
    let start: Item | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "#pk = :pk",
          FilterExpression: "#key = :key",
          ProjectionExpression: "#pk",
          ExpressionAttributeNames: { "#pk": CONTROL_KEY.partition, "#key": "keyId" },
          ExpressionAttributeValues: {
            ":pk": { S: DynamoOutboxStorage.partition(target, shardOf(keyId)) },
            ":key": { S: keyId },
          },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      if ((out.Items?.length ?? 0) > 0) return true;
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return false;
  }

  async stuck(target: StoreName, max: number): Promise<OutboxEntry[]> {
    return this.read(target, max, {
      expression: "attribute_exists(#stuck)",
      names: { "#stuck": "stuckSince" },
      values: {},
    });
  }

  /** Up to `max` entries of every shard that pass `filter`, merged in sequence order. */
  private async read(target: StoreName, max: number, filter?: Filter, afterSeq?: bigint): Promise<OutboxEntry[]> {
    const table = await ensureControlTable(this.client, this.tablePrefix);
    const shards = await Promise.all(
      Array.from({ length: OUTBOX_SHARDS }, async (_, shard) => {
        const entries: OutboxEntry[] = [];
        const names: Record<string, string> = { "#pk": CONTROL_KEY.partition, ...filter?.names };
        const values: Item = { ":pk": { S: DynamoOutboxStorage.partition(target, shard) }, ...filter?.values };
        let condition = "#pk = :pk";
        if (afterSeq !== undefined) {
          names["#sk"] = CONTROL_KEY.sort;
          values[":after"] = { S: sortKey(afterSeq) };
          condition += " AND #sk > :after";
        }
        let start: Item | undefined;
        do {
          const out = await this.client.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: condition,
              ...(filter ? { FilterExpression: filter.expression } : {}),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
              ConsistentRead: true,
              Limit: max,
              ExclusiveStartKey: start,
            }),
          );
          for (const item of out.Items ?? []) entries.push(toEntry(item));
          start = out.LastEvaluatedKey;
        } while (start !== undefined && entries.length < max);
        return entries;
      }),
    );
    return shards
      .flat()
      .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
      .slice(0, max);
  }

  async remove(entries: readonly OutboxEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const table = await ensureControlTable(this.client, this.tablePrefix);
    await this.batchWrite(
      table,
      entries.map((entry) => ({ DeleteRequest: { Key: entryKey(entry) } })),
    );
  }

  async postpone(entries: readonly OutboxEntry[], postponement: Postponement): Promise<void> {
    const { nextAttemptAt, lastError, stuckAt } = postponement;
    const table = await ensureControlTable(this.client, this.tablePrefix);
    await Promise.all(
      entries.map(async (entry) => {
        try {
          await this.client.send(
            new UpdateItemCommand({
              TableName: table,
              Key: entryKey(entry),
              UpdateExpression:
                stuckAt === undefined
                  ? "SET #next = :next, #error = :error REMOVE #stuck ADD #attempts :one"
                  : "SET #next = :next, #error = :error, #stuck = if_not_exists(#stuck, :stuck) ADD #attempts :one",
              ConditionExpression: "attribute_exists(#pk)",
              ExpressionAttributeNames: {
                "#pk": CONTROL_KEY.partition,
                "#next": "nextAttemptAt",
                "#error": "lastError",
                "#attempts": "attempts",
                "#stuck": "stuckSince",
              },
              ExpressionAttributeValues: {
                ":next": { N: String(nextAttemptAt) },
                ":error": { S: lastError },
                ":one": { N: "1" },
                ...(stuckAt === undefined ? {} : { ":stuck": { N: String(stuckAt) } }),
              },
            }),
          );
        } catch (error) {
          // Removed meanwhile (another process synced the key): nothing to postpone.
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }),
    );
  }

  async depth(target: StoreName, now: number = Date.now()): Promise<OutboxDepth> {
    const table = await ensureControlTable(this.client, this.tablePrefix);
    const shards = await Promise.all(
      Array.from({ length: OUTBOX_SHARDS }, async (_, shard) => {
        let count = 0;
        let inFlight = 0;
        let stuck = 0;
        let oldest: number | undefined;
        let start: Item | undefined;
        do {
          const page = await this.client.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: "#pk = :pk",
              ProjectionExpression: "#created, #attempts, #next, #stuck",
              ExpressionAttributeNames: {
                "#pk": CONTROL_KEY.partition,
                "#created": "createdAt",
                "#attempts": "attempts",
                "#next": "nextAttemptAt",
                "#stuck": "stuckSince",
              },
              ExpressionAttributeValues: { ":pk": { S: DynamoOutboxStorage.partition(target, shard) } },
              ConsistentRead: true,
              ExclusiveStartKey: start,
            }),
          );
          for (const item of page.Items ?? []) {
            // In flight: a write intent never tried and not yet due (see intents.ts).
            if (item.attempts?.N === "0" && Number(item.nextAttemptAt?.N ?? 0) > now) {
              inFlight++;
              continue;
            }
            count++;
            if (item.stuckSince !== undefined) stuck++;
            const created = Number(item.createdAt?.N ?? Number.NaN);
            if (!Number.isNaN(created) && (oldest === undefined || created < oldest)) oldest = created;
          }
          start = page.LastEvaluatedKey;
        } while (start !== undefined);
        return { count, inFlight, stuck, oldest };
      }),
    );
    const oldest = shards.flatMap((shard) => (shard.oldest === undefined ? [] : [shard.oldest]));
    return {
      depth: shards.reduce((sum, shard) => sum + shard.count, 0),
      inFlight: shards.reduce((sum, shard) => sum + shard.inFlight, 0),
      stuck: shards.reduce((sum, shard) => sum + shard.stuck, 0),
      oldestCreatedAt: oldest.length === 0 ? undefined : Math.min(...oldest),
    };
  }

  /** BatchWriteItem in chunks, sending unprocessed items again (with a short pause) until all are written. */
  private async batchWrite(table: string, requests: WriteRequest[]): Promise<void> {
    for (let start = 0; start < requests.length; start += BATCH) {
      let pending = requests.slice(start, start + BATCH);
      for (let round = 0; pending.length > 0; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** round, 2_000)));
        if (round > 10) throw new Error(`${table}: DynamoDB left ${pending.length} outbox writes unprocessed`);
        const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = out.UnprocessedItems?.[table] ?? [];
      }
    }
  }
}

/** A filter on the entries a Query reads. */
interface Filter {
  expression: string;
  names: Record<string, string>;
  values: Item;
}

/** Which shard a key's entries go to. */
function shardOf(keyId: string): number {
  return Number.parseInt(keyId.slice(0, 8), 16) % OUTBOX_SHARDS;
}

function sortKey(seq: bigint): string {
  return seq.toString().padStart(20, "0");
}

function entryKey(entry: OutboxEntry): Item {
  return controlKey({ pk: DynamoOutboxStorage.partition(entry.target, shardOf(entry.keyId)), sk: sortKey(entry.seq) });
}

function toEntry(item: Item): OutboxEntry {
  const number = (name: string) => Number(item[name]?.N ?? "0");
  return {
    seq: BigInt(item.seq?.N ?? "0"),
    target: item.target?.S === "mysql" ? "mysql" : "dynamodb",
    entity: item.entity?.S ?? "",
    keyId: item.keyId?.S ?? "",
    key: decodeKey(item.key?.S ?? "{}"),
    ...(item.movedFrom?.S === undefined ? {} : { movedFrom: decodeKey(item.movedFrom.S) }),
    operation: item.operation?.S ?? "",
    attempts: number("attempts"),
    nextAttemptAt: number("nextAttemptAt"),
    ...(item.lastError?.S === undefined ? {} : { lastError: item.lastError.S }),
    createdAt: number("createdAt"),
    ...(item.stuckSince?.N === undefined ? {} : { stuckSince: number("stuckSince") }),
  };
}
