/**
 * BulkWriter: the backfill's writes to DynamoDB. Items go out in BatchWriteItem requests of up to 25, a bounded number
 * in flight (p-limit), at most `rate` items per second when one is set (p-throttle, weighted by the items a request
 * carries). What DynamoDB leaves unprocessed, throttling, and errors of the connection are sent again after an
 * exponential backoff with full jitter (a random wait between 0 and the doubling cap), so workers that were throttled
 * together do not come back together; after `attempts` tries the write fails with what went wrong last.
 *
 * BatchWriteItem carries no condition: the backfill's argument (docs/backfill.md) says why that is safe for the
 * entity's items and their unique markers.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import pLimit from "p-limit";
import pThrottle from "p-throttle";

type Item = Record<string, AttributeValue>;

/** BatchWriteItem's limit. */
export const BATCH_ITEMS = 25;

export interface BulkWriterOptions {
  /** BatchWriteItem requests in flight at most (default 8). */
  concurrency?: number;
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
