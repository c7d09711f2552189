/**
 * MismatchLog: the shadow readers' mismatches, persisted in the control table for operators (the admin app lists
 * them newest first). Items: pk `MISMATCH`, sk `<at, ISO-8601>#<id>` (time-ordered, so newest first is one Query),
 * the mismatch's fields, and `expiresAt` (epoch seconds) for the control table's TTL.
 *
 * record() only queues: writes go out in the background in batches of up to 25 (BatchWriteItem) and never reach
 * the request. Failed writes are counted and tried again later; when more than `maxQueued` mismatches wait, further
 * ones are dropped and counted (a broken phase 3 can mismatch on every read: the counters still count them all).
 * One partition holds the log: mismatches are meant to be rare, and the queue bounds the write rate of a process.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import {
  CONTROL_TTL_ATTRIBUTE,
  ControlCursorError,
  type ControlPage,
  controlKey,
  ensureControlTable,
  newestFirst,
} from "../control/table.ts";
import type { Counter, Metrics } from "../metrics/index.ts";
import type { StoreName } from "../phases.ts";
import type { Mismatch, MismatchField, MismatchSink } from "./mismatch.ts";

type Item = Record<string, AttributeValue>;

/** The partition of the mismatch log. */
export const MISMATCH_PARTITION = "MISMATCH";

/** How long a mismatch is kept unless told otherwise: 30 days. */
export const DEFAULT_MISMATCH_TTL_SECONDS = 30 * 24 * 3600;

const BATCH_SIZE = 25;
const DEFAULT_FLUSH_MS = 200;
const DEFAULT_MAX_QUEUED = 1000;
const MAX_RETRY_MS = 30_000;
const UNPROCESSED_ATTEMPTS = 3;
const DEFAULT_LIST_LIMIT = 20;
const MAX_LIST_LIMIT = 1000;

export interface MismatchLogOptions {
  /** Put in front of the control table's name (FERRY_TABLE_PREFIX). */
  tablePrefix: string;
  /** How long a mismatch is kept (default 30 days). */
  ttlSeconds?: number;
  /** Milliseconds a recorded mismatch may wait for others to share its batch (default 200). */
  flushIntervalMs?: number;
  /** Mismatches waiting to be written at most; beyond, they are dropped and counted (default 1000). */
  maxQueued?: number;
  /** Counts `ferry_shadow_mismatch_log_errors_total` and `ferry_shadow_mismatch_log_dropped_total` here. */
  metrics?: Metrics;
  /** Told about every failed write (for logging); it must not throw. */
  onError?: (error: unknown) => void;
}

export interface MismatchListOptions {
  /** Mismatches per page, 1 to 1000 (default 20). */
  limit?: number;
  /** From the previous page. */
  cursor?: string;
  /** Only this entity's mismatches. */
  entity?: string;
}

export interface MismatchPage {
  /** Newest first. */
  mismatches: Mismatch[];
  /** Present when there are older ones: pass it to the next list() call. */
  cursor?: string;
}

/** A list() call that cannot be answered as asked (a bad limit or cursor). */
export class MismatchLogError extends Error {
  override readonly name = "MismatchLogError";
}

export class MismatchLog implements MismatchSink {
  readonly tablePrefix: string;
  private readonly ttlSeconds: number;
  private readonly flushIntervalMs: number;
  private readonly maxQueued: number;
  private readonly onError: ((error: unknown) => void) | undefined;
  private readonly errorCounter: Counter | undefined;
  private readonly droppedCounter: Counter | undefined;
  private queue: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Consecutive failed flushes, for the retry's backoff. */
  private failures = 0;
  private counts = { recorded: 0, written: 0, failed: 0, dropped: 0 };

  constructor(
    readonly client: DynamoDBClient,
    options: MismatchLogOptions,
  ) {
    this.tablePrefix = options.tablePrefix;
    this.ttlSeconds = options.ttlSeconds ?? DEFAULT_MISMATCH_TTL_SECONDS;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_MS;
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
    this.onError = options.onError;
    this.errorCounter = options.metrics?.counter({
      name: "ferry_shadow_mismatch_log_errors_total",
      help: "Failed writes of shadow mismatches to the control table (tried again later).",
    });
    this.droppedCounter = options.metrics?.counter({
      name: "ferry_shadow_mismatch_log_dropped_total",
      help: "Shadow mismatches not persisted because too many were waiting to be written.",
    });
  }

  /** Queues a mismatch to be written; returns at once and never throws. */
  record(mismatch: Mismatch): void {
    try {
      if (this.queue.length >= this.maxQueued) {
        this.dropped(1);
        return;
      }
      this.queue.push(this.toItem(mismatch));
      this.counts.recorded++;
      if (this.queue.length >= BATCH_SIZE) {
        void this.flush();
      } else {
        this.schedule(this.flushIntervalMs);
      }
    } catch (error) {
      this.failed(error, 1);
    }
  }

  /** Writes every queued mismatch now (what fails stays queued). Never throws. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const run = this.writing.then(() => this.writeQueued());
    this.writing = run;
    return run;
  }

  /** Writes what is queued and stops the background timer. */
  async stop(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** How many mismatches were recorded, written, failed to be written (attempts), dropped, and wait now. */
  state(): { recorded: number; written: number; failed: number; dropped: number; queued: number } {
    return { ...this.counts, queued: this.queue.length };
  }

  /** The persisted mismatches, newest first, a page at a time; only `entity`'s when given. */
  async list(options: MismatchListOptions = {}): Promise<MismatchPage> {
    const limit = options.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new MismatchLogError(`a mismatch list limit is a whole number from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
    }
    const table = await ensureControlTable(this.client, this.tablePrefix);
    let page: ControlPage;
    try {
      page = await newestFirst(this.client, {
        table,
        partition: MISMATCH_PARTITION,
        limit,
        ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
        // A filtered query reads past other entities' mismatches: read in larger pages then.
        ...(options.entity === undefined
          ? {}
          : { filter: { attribute: "entity", value: { S: options.entity } }, readAhead: 100 }),
      });
    } catch (error) {
      if (error instanceof ControlCursorError) {
        throw new MismatchLogError("this mismatch list cursor is not one list() handed out");
      }
      throw error;
    }
    const mismatches = page.items.map(fromItem);
    return page.cursor === undefined ? { mismatches } : { mismatches, cursor: page.cursor };
  }

  private schedule(delayMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    // Waiting mismatches alone do not keep the process alive; stop() writes them.
    this.timer.unref();
  }

  private async writeQueued(): Promise<void> {
    let table: string;
    try {
      table = await ensureControlTable(this.client, this.tablePrefix);
    } catch (error) {
      this.retryLater(error, this.queue.length);
      return;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH_SIZE);
      let requests: WriteRequest[] = batch.map((item) => ({ PutRequest: { Item: item } }));
      try {
        for (let attempt = 1; requests.length > 0; attempt++) {
          const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }));
          const unprocessed = out.UnprocessedItems?.[table] ?? [];
          this.counts.written += requests.length - unprocessed.length;
          requests = unprocessed;
          if (requests.length === 0) break;
          if (attempt >= UNPROCESSED_ATTEMPTS) {
            throw new Error(`DynamoDB left ${requests.length} mismatch writes unprocessed ${attempt} times`);
          }
          await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        }
      } catch (error) {
        const left = requests.flatMap((request) => (request.PutRequest?.Item ? [request.PutRequest.Item] : []));
        this.requeue(left);
        this.retryLater(error, left.length);
        return;
      }
    }
    this.failures = 0;
  }

  /** Puts unwritten items back in front of the queue, dropping what no longer fits. */
  private requeue(items: Item[]): void {
    this.queue = [...items, ...this.queue];
    if (this.queue.length > this.maxQueued) this.dropped(this.queue.splice(this.maxQueued).length);
  }

  private retryLater(error: unknown, items: number): void {
    this.failures++;
    this.failed(error, items);
    if (this.queue.length > 0) {
      this.schedule(Math.min(MAX_RETRY_MS, this.flushIntervalMs * 2 ** Math.min(this.failures, 16)));
    }
  }

  private failed(error: unknown, items: number): void {
    this.counts.failed += items;
    this.errorCounter?.inc();
    try {
      this.onError?.(error);
    } catch {
      // A failing logger must not stop the log.
    }
  }

  private dropped(items: number): void {
    this.counts.dropped += items;
    this.droppedCounter?.inc(undefined, items);
  }

  private toItem(mismatch: Mismatch): Item {
    return {
      ...controlKey({ pk: MISMATCH_PARTITION, sk: sortKey(mismatch) }),
      id: { S: mismatch.id },
      at: { S: mismatch.at },
      entity: { S: mismatch.entity },
      key: { M: Object.fromEntries(Object.entries(mismatch.key).map(([name, value]) => [name, text(value)])) },
      servedBy: { S: mismatch.servedBy },
      shadowFrom: { S: mismatch.shadowFrom },
      correlationId: { S: mismatch.correlationId },
      fields: {
        L: mismatch.fields.map((field) => ({
          M: { field: { S: field.field }, served: text(field.served), shadow: text(field.shadow) },
        })),
      },
      [CONTROL_TTL_ATTRIBUTE]: { N: String(Math.ceil(Date.parse(mismatch.at) / 1000) + this.ttlSeconds) },
    };
  }
}

function sortKey(mismatch: Pick<Mismatch, "at" | "id">): string {
  return `${mismatch.at}#${mismatch.id}`;
}

function text(value: string | null): AttributeValue {
  return value === null ? { NULL: true } : { S: value };
}

function untext(value: AttributeValue | undefined): string | null {
  return value?.S ?? null;
}

function store(value: AttributeValue | undefined): StoreName {
  return value?.S === "dynamodb" ? "dynamodb" : "mysql";
}

function fromItem(item: Item): Mismatch {
  const fields: MismatchField[] = (item.fields?.L ?? []).map((field) => ({
    field: field.M?.field?.S ?? "",
    served: untext(field.M?.served),
    shadow: untext(field.M?.shadow),
  }));
  return {
    id: item.id?.S ?? "",
    at: item.at?.S ?? "",
    entity: item.entity?.S ?? "",
    key: Object.fromEntries(Object.entries(item.key?.M ?? {}).map(([name, value]) => [name, untext(value)])),
    servedBy: store(item.servedBy),
    shadowFrom: store(item.shadowFrom),
    correlationId: item.correlationId?.S ?? "",
    fields,
  };
}
