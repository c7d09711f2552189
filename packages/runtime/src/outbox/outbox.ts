/**
 * The outbox (docs/architecture.md, "Outbox"): durable storage of the secondary writes that failed, replayed until
 * they land. The router writes the authoritative store first and hands every failed write to
 * the other store to `record` (its `onSecondaryFailure`); the request has succeeded by then.
 *
 * Where entries live, and why: on the side of the store that did NOT fail, the authoritative one that has just taken
 * the write, so that recording does not depend on the store that is down and survives a crash of the app:
 *
 * - DynamoDB missed the write (phases 2-3, MySQL authoritative): a row in a table of the app's own MySQL database,
 *   `ferry_outbox`, created on first use (MysqlOutboxStorage).
 * - MySQL missed the write (phase 4, DynamoDB authoritative): an item in ferry's DynamoDB control table under pk
 *   `OUTBOX#mysql#<shard>` (DynamoOutboxStorage). The control table, not the contract's tables, because it is
 *   ferry's own and already shared by the fleet.
 *
 * An entry names the target store, the entity and the item's identity key (one per item a transaction touched), a
 * sequence number, the tries so far, when to try next, the last error and when it was recorded. It carries no value:
 * the replay re-reads the item from the authoritative store and makes the target match (KeySync), which makes it
 * idempotent and safe in any order; a key's entries are still taken in sequence order, synced once together, and
 * removed only after that sync landed. An update that moved an item (a changed identity attribute) carries the new key
 * and the old one (`movedFrom`), which is synced first so the stale item under it is deleted on the target.
 *
 * `record` has the router's synchronous signature, so it queues entries in memory and stores them asynchronously
 * (`flushed()` waits for that). An entry that cannot be stored (the authoritative store went down too) is logged
 * loudly and held in memory, stored again with backoff; it is lost if the process dies before that succeeds.
 *
 * Replays copy from the authoritative store to the secondary one, so only entries whose target is the current phase's
 * secondary store are replayed (DynamoDB's in phases 2-3, MySQL's in phase 4). The phase is read again for every
 * pass and before every key, so a pass never goes on replaying under a phase that is no longer current. Entries for
 * the store that is authoritative now are STRANDED (a forced move left them): in phases 2-4 they settle themselves,
 * each key copied from the other store on condition that the authoritative item has not changed and that no write of
 * the key is on its way to the other store; in phases 1 and 5 an operator settles them (./stranded.ts).
 *
 * Only due entries are read (those whose next try has come), so entries backing off never hide those behind them.
 * An entry whose sync keeps failing for a reason no retry fixes (isPermanent: the data, not an outage, says no) is
 * marked STUCK after `stuckAfter` tries: kept, shown with its last error, counted in the metrics, and still tried at
 * the slowest backoff.
 *
 * Every process of the fleet may drain (start()); two processes syncing one key at once do the same idempotent work
 * twice, nothing worse. The MySQL connection given for the table must be a pool or a connection of the outbox's own.
 */

import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Codec, EntityValue } from "../codec/index.ts";
import type { DynamoEntityStore } from "../dynamodb/index.ts";
import { FailureLog } from "../failure-log.ts";
import { isPool, type MysqlEntityStore, type MysqlExecutor } from "../mysql/index.ts";
import type { PhaseSource, WriteTicket } from "../phases.ts";
import { type Phase, type StoreName, writeTargets } from "../phases.ts";
import type { SecondaryFailure } from "../secondary-failure.ts";
import { DynamoOutboxStorage } from "./dynamodb-storage.ts";
import { backoffMs, entriesOf, errorText, groupByKey, type NewOutboxEntry, type OutboxEntry } from "./entry.ts";
import { WriteIntents } from "./intents.ts";
import { MysqlOutboxStorage, OUTBOX_TABLE } from "./mysql-storage.ts";
import type { OutboxStorage } from "./storage.ts";
import {
  isStranded,
  movedFromKeys,
  type ResolveOptions,
  type ResolveResult,
  StrandedEntries,
  settlesStranded,
} from "./stranded.ts";
import { isPermanent, KeySync } from "./sync.ts";

const TARGETS: readonly StoreName[] = ["dynamodb", "mysql"];

export interface OutboxOptions {
  /** The router's phase: entries are replayed to the phase's secondary store only. */
  phase: PhaseSource;
  codec: Codec;
  /** The stores the router writes: read and written by the replay. */
  mysql: MysqlEntityStore;
  dynamodb: DynamoEntityStore;
  /**
   * The app's database, where the entries for DynamoDB are kept: a pool, or a connection of the outbox's own. Not the
   * single connection a MysqlEntityStore runs transactions on (a row written while one is open would join it).
   */
  mysqlConnection: MysqlExecutor;
  /** The control table, where the entries for MySQL are kept. */
  controlTable: { client: DynamoDBClient; tablePrefix: string };
  /** The MySQL table's name (default `ferry_outbox`). */
  mysqlTable?: string;
  /** Per-entry retry delays: doubling from `baseMs` (default 100) up to `capMs` (default 30 000), half random. */
  backoff?: { baseMs?: number; capMs?: number };
  /** Keys synced per pass and target (default 100). */
  batch?: number;
  /** Failed tries (the last with a permanent error) after which an entry is marked stuck (default 5). */
  stuckAfter?: number;
  /** Keys synced at once (default 8). */
  concurrency?: number;
  /** The background loop's pause after a pass that found nothing due (default 1000 ms). */
  idleMs?: number;
  /** How long a write's intent waits for the request that recorded it before it is replayed (default 30 000 ms). */
  intentGraceMs?: number;
  /** Told about failures to store entries and about failed passes; default console.error. It must not throw. */
  log?: (message: string, error?: unknown) => void;
}

export interface DrainOptions {
  /** The most keys to sync per target store (default: the `batch` option). */
  limit?: number;
  /** Try entries whose next try is still in the future too (an operator's "retry now"). */
  force?: boolean;
}

export interface DrainResult {
  /** Entries removed because their key's sync landed. */
  synced: number;
  /** Entries whose key's sync failed (postponed with backoff). */
  failed: number;
  /** Entries still waiting after the pass, stored or held in memory (storages that could not be read not counted). */
  remaining: number;
  /** Of `remaining`: entries for a store that is not the secondary one in the current phase, which wait for a phase that replays them. */
  idle: number;
  /**
   * Of `remaining`: entries for the store that is authoritative now (./stranded.ts); settled by the passes in phases
   * 2-4 (and then not `idle`), left to an operator in 1 and 5.
   */
  stranded: number;
  /** Of `remaining`: entries marked stuck. */
  stuck: number;
}

/**
 * What a pass does with the entries for `target` in `phase`: replays them (the secondary store), settles them (stranded
 * ones, in the phases that write both stores) or leaves them (undefined: idle).
 */
function handles(phase: Phase, target: StoreName): "replay" | "settle" | undefined {
  if (writeTargets(phase)[1] === target) return "replay";
  if (isStranded(phase, target) && settlesStranded(phase)) return "settle";
  return undefined;
}

/** Plain numbers, per target store; Prometheus exposition is built on this. */
export interface OutboxTargetMetrics {
  /** Entries waiting (stored, and held in memory because they could not be stored); intents in flight not counted. */
  depth: number;
  /** Write intents within their grace: writes being copied right now, whose requests remove them (./intents.ts). */
  inFlight: number;
  /** Seconds since the oldest waiting entry was recorded; 0 when none waits. */
  oldestAgeSeconds: number;
  /** Of `depth`: entries held in memory only (lost if the process dies). */
  unpersisted: number;
  /** 0 when the storage of these entries could not be read (depth then counts the in-memory ones only), else 1. */
  readable: number;
  /** Of `depth`: entries marked stuck (their sync keeps failing for a reason no retry is expected to fix). */
  stuck: number;
  /** Of `depth`: entries for the store that is authoritative in the current phase (0 or depth; ./stranded.ts). */
  stranded: number;
}

export type OutboxMetrics = Record<StoreName, OutboxTargetMetrics>;

/** Entries could not be stored; they are held in memory and stored again with backoff. */
export class OutboxUnavailable extends Error {
  override readonly name = "OutboxUnavailable";
}

interface PendingRecord {
  serial: number;
  target: StoreName;
  entries: NewOutboxEntry[];
  settle: (stored: boolean) => void;
}

export class Outbox {
  private readonly phase: PhaseSource;
  private readonly codec: Codec;
  private readonly sync: KeySync;
  private readonly storages: Record<StoreName, OutboxStorage>;
  private readonly stranded: StrandedEntries;
  /** The router's `intents`: each write's entry recorded with its authoritative write (./intents.ts). */
  readonly intents: WriteIntents;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly batch: number;
  private readonly concurrency: number;
  private readonly stuckAfter: number;
  private readonly idleMs: number;
  private readonly log: (message: string, error?: unknown) => void;

  /** Recorded, not yet stored, oldest first. */
  private queue: PendingRecord[] = [];
  private serial = 0;
  private storing: Promise<boolean> | undefined;
  private storeFailures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Targets whose idle entries were logged, with the phase they were logged in (logged once per phase). */
  private readonly idleLogged = new Map<StoreName, number>();
  /** What failed on the last try and was logged (see failing()). */
  private readonly failures: FailureLog;

  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(options: OutboxOptions) {
    this.phase = options.phase;
    this.codec = options.codec;
    if (options.mysqlConnection === options.mysql.executor && !isPool(options.mysqlConnection)) {
      // Its rows would join whatever transaction the store has open on it, and vanish with a rollback.
      throw new Error(
        "the outbox's mysqlConnection is the single connection its MySQL store runs transactions on: give it a pool or a connection of its own",
      );
    }
    this.sync = new KeySync(options.codec, options.mysql, options.dynamodb);
    // Entries for DynamoDB live in MySQL, and the other way round.
    const dynamodbTarget = new MysqlOutboxStorage(options.mysqlConnection, options.mysqlTable ?? OUTBOX_TABLE);
    const mysqlTarget = new DynamoOutboxStorage(options.controlTable.client, options.controlTable.tablePrefix);
    this.storages = { dynamodb: dynamodbTarget, mysql: mysqlTarget };
    this.batch = options.batch ?? 100;
    this.stranded = new StrandedEntries({
      codec: options.codec,
      sync: this.sync,
      mysql: options.mysql,
      dynamodb: options.dynamodb,
      storages: { dynamodb: dynamodbTarget, mysql: mysqlTarget },
      phase: options.phase,
      batch: this.batch,
    });
    this.baseMs = options.backoff?.baseMs ?? 100;
    this.capMs = options.backoff?.capMs ?? 30_000;
    this.concurrency = options.concurrency ?? 8;
    this.stuckAfter = options.stuckAfter ?? 5;
    this.idleMs = options.idleMs ?? 1_000;
    this.log = options.log ?? ((message, error) => console.error(`ferry outbox: ${message}`, error ?? ""));
    this.failures = new FailureLog(this.log);
    this.intents = new WriteIntents({
      codec: options.codec,
      dynamodbTarget,
      mysqlTarget,
      log: this.log,
      ...(options.intentGraceMs === undefined ? {} : { graceMs: options.intentGraceMs }),
    });
  }

  /** Where the entries for a target store are kept (for messages and operators). */
  storageOf(target: StoreName): string {
    return this.storages[target].description;
  }

  /**
   * The router's `onSecondaryFailure`: queues the failed write's entries and stores them asynchronously. Never throws.
   * The promise (which the router may ignore) resolves to true once they are stored, false when they could not be
   * and are held in memory for another try.
   */
  readonly record = (failure: SecondaryFailure): Promise<boolean> => {
    let entries: NewOutboxEntry[];
    try {
      entries = entriesOf(this.codec, failure, Date.now());
    } catch (error) {
      this.log(
        `LOST a failed ${failure.operation} of ${failure.entity} on ${failure.store}: its outbox entry could not be made`,
        error,
      );
      return Promise.resolve(false);
    }
    if (entries.length === 0) return Promise.resolve(true);
    return new Promise<boolean>((settle) => {
      this.queue.push({ serial: ++this.serial, target: failure.store, entries, settle });
      void this.store();
    });
  };

  /**
   * Resolves when every entry recorded before the call is stored. Rejects with OutboxUnavailable when storing them
   * failed (they are held in memory and tried again with backoff).
   */
  async flushed(): Promise<void> {
    const mark = this.serial;
    const waiting = () => this.queue.some((record) => record.serial <= mark);
    while (waiting()) {
      const complete = await this.store();
      if (!complete && waiting()) {
        throw new OutboxUnavailable(`${this.held()} outbox entries could not be stored and are held in memory`);
      }
    }
  }

  /**
   * One pass: stores what is held in memory, then, for the current phase's secondary store, syncs up to `limit` keys
   * whose entries are due and removes their entries when the sync landed (or postpones them with backoff when it
   * failed); in phases 2-4 it settles up to `limit` due stranded keys of the authoritative store the same way
   * (./stranded.ts). The phase is read at the start of the pass and again before each key: once the phase no longer
   * handles the target so, the rest of the pass's keys are left for a later pass. Never throws for a store that is
   * down: its entries count as failed, or are skipped when their storage cannot be read.
   */
  async drain(options: DrainOptions = {}): Promise<DrainResult> {
    const limit = options.limit ?? this.batch;
    await this.store();
    const phase = this.phase.phase();
    let synced = 0;
    let failed = 0;
    let remaining = 0;
    let idle = 0;
    let stranded = 0;
    let stuck = 0;
    for (const target of TARGETS) {
      const storage = this.storages[target];
      if (handles(phase, target)) {
        let head: OutboxEntry[];
        try {
          // Due entries only (all with force), so entries in backoff never hold the due ones up.
          head = await storage.head(
            target,
            Math.max(limit * 4, 100),
            options.force === true ? {} : { dueBy: Date.now() },
          );
          this.healthy(`read:${target}`, `the entries for ${target} can be read from ${storage.description} again`);
        } catch (error) {
          this.failing(`read:${target}`, `could not read the entries for ${target} from ${storage.description}`, error);
          continue;
        }
        const due = [...groupByKey(head).values()].slice(0, limit);
        await inParallel(due, this.concurrency, async (group) => {
          // The phase may have moved during the pass: go on only while it still handles this target so. The replay is
          // a write in flight for the phase source, so a move of the authoritative store waits until it has landed.
          let ticket: WriteTicket;
          try {
            ticket = this.phase.beginReplay?.() ?? { phase: this.phase.phase(), done: () => {} };
          } catch {
            return; // This process may not write now (out of touch with the control table): another pass will.
          }
          try {
            if (handles(ticket.phase, target) !== handles(phase, target)) return;
            if (await this.replay(storage, group, handles(phase, target) === "settle")) synced += group.length;
            else failed += group.length;
          } finally {
            ticket.done();
          }
        });
      }
      let waiting: number;
      try {
        const depth = await storage.depth(target);
        waiting = depth.depth + this.held(target);
        stuck += depth.stuck;
        this.healthy(`count:${target}`, `the entries for ${target} can be counted in ${storage.description} again`);
      } catch (error) {
        this.failing(`count:${target}`, `could not count the entries for ${target} in ${storage.description}`, error);
        waiting = this.held(target);
      }
      remaining += waiting;
      // Counted by the phase as it is now, which may have moved during the pass.
      const current = this.phase.phase();
      if (isStranded(current, target)) stranded += waiting;
      if (handles(current, target) === undefined && waiting > 0) {
        idle += waiting;
        if (this.idleLogged.get(target) !== current) {
          this.idleLogged.set(target, current);
          this.log(
            isStranded(current, target)
              ? `${waiting} entries for ${target} are STRANDED in phase ${current}: ${target} is authoritative now and ` +
                  "the other store takes no writes, so nothing says which value is newer; see `ferry outbox status` " +
                  "and settle them with `ferry outbox resolve --from mysql|dynamodb`"
              : `${waiting} entries for ${target} are not replayed in phase ${current} (${target} is not its secondary store); ` +
                  "they wait for a phase that replays them (DynamoDB's in 2-3, MySQL's in 4)",
          );
        }
      }
    }
    return { synced, failed, remaining, idle, stranded, stuck };
  }

  /** Up to `max` stuck entries for a target store, oldest first (for operators). */
  stuckEntries(target: StoreName, max = 100): Promise<OutboxEntry[]> {
    return this.storages[target].stuck(target, max);
  }

  /**
   * The operator's settling of the STRANDED entries (./stranded.ts): each key synced from the `from` store to the
   * other one after reading both values and their diff, its entries removed; with dryRun only the diffs are reported.
   */
  resolveStranded(options: ResolveOptions): Promise<ResolveResult> {
    return this.stranded.resolve(options);
  }

  /** Depth and oldest entry age per target store. */
  async metrics(): Promise<OutboxMetrics> {
    const now = Date.now();
    // Stranded entries need the phase; a source that has none yet (not started) leaves them uncounted.
    let phase: Phase | undefined;
    try {
      phase = this.phase.phase();
    } catch {
      phase = undefined;
    }
    const measure = async (target: StoreName): Promise<OutboxTargetMetrics> => {
      const held = this.queue.filter((record) => record.target === target).flatMap((record) => record.entries);
      const heldOldest = held.reduce<number | undefined>(
        (oldest, entry) => (oldest === undefined || entry.createdAt < oldest ? entry.createdAt : oldest),
        undefined,
      );
      let stored = { depth: 0, inFlight: 0, oldestCreatedAt: undefined as number | undefined, stuck: 0 };
      let readable = 1;
      try {
        stored = await this.storages[target].depth(target);
      } catch {
        readable = 0;
      }
      const oldest = [heldOldest, stored.oldestCreatedAt].filter((at): at is number => at !== undefined);
      return {
        depth: stored.depth + held.length,
        inFlight: stored.inFlight,
        oldestAgeSeconds: oldest.length === 0 ? 0 : Math.max(0, (now - Math.min(...oldest)) / 1000),
        unpersisted: held.length,
        readable,
        stuck: stored.stuck,
        stranded: phase !== undefined && isStranded(phase, target) ? stored.depth + held.length : 0,
      };
    };
    const [dynamodb, mysql] = await Promise.all([measure("dynamodb"), measure("mysql")]);
    return { dynamodb, mysql };
  }

  /** Starts draining in the background until stop(): a pass, then at once another if it did work, else a pause. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops the background loop after its current pass, and tries once more to store what is held in memory. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.store();
    if (this.queue.length > 0) {
      this.log(
        `stopped with ${this.held()} outbox entries that could not be stored; they are LOST when this process exits`,
      );
    }
  }

  /** Logs a failure of `what` when it starts (not on every pass while it lasts). */
  private failing(what: string, message: string, error: unknown): void {
    this.failures.failed(what, message, error);
  }

  /** Logs that `what` works again, when it was failing. */
  private healthy(what: string, message: string): void {
    this.failures.recovered(what, message);
  }

  /** Entries recorded and not stored yet (for one target, or all). */
  private held(target?: StoreName): number {
    return this.queue
      .filter((record) => target === undefined || record.target === target)
      .reduce((sum, record) => sum + record.entries.length, 0);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let pause = this.idleMs;
      try {
        const result = await this.drain();
        failures = 0;
        if (result.synced > 0 && result.remaining > result.idle) pause = 0;
      } catch (error) {
        // drain() handles the stores' failures; this is a bug, and the loop goes on.
        failures++;
        pause = backoffMs(failures, this.idleMs, this.capMs);
        this.log("a drain pass failed", error);
      }
      if (pause > 0 && this.running) await this.sleep(pause);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /**
   * Syncs one key (after the keys it moved from) and removes its entries; false when the sync failed. `settle`: the
   * entries are stranded ones, settled on their own (authoritative) store as ./stranded.ts says.
   */
  private async replay(storage: OutboxStorage, group: OutboxEntry[], settle: boolean): Promise<boolean> {
    const first = group[0] as OutboxEntry;
    const { target, entity } = first;
    const sync = (key: EntityValue) =>
      settle ? this.stranded.settle(target, entity, key) : this.sync.sync(target, entity, key);
    try {
      // The keys it moved from first: on MySQL the stale row holds the primary key the moved item needs. Not when
      // settling on the authoritative store: the old key's own entry settles it (./entry.ts), and deleting it here
      // would leave the item absent there until the new key can be settled.
      if (!settle) for (const key of movedFromKeys(group)) await sync(key);
      await sync(first.key);
    } catch (error) {
      const attempts = Math.max(...group.map((entry) => entry.attempts)) + 1;
      const now = Date.now();
      const stuck = attempts >= this.stuckAfter && isPermanent(error);
      try {
        await storage.postpone(group, {
          // A stuck entry is still tried, at the slowest pace.
          nextAttemptAt: now + (stuck ? this.capMs : backoffMs(attempts, this.baseMs, this.capMs)),
          lastError: errorText(error),
          ...(stuck ? { stuckAt: now } : {}),
        });
        this.healthy(`postpone:${first.target}`, `entries can be postponed in ${storage.description} again`);
      } catch (postponing) {
        // They stay as they were, and are tried again on the next pass.
        this.failing(`postpone:${first.target}`, `could not postpone entries in ${storage.description}`, postponing);
      }
      return false;
    }
    try {
      await storage.remove(group);
    } catch (error) {
      // Synced; the entries stay and the next pass syncs the key again (no harm).
      this.log(`could not remove synced entries of a ${first.entity} from ${storage.description}`, error);
    }
    return true;
  }

  /**
   * Stores what is queued, one pass at a time (a call during a pass waits for it); resolves to false when some of
   * what the pass took could not be stored. Records stay queued until they are stored, and failures are tried again
   * with backoff.
   */
  private store(): Promise<boolean> {
    if (!this.storing) {
      if (this.queue.length === 0) return Promise.resolve(true);
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      const taken = [...this.queue];
      this.storing = this.storeRecords(taken).finally(() => {
        this.storing = undefined;
        // Records queued while that write was in flight (their callers are waiting): store them now.
        const tried = new Set(taken);
        if (this.queue.some((record) => !tried.has(record))) void this.store();
      });
    }
    return this.storing;
  }

  private async storeRecords(taken: PendingRecord[]): Promise<boolean> {
    let complete = true;
    for (const target of TARGETS) {
      const records = taken.filter((record) => record.target === target);
      if (records.length === 0) continue;
      const storage = this.storages[target];
      try {
        await storage.append(records.flatMap((record) => record.entries));
        const stored = new Set(records);
        this.queue = this.queue.filter((record) => !stored.has(record));
        for (const record of records) record.settle(true);
      } catch (error) {
        complete = false;
        const count = records.reduce((sum, record) => sum + record.entries.length, 0);
        this.log(
          `COULD NOT STORE ${count} outbox entries for ${target} in ${storage.description}: holding them in memory ` +
            "(lost if this process dies) and trying again",
          error,
        );
        for (const record of records) record.settle(false);
      }
    }
    if (complete) {
      this.storeFailures = 0;
      return true;
    }
    this.storeFailures++;
    const delay = backoffMs(this.storeFailures, this.baseMs, this.capMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.store();
    }, delay);
    this.retryTimer.unref();
    return false;
  }
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(width, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(lanes);
}
