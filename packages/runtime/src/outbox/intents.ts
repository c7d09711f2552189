/**
 * Write intents: the outbox entry of a write, recorded durably with its authoritative write instead of after its copy
 * failed, so that a process killed between the two writes leaves a trace any process replays (docs/convergence.md).
 *
 * - MySQL authoritative (phases 2-3): the entries are inserted into `ferry_outbox` in the same MySQL transaction as
 *   the write (`within`): committed with it or not at all.
 * - DynamoDB authoritative (phase 4): the entries are put in the control table before the write (`ahead`); an entry
 *   for a write that then failed only makes a replay find both stores equal.
 *
 * An intent is not due for `graceMs`: the request that recorded it is copying and checking the write meanwhile, and
 * removes it when that is done (`settled`, batched in the background). When the copy or the check fails, the intent
 * becomes an ordinary entry due at once (`failed`). When the process dies, it becomes due after the grace, and
 * whichever process drains next re-syncs the key.
 */
import type { Codec } from "../codec/index.ts";
import type { MysqlExecutor } from "../mysql/index.ts";
import type { StoreName } from "../phases.ts";
import type { SecondaryFailure } from "../secondary-failure.ts";
import type { DynamoOutboxStorage } from "./dynamodb-storage.ts";
import { entriesOf, errorText, type NewOutboxEntry, type OutboxEntry } from "./entry.ts";
import type { MysqlOutboxStorage } from "./mysql-storage.ts";

/** The default time a write has to copy and check itself before its intent counts as an entry to replay. */
export const DEFAULT_INTENT_GRACE_MS = 30_000;

/** How long settled intents gather before one DELETE removes them all. */
const REMOVAL_DELAY_MS = 50;

/** A secondary write as the router describes it (the outbox entry it would leave). */
export type IntendedWrite = Omit<SecondaryFailure, "error">;

/** The entries recorded for one write, as stored. */
export interface Intent {
  readonly target: StoreName;
  readonly entries: readonly OutboxEntry[];
}

export interface WriteIntentsOptions {
  codec: Codec;
  /** Where the entries for DynamoDB are kept (MySQL authoritative). */
  dynamodbTarget: MysqlOutboxStorage;
  /** Where the entries for MySQL are kept (DynamoDB authoritative). */
  mysqlTarget: DynamoOutboxStorage;
  graceMs?: number;
  /** Told when removing settled intents failed (they are replayed after the grace: harmless). It must not throw. */
  log: (message: string, error?: unknown) => void;
}

export class WriteIntents {
  private readonly graceMs: number;
  private readonly settledQueue: Record<StoreName, OutboxEntry[]> = { mysql: [], dynamodb: [] };
  private removing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: WriteIntentsOptions) {
    this.graceMs = options.graceMs ?? DEFAULT_INTENT_GRACE_MS;
  }

  /**
   * Resolves when the intents of writes MySQL takes first can be recorded inside their transactions: the outbox table
   * exists (created on its own connection: a CREATE TABLE inside the transaction would commit it).
   */
  ready(): Promise<void> {
    return this.options.dynamodbTarget.ensureTable();
  }

  /** Records the intent of a write DynamoDB is to copy, on `connection`, inside the MySQL transaction of the write. */
  async within(connection: MysqlExecutor, write: IntendedWrite): Promise<Intent> {
    if (write.store !== "dynamodb") throw new Error("an intent within a MySQL transaction is one for DynamoDB");
    const entries = this.entries(write);
    const seqs = await this.options.dynamodbTarget.append(entries, connection);
    return { target: write.store, entries: entries.map((entry, index) => stored(entry, seqs[index])) };
  }

  /** Records the intent of a write MySQL is to copy, before DynamoDB (authoritative) takes it. */
  async ahead(write: IntendedWrite): Promise<Intent> {
    if (write.store !== "mysql") throw new Error("an intent recorded ahead of a DynamoDB write is one for MySQL");
    const entries = this.entries(write);
    const seqs = await this.options.mysqlTarget.append(entries);
    return { target: write.store, entries: entries.map((entry, index) => stored(entry, seqs[index])) };
  }

  /**
   * The write is on both stores and checked: its intent goes, in the background, with the others settled within
   * REMOVAL_DELAY_MS (one DELETE, one commit, for many writes).
   */
  settled(intent: Intent): void {
    if (intent.entries.length === 0) return;
    this.settledQueue[intent.target].push(...intent.entries);
    if (this.timer === undefined && this.removing === undefined) {
      this.timer = setTimeout(() => this.startRemoving(), REMOVAL_DELAY_MS);
      this.timer.unref();
    }
  }

  /** The copy or its check failed (or the authoritative write's outcome is unknown): the intent is due at once. */
  async failed(intent: Intent, error: unknown): Promise<void> {
    const storage = this.storage(intent.target);
    await storage.postpone(intent.entries, { nextAttemptAt: Date.now(), lastError: errorText(error) });
  }

  /** Resolves when the intents settled so far are removed (or their removal failed and was logged). */
  async removed(): Promise<void> {
    for (;;) {
      // Intents settled during a removal wait for a timer of their own: start it now too.
      if (this.timer !== undefined) this.startRemoving();
      if (this.removing === undefined) return;
      await this.removing;
    }
  }

  private startRemoving(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.removing ??= this.removeSettled();
  }

  private async removeSettled(): Promise<void> {
    try {
      for (const target of ["dynamodb", "mysql"] as const) {
        const entries = this.settledQueue[target].splice(0);
        if (entries.length === 0) continue;
        try {
          await this.storage(target).remove(entries);
        } catch (error) {
          this.options.log(
            `could not remove ${entries.length} settled write intents for ${target}; they are replayed after the grace`,
            error,
          );
        }
      }
    } finally {
      this.removing = undefined;
      if (this.settledQueue.dynamodb.length > 0 || this.settledQueue.mysql.length > 0) {
        this.timer = setTimeout(() => this.startRemoving(), REMOVAL_DELAY_MS);
        this.timer.unref();
      }
    }
  }

  private entries(write: IntendedWrite): Array<NewOutboxEntry & { notBefore: number }> {
    const now = Date.now();
    return entriesOf(this.options.codec, { ...write, error: undefined }, now).map((entry) => ({
      ...entry,
      notBefore: now + this.graceMs,
    }));
  }

  private storage(target: StoreName): MysqlOutboxStorage | DynamoOutboxStorage {
    return target === "dynamodb" ? this.options.dynamodbTarget : this.options.mysqlTarget;
  }
}

function stored(entry: NewOutboxEntry & { notBefore: number }, seq: bigint | undefined): OutboxEntry {
  if (seq === undefined) throw new Error("the outbox storage returned fewer sequence numbers than entries");
  return { ...entry, seq, attempts: 0, nextAttemptAt: entry.notBefore };
}
