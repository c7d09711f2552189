/**
 * STRANDED outbox entries: entries for the store that is authoritative now. Each says that store missed a write while
 * it was the secondary one, and the phase moved before the entry was replayed; only a forced move leaves them behind
 * (a safe move waits until no entry for the store about to become authoritative waits: control/phase-move.ts). No
 * replay reaches them: replays copy from the authoritative store to the other one.
 *
 * In the phases that write both stores (2, 3, 4) they settle themselves (`settle`, run by every drain pass). Call X
 * the authoritative store now, Y the other one, and W0 the write X missed, which Y holds. Since the move every write
 * lands on X first and then on Y, and while a write's copy to Y is under way or has failed, an entry for Y names its
 * key (its intent is stored before DynamoDB is written, or in MySQL's transaction with the row: ./intents.ts). So:
 *
 * - No entry for Y names the key: Y holds W0 and every later write X holds, so Y's value is the newest one, and it is
 *   copied onto X. The copy is conditional on X's item as read BEFORE the look for entries: on DynamoDB a write at the
 *   version read then (`ifVersion`), on MySQL inside a transaction that locks the row (SELECT ... FOR UPDATE) before
 *   it looks. A live write that reached X after that read either recorded its entry for Y before the look (seen: the
 *   key waits) or made the conditional copy fail (tried again later); on MySQL it waits for the lock and lands after.
 * - Some entry for Y names it: X holds a write Y lacks. The key waits (a postponement, not a failure that can stick)
 *   until those entries have landed on Y; then both stores agree and the stranded entry is removed without a write.
 *
 * It rests on every writer of the fleet recording its write intents (FleetMember's stores do: router option
 * `intents`); a writer without them shows no entry while its copy is under way. A move records an entry under the old
 * key as well as the new one (./entry.ts), so a look for either finds it; a settle deletes a moved item's old key by
 * that entry, never ahead of the new key's.
 *
 * Known limits: a key written in the new phase before its stranded entry settled ends with the newer write (the copy
 * that follows every write makes Y match X), so W0's other fields are lost on both stores; a waiting key backs off up
 * to the outbox's cap (30 s), and hot keys are the likeliest to wait. A copy to Y that failed ambiguously and lands
 * after its entry was replayed is copied onto X by a later settle. Two stranded keys that swapped unique values are
 * refused by X (a settle does not resolve unique conflicts as a replay does) and end stuck, for an operator.
 *
 * In phase 1 (only MySQL written) and phase 5 (only DynamoDB) the other store takes no writes and no entries for it
 * are recorded, so nothing tells whether it still holds the newest value: the entries wait for an operator, who
 * settles them key by key after looking at each difference (`resolveStranded`, `ferry outbox resolve --from`).
 */
import type { Codec, EntityValue, FieldDiff } from "../codec/index.ts";
import type { DynamoEntityStore } from "../dynamodb/index.ts";
import type { MysqlEntityStore } from "../mysql/index.ts";
import { otherStore, PHASES, type Phase, type PhaseSource, type StoreName, type WriteTicket } from "../phases.ts";
import { encodeKey, errorText, groupByKey, keyIdOf, type OutboxEntry } from "./entry.ts";
import type { MysqlOutboxStorage } from "./mysql-storage.ts";
import type { OutboxStorage } from "./storage.ts";
import type { KeySync, SyncOutcome } from "./sync.ts";

/** Entries for `target` are stranded in `phase`: it is the authoritative store, so no replay reaches it. */
export function isStranded(phase: Phase, target: StoreName): boolean {
  return PHASES[phase].authoritative === target;
}

/** The phases whose writes reach both stores, in which stranded entries settle themselves. */
export function settlesStranded(phase: Phase): boolean {
  return phase >= 2 && phase <= 4;
}

/** A stranded key waits for the entries the other store has for it (see above): tried again later. */
export class StrandedKeyWaits extends Error {
  override readonly name = "StrandedKeyWaits";
  constructor(entity: string, key: EntityValue, other: StoreName) {
    super(`${entity} ${encodeKey(key)} has writes on its way to ${other} too: settled once they have landed there`);
  }
}

/** What resolveStranded did (or, with dryRun, would do) for one key. */
export interface StrandedKey {
  entity: string;
  key: EntityValue;
  /** The key's entries (one key may have several). */
  entries: number;
  /** The key's value on each store (undefined: no item), as it may be shown: a sensitive attribute's as its tag. */
  mysql: EntityValue | undefined;
  dynamodb: EntityValue | undefined;
  /**
   * The codec's diff, `left` being the `from` store's value; empty when both agree (or both are absent). A sensitive
   * attribute's values are tags.
   */
  diff: FieldDiff[];
  /** What the sync did; undefined in a dry run or when it failed. */
  outcome?: SyncOutcome;
  /** Why the sync failed (the entries stay). */
  error?: string;
}

export interface ResolveOptions {
  /** The store whose values win: each key is synced from it to the other store. */
  from: StoreName;
  /** Only this entity's entries. */
  entity?: string;
  /** Show the differences, change nothing. */
  dryRun?: boolean;
  /** Told about each key, after it was handled. */
  onKey?: (key: StrandedKey) => void;
}

export interface ResolveResult {
  /** The store the stranded entries were for (the authoritative one). */
  target: StoreName;
  /** Keys synced and their entries removed. */
  resolved: number;
  /** Keys whose sync failed (their entries stay). */
  failed: number;
  /** Keys seen (in a dry run: all of them). */
  keys: number;
}

export interface StrandedParts {
  codec: Codec;
  sync: KeySync;
  mysql: MysqlEntityStore;
  dynamodb: DynamoEntityStore;
  /** Where the entries for each target are kept (those for DynamoDB in MySQL, those for MySQL in DynamoDB). */
  storages: { dynamodb: MysqlOutboxStorage; mysql: OutboxStorage };
  /** The phase, and the tickets of replays (a move of the authoritative store waits for those in flight). */
  phase: PhaseSource;
  /** The most entries read at once. */
  batch: number;
}

export class StrandedEntries {
  private mysqlQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly parts: StrandedParts) {}

  /**
   * Settles one stranded key on `target` (the authoritative store) as described above: copies the other store's value
   * onto it, on condition that it has not changed since it was read, when no entry for the other store names the key.
   * Throws StrandedKeyWaits while some does, WriteConflict or AlreadyExists when a live write came first.
   */
  settle(target: StoreName, entity: string, key: EntityValue): Promise<SyncOutcome> {
    return target === "dynamodb" ? this.onDynamo(entity, key) : this.onMysql(entity, key);
  }

  private async onDynamo(entity: string, key: EntityValue): Promise<SyncOutcome> {
    const { mysql, dynamodb, sync, storages, codec } = this.parts;
    const before = await dynamodb.versioned(entity, key);
    if (await storages.mysql.holdsKey("mysql", keyIdOf(codec, "mysql", entity, key))) {
      throw new StrandedKeyWaits(entity, key, "mysql");
    }
    const wanted = await mysql.get(entity, key);
    if (this.same(entity, wanted, before?.value)) return "unchanged";
    if (wanted === undefined) {
      await dynamodb.delete(entity, key, before === undefined ? {} : { ifVersion: before.version });
      return "deleted";
    }
    const value = await sync.valueFor("dynamodb", entity, wanted);
    if (before === undefined) {
      await dynamodb.create(entity, value);
      return "created";
    }
    await dynamodb.update(entity, key, value, { ifVersion: before.version });
    return "updated";
  }

  /**
   * One at a time in this process: the row lock of an absent key is a gap lock, and two settles' inserts into one gap
   * (rows created in phase 4, above MySQL's highest id) would deadlock each other.
   */
  private onMysql(entity: string, key: EntityValue): Promise<SyncOutcome> {
    const settled = this.mysqlQueue.then(() => this.onMysqlNow(entity, key));
    this.mysqlQueue = settled.catch(() => undefined);
    return settled;
  }

  private onMysqlNow(entity: string, key: EntityValue): Promise<SyncOutcome> {
    const { mysql, dynamodb, sync, storages, codec } = this.parts;
    return mysql.transaction(async (tx) => {
      const before = await tx.getForUpdate(entity, key);
      const keyId = keyIdOf(codec, "dynamodb", entity, key);
      if (await storages.dynamodb.holdsKey("dynamodb", keyId, tx.executor)) {
        throw new StrandedKeyWaits(entity, key, "dynamodb");
      }
      const wanted = await dynamodb.get(entity, key);
      if (this.same(entity, wanted, before)) return "unchanged";
      if (wanted === undefined) {
        await tx.delete(entity, key);
        return "deleted";
      }
      const value = await sync.valueFor("mysql", entity, wanted);
      if (before === undefined) {
        await tx.create(entity, value);
        return "created";
      }
      await tx.update(entity, key, value);
      return "updated";
    });
  }

  /**
   * The operator's way (phases 1 and 5, or any time): settles the stranded entries key by key, syncing each key from
   * the `from` store to the other one after reading both values and their diff, and removes the key's entries. With
   * dryRun only the diffs are reported. The phase is read again before each key; the call stops when the entries are
   * no longer stranded.
   */
  async resolve(options: ResolveOptions): Promise<ResolveResult> {
    const { storages, mysql, dynamodb, sync, batch } = this.parts;
    const phase = () => this.parts.phase.phase();
    const target = PHASES[phase()].authoritative;
    const storage = storages[target];
    const into = otherStore(options.from);
    let resolved = 0;
    let failed = 0;
    let keys = 0;
    let afterSeq: bigint | undefined;
    for (;;) {
      const page = await storage.head(target, batch, afterSeq === undefined ? {} : { afterSeq });
      const last = page[page.length - 1];
      if (last === undefined) break;
      afterSeq = last.seq;
      for (const group of groupByKey(page).values()) {
        const first = group[0] as OutboxEntry;
        if (options.entity !== undefined && first.entity !== options.entity) continue;
        if (!isStranded(phase(), target)) return { target, resolved, failed, keys };
        keys++;
        const inMysql = await mysql.get(first.entity, first.key);
        const inDynamo = await dynamodb.get(first.entity, first.key);
        const winner = options.from === "mysql" ? inMysql : inDynamo;
        const loser = options.from === "mysql" ? inDynamo : inMysql;
        const report: StrandedKey = {
          entity: first.entity,
          key: first.key,
          entries: group.length,
          // As shown to an operator: a sensitive attribute's values as tags.
          mysql: this.shown(first.entity, inMysql),
          dynamodb: this.shown(first.entity, inDynamo),
          diff: this.parts.codec.entity(first.entity).shownDiff(this.presenceDiff(first.entity, winner, loser)),
        };
        if (!options.dryRun) {
          let ticket: WriteTicket | undefined;
          try {
            // Counted as a write in flight, so a move of the authoritative store waits for it.
            ticket = this.parts.phase.beginReplay?.();
            if (ticket !== undefined && !isStranded(ticket.phase, target)) return { target, resolved, failed, keys };
            for (const moved of movedFromKeys(group)) await sync.sync(into, first.entity, moved);
            report.outcome = await sync.sync(into, first.entity, first.key);
            await storage.remove(group);
            resolved++;
          } catch (error) {
            report.error = errorText(error);
            failed++;
          } finally {
            ticket?.done();
          }
        }
        options.onKey?.(report);
      }
    }
    return { target, resolved, failed, keys };
  }

  /** A value as it may be shown (sensitive attributes as tags). */
  private shown(entity: string, value: EntityValue | undefined): EntityValue | undefined {
    return value === undefined ? undefined : this.parts.codec.entity(entity).shownValue(value);
  }

  /** The codec's diff of two values, an absent one counting as every field null. */
  private presenceDiff(entity: string, left: EntityValue | undefined, right: EntityValue | undefined) {
    if (left === undefined && right === undefined) return [];
    return this.parts.codec.entity(entity).diff(left ?? {}, right ?? {});
  }

  private same(entity: string, a: EntityValue | undefined, b: EntityValue | undefined): boolean {
    if (a === undefined || b === undefined) return a === b;
    return this.parts.codec.entity(entity).diff(a, b).length === 0;
  }
}

/** The keys a group's entries moved their item from (an update that changed its identity), each once. */
export function movedFromKeys(group: readonly OutboxEntry[]): EntityValue[] {
  const keys = new Map<string, EntityValue>();
  for (const entry of group) if (entry.movedFrom) keys.set(encodeKey(entry.movedFrom), entry.movedFrom);
  return [...keys.values()];
}
