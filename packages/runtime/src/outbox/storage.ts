/** Where outbox entries are kept: the same operations on a MySQL table and on the DynamoDB control table. */
import type { StoreName } from "../phases.ts";
import type { NewOutboxEntry, OutboxEntry } from "./entry.ts";

export interface OutboxDepth {
  /** Entries waiting: recorded failures, and write intents past their grace (not those in flight). */
  depth: number;
  /**
   * Write intents still within their grace: their writes are being copied right now (./intents.ts). Not in `depth`:
   * they are no failure, and their requests remove them.
   */
  inFlight: number;
  /** Epoch milliseconds of the oldest waiting entry; undefined when none waits. */
  oldestCreatedAt: number | undefined;
  /** Of `depth`: entries marked stuck (see OutboxEntry.stuckSince). */
  stuck: number;
}

export interface HeadOptions {
  /** Only entries due by then (nextAttemptAt <= dueBy, epoch ms); absent: every entry, due or not. */
  dueBy?: number;
  /** Only entries after this sequence number (to page past entries a caller keeps). */
  afterSeq?: bigint;
}

/** How a failed try is recorded on its entries. */
export interface Postponement {
  /** Epoch ms of the next try. */
  nextAttemptAt: number;
  lastError: string;
  /**
   * Epoch ms: the entries are stuck from then on (kept, shown, still retried); an entry already stuck keeps its first
   * time. Absent: they are not stuck (any earlier mark is cleared).
   */
  stuckAt?: number;
}

export interface OutboxStorage {
  /** Where the entries are, for messages (e.g. "MySQL table `ferry_outbox`"). */
  readonly description: string;
  /** Stores entries in the order given; their sequence numbers ascend in that order and are returned in it. */
  append(entries: readonly NewOutboxEntry[]): Promise<bigint[]>;
  /**
   * Up to `max` of the target's entries, oldest (lowest sequence) first: the head of the queue. With `dueBy`, only
   * entries due by then, so entries backing off never hide the due ones behind them.
   */
  head(target: StoreName, max: number, options?: HeadOptions): Promise<OutboxEntry[]>;
  /**
   * Whether any entry for the key (keyIdOf, which names the target too) is stored: waiting, stuck, or a write intent
   * in flight.
   */
  holdsKey(target: StoreName, keyId: string): Promise<boolean>;
  /** Up to `max` of the target's stuck entries, oldest first. */
  stuck(target: StoreName, max: number): Promise<OutboxEntry[]>;
  /** Removes entries (those already gone are no error). */
  remove(entries: readonly OutboxEntry[]): Promise<void>;
  /** Counts a failed try on each entry and sets its next try, last error and stuck mark (entries gone stay gone). */
  postpone(entries: readonly OutboxEntry[], postponement: Postponement): Promise<void>;
  /** The target's entries counted, `now` (epoch ms) telling intents in flight from entries waiting. */
  depth(target: StoreName, now?: number): Promise<OutboxDepth>;
}
