/**
 * BulkWriter: the backfill's writes to DynamoDB. Items go out in BatchWriteItem requests of up to 25, a bounded number
 * in flight (p-limit), at most `rate` items per second when one is set (p-throttle, weighted by the items a request
 * carries). What DynamoDB leaves unprocessed, throttling, and errors of the connection are sent again after an
 * exponential backoff with full jitter (a random wait between 0 and the doubling cap), so workers that were throttled
 * together do not come back together; after `attempts` tries the write fails with what went wrong last.
 *
 * BatchWriteItem carries no condition: the backfill's argument (docs/backfill.md) says why that is safe for the
 * entity's items. Unique-value markers are the exception, each put on condition that no other item owns it, up to 100
 * in one TransactWriteItems (`putMarkers`): an unconditional marker could take a value from the item that holds it.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type Put,
  TransactWriteItemsCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import pLimit from "p-limit";
import pThrottle from "p-throttle";
import { cancellationCodes } from "../dynamodb/cancellation-codes.ts";

type Item = Record<string, AttributeValue>;

/** BatchWriteItem's limit. */
export const BATCH_ITEMS = 25;
/** Markers per TransactWriteItems (DynamoDB's limit on a transaction). */
export const MARKERS_PER_TRANSACTION = 100;

export interface BulkWriterOptions {
  /** BatchWriteItem requests in flight at most (default 8). */
  concurrency?: number;
  /** Marker transactions in flight at most (default 4). */
  markerConcurrency?: number;
  /** Items per second at most, over every request of this writer; absent: as fast as DynamoDB takes them. */
  rate?: number;
  /** Backoff of a retry: a random wait up to min(capMs, baseMs * 2^try) (defaults 50 and 5 000 ms). */
  baseMs?: number;
  capMs?: number;
  /** Tries of one request before the write fails (default 10). */
  attempts?: number;
  /** Told of every retry: why, and how many items it sends again. */
  onRetry?: (reason: RetryReason, items: number) => void;
}

export type RetryReason = "unprocessed" | "throttled" | "failed";

/** A write that did not land after every try. */
export class BulkWriteFailed extends Error {
  override readonly name = "BulkWriteFailed";
}

/** Errors worth another try: throttling, DynamoDB's own trouble, and a connection that went away. */
function retryReason(error: unknown): RetryReason | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  if (
    name === "ProvisionedThroughputExceededException" ||
    name === "ThrottlingException" ||
    name === "RequestLimitExceeded"
  ) {
    return "throttled";
  }
  if (name === "ValidationException" || name === "ResourceNotFoundException" || name === "AccessDeniedException") {
    return undefined;
  }
  // Anything else (InternalServerError, ServiceUnavailable, a reset or refused connection, a timeout) is tried again.
  return "failed";
}

export class BulkWriter {
  private readonly inFlight: ReturnType<typeof pLimit>;
  private readonly markersInFlight: ReturnType<typeof pLimit>;
  private readonly throttled: ((items: number) => Promise<void>) | undefined;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly attempts: number;
  private readonly batchItems: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly options: BulkWriterOptions = {},
  ) {
    const concurrency = options.concurrency ?? 8;
    if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`requests in flight are a whole number of at least 1, got ${concurrency}`);
    }
    this.inFlight = pLimit(concurrency);
    const markerConcurrency = options.markerConcurrency ?? 4;
    if (!Number.isSafeInteger(markerConcurrency) || markerConcurrency < 1) {
      throw new RangeError(`marker puts in flight are a whole number of at least 1, got ${markerConcurrency}`);
    }
    this.markersInFlight = pLimit(markerConcurrency);
    const rate = options.rate;
    if (rate !== undefined && (!Number.isFinite(rate) || rate < 1)) {
      throw new RangeError(`a rate is at least 1 item per second, got ${rate}`);
    }
    // A request weighs as much as the items it carries, so it may carry no more than a second's worth.
    this.batchItems = rate === undefined ? BATCH_ITEMS : Math.max(1, Math.min(BATCH_ITEMS, Math.floor(rate)));
    this.throttled =
      rate === undefined
        ? undefined
        : pThrottle({ limit: Math.floor(rate), interval: 1000, weight: (items: number) => items })(async () => {});
    this.baseMs = options.baseMs ?? 50;
    this.capMs = options.capMs ?? 5_000;
    this.attempts = options.attempts ?? 10;
  }

  /** Writes every item into `table` (unconditionally); resolves once all have landed. */
  async put(table: string, items: readonly Item[]): Promise<void> {
    const requests: Promise<void>[] = [];
    for (let start = 0; start < items.length; start += this.batchItems) {
      const chunk = items.slice(start, start + this.batchItems).map((Item): WriteRequest => ({ PutRequest: { Item } }));
      requests.push(this.inFlight(() => this.send(table, chunk)));
    }
    await Promise.all(requests);
  }

  /**
   * Puts unique-value markers, each on its own condition (putOwnedMarker: absent, or its owner's already), up to 100
   * in one TransactWriteItems: a transaction carries a condition per item, which BatchWriteItem cannot, and costs one
   * request instead of one per marker. A transaction cancelled by some markers' conditions writes none of them: the
   * others are sent again without those. Resolves to one answer per put: true when written, false when another item
   * holds the value.
   */
  async putMarkers(puts: readonly Put[]): Promise<boolean[]> {
    const answers: Array<boolean | undefined> = puts.map(() => undefined);
    const chunks: number[][] = [];
    // Markers of one transaction have distinct keys (DynamoDB refuses two writes of one item in a transaction).
    let chunk: number[] = [];
    let keys = new Set<string>();
    for (const [index, put] of puts.entries()) {
      const key = JSON.stringify(put.Item);
      if (chunk.length === MARKERS_PER_TRANSACTION || keys.has(key)) {
        chunks.push(chunk);
        chunk = [];
        keys = new Set();
      }
      chunk.push(index);
      keys.add(key);
    }
    if (chunk.length > 0) chunks.push(chunk);
    await Promise.all(
      chunks.map((indexes) =>
        this.markersInFlight(async () => {
          let pending = indexes;
          for (let attempt = 1; pending.length > 0; attempt++) {
            await this.throttled?.(pending.length);
            let retry: RetryReason | undefined;
            let error: unknown;
            try {
              await this.client.send(
                new TransactWriteItemsCommand({ TransactItems: pending.map((index) => ({ Put: puts[index] })) }),
              );
              for (const index of pending) answers[index] = true;
              return;
            } catch (failure) {
              const codes = cancellationCodes(failure);
              if (codes !== undefined) {
                const again: number[] = [];
                for (const [position, index] of pending.entries()) {
                  if (codes[position] === "ConditionalCheckFailed") answers[index] = false;
                  else again.push(index);
                }
                // Only the markers whose condition held go again (at once, when some failed their condition).
                if (again.length < pending.length) {
                  pending = again;
                  attempt = 0;
                  continue;
                }
                retry = "failed";
              } else {
                retry = retryReason(failure);
                if (retry === undefined) throw failure;
              }
              error = failure;
            }
            this.options.onRetry?.(retry, pending.length);
            if (attempt >= this.attempts) {
              throw new BulkWriteFailed(
                `${pending.length} unique markers not written after ${attempt} tries: ${describe(error)}`,
                { cause: error },
              );
            }
            await this.pause(attempt);
          }
        }),
      ),
    );
    return answers.map((answer) => answer === true);
  }

  /** One BatchWriteItem and its retries: the unprocessed part again, the whole of it after an error worth a retry. */
  private async send(table: string, requests: WriteRequest[]): Promise<void> {
    let pending = requests;
    for (let attempt = 1; ; attempt++) {
      await this.throttled?.(pending.length);
      let error: unknown;
      try {
        const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        const left = out.UnprocessedItems?.[table] ?? [];
        if (left.length === 0) return;
        pending = left;
        this.options.onRetry?.("unprocessed", left.length);
      } catch (failure) {
        const reason = retryReason(failure);
        if (reason === undefined) throw failure;
        error = failure;
        this.options.onRetry?.(reason, pending.length);
      }
      if (attempt >= this.attempts) {
        throw new BulkWriteFailed(
          `${table}: ${pending.length} items not written after ${attempt} tries` +
            (error === undefined ? " (DynamoDB kept leaving them unprocessed)" : `: ${describe(error)}`),
          { cause: error },
        );
      }
      await this.pause(attempt);
    }
  }

  /** Full jitter: a random wait between 0 and the doubling cap. */
  private pause(attempt: number): Promise<void> {
    const cap = Math.min(this.capMs, this.baseMs * 2 ** (attempt - 1));
    return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
