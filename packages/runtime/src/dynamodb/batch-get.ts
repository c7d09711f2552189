/**
 * Items by key with consistent BatchGetItem: 100 keys a request, a few requests in flight, what DynamoDB leaves
 * unprocessed asked again after a full-jitter pause, up to `attempts` tries of a request. The backfill's check and
 * validation both read this way.
 */
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  type KeysAndAttributes,
} from "@aws-sdk/client-dynamodb";
import pLimit from "p-limit";
import type { Item } from "../codec/index.ts";

/** BatchGetItem's limit. */
const GET_ITEMS = 100;

export interface BatchGetOptions {
  /** Requests in flight at most (default 4). */
  inFlight?: number;
  /** Tries of one request that DynamoDB keeps leaving keys of unread (default 10). */
  attempts?: number;
  /** Runs each request (retryTransient, for long work that one dropped connection must not undo); default: once. */
  retry?: <T>(send: () => Promise<T>) => Promise<T>;
}

/** The items under `keys` (each key once, by `keyOf`), as a map by `keyOf` of each item's key. */
export async function batchGetItems(
  client: DynamoDBClient,
  table: string,
  keys: readonly Item[],
  keyOf: (keyOrItem: Item) => string,
  options: BatchGetOptions = {},
): Promise<Map<string, Item>> {
  const attempts = options.attempts ?? 10;
  const unique = [...new Map(keys.map((key) => [keyOf(key), key])).values()];
  const found = new Map<string, Item>();
  const chunks: Item[][] = [];
  for (let start = 0; start < unique.length; start += GET_ITEMS) chunks.push(unique.slice(start, start + GET_ITEMS));
  const limit = pLimit(options.inFlight ?? 4);
  await Promise.all(
    chunks.map((chunk) =>
      limit(async () => {
        let request: Record<string, KeysAndAttributes> | undefined = {
          [table]: { Keys: chunk, ConsistentRead: true },
        };
        for (let attempt = 0; request !== undefined && Object.keys(request).length > 0; attempt++) {
          if (attempt >= attempts) {
            throw new Error(`${table}: DynamoDB left keys unread after ${attempts} tries of BatchGetItem`);
          }
          if (attempt > 0) await pause(attempt);
          const items: Record<string, KeysAndAttributes> = request;
          const send = () => client.send(new BatchGetItemCommand({ RequestItems: items }));
          const out: BatchGetItemCommandOutput = await (options.retry ? options.retry(send) : send());
          for (const item of out.Responses?.[table] ?? []) found.set(keyOf(item), item);
          request = out.UnprocessedKeys;
        }
      }),
    ),
  );
  return found;
}

/** Full jitter before another try of what DynamoDB left unprocessed. */
function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2_000, 25 * 2 ** attempt)));
}
