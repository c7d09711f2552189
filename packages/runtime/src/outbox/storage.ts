/** Where outbox entries are kept: the same five operations on a MySQL table and on the DynamoDB control table. */
import type { StoreName } from "../phases.ts";
import type { NewOutboxEntry, OutboxEntry } from "./entry.ts";

export interface OutboxDepth {
  /** Entries waiting. */
  depth: number;
  /** Epoch milliseconds of the oldest waiting entry; undefined when none waits. */
  oldestCreatedAt: number | undefined;
}

export interface OutboxStorage {
  /** Where the entries are, for messages (e.g. "MySQL table `ferry_outbox`"). */
  readonly description: string;
  /** Stores entries in the order given; their sequence numbers ascend in that order and are returned in it. */
  append(entries: readonly NewOutboxEntry[]): Promise<bigint[]>;
  /** Up to `max` of the target's entries, oldest (lowest sequence) first: the head of the queue. */
  head(target: StoreName, max: number): Promise<OutboxEntry[]>;
  /** Removes entries (those already gone are no error). */
  remove(entries: readonly OutboxEntry[]): Promise<void>;
  /** Counts a failed try on each entry and sets its next try and last error (entries already gone stay gone). */
  postpone(entries: readonly OutboxEntry[], nextAttemptAt: number, lastError: string): Promise<void>;
  depth(target: StoreName): Promise<OutboxDepth>;
}
