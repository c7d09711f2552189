/**
 * KeySync: brings one item on one store up to date with the other, by key. The outbox replays a missed write this way
 * instead of running the write again: it reads the item's current value from the authoritative store and makes the
 * target match (absent there: create; different: update with every attribute, which on DynamoDB moves keys and swaps
 * unique markers; gone from the authoritative store: delete). A sync is idempotent and its result does not depend on
 * how many writes were missed or in which order, so several entries of one key are one sync.
 *
 * A live write may land on both stores between the read and the write of a sync, and the sync would then put the
 * older value back. So after writing, the sync reads the authoritative store again and goes round once more when the
 * item changed meanwhile: the live write reached the target before that second read did, so the next round writes a
 * value at least as new.
 *
 * A sync the target refuses because a unique value is held there by another item resolves it (the outbox never
 * sticks on swapped values). On DynamoDB, an orphan marker (its owner item is not there, or does not hold the value)
 * is freed first, with a delete conditional on the owner as read (dynamodb/orphan-markers.ts). Otherwise it finds that item (DynamoDB's marker names it; on MySQL, the row with the values) and,
 * when the item's authoritative value no longer holds the value, syncs that key first, then tries again. Two users
 * who swapped emails while the target was down: A waits for B, B for A. Any chain of such waits is followed; a cycle
 * (B's sync waits for the A whose sync is under way) is broken by setting A aside: A's item is deleted on the target
 * (on DynamoDB with its markers; on MySQL with foreign keys not acting, so rows that reference A stay and no cascade
 * runs: MysqlEntityStore.setAside). It is safe, as A's authoritative value no longer holds the value, and A's sync,
 * under way, puts it back at once, under the same key; a crash in between leaves A's outbox entry, whose replay puts
 * it back (until then rows on MySQL reference a missing row). At most RESOLUTIONS conflicts per sync, however deep. When the other item's authoritative value
 * holds the value too, the stores disagree on who owns it: UniqueHeld, which no retry fixes.
 */
import { type Codec, CodecError, type EntityValue, withCopies } from "../codec/index.ts";
import { type DynamoEntityStore, uniqueMarkerKey } from "../dynamodb/index.ts";
import { AlreadyExists, type ErrorValues, NotFound, StoreError, UniqueViolation, WriteConflict } from "../errors.ts";
import type { MysqlEntityStore } from "../mysql/index.ts";
import { otherStore, type StoreName } from "../phases.ts";
import { encodeKey, identityOf } from "./entry.ts";

/** Rounds before a sync of an item that keeps changing gives up (the entry is tried again later). */
const ROUNDS = 5;

/** Unique conflicts one sync resolves at most, all keys it syncs first included. */
export const RESOLUTIONS = 32;

/**
 * A unique value the target's other item holds, and that item's authoritative value holds it too: the stores
 * disagree on which item owns the value, and no retry resolves it (a person must look).
 */
export class UniqueHeld extends StoreError {
  override readonly name = "UniqueHeld";
  constructor(
    target: StoreName,
    entity: string,
    readonly rule: string,
    readonly values: ErrorValues,
    readonly holder: EntityValue,
  ) {
    super(
      target,
      entity,
      `unique rule '${rule}': ${encodeKey(values as EntityValue)} is held on ${target} by ${encodeKey(holder)}, ` +
        `which holds it on ${otherStore(target)} too`,
    );
  }
}

/** A sync gave up because live writes kept changing the item under it (each of those writes checks itself). */
export class KeptChanging extends Error {
  override readonly name = "KeptChanging";
}

/** Errors no retry is expected to fix: the data, not an outage, says no. What the outbox marks stuck. */
export function isPermanent(error: unknown): boolean {
  if (error instanceof WriteConflict) return false;
  if (error instanceof StoreError || error instanceof CodecError) return true;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "ValidationException") return true;
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === "number" && MYSQL_DATA_ERRORS.has(errno);
}

/** MySQL's errors about the values themselves: too long, out of range, incorrect, NULL, a foreign key. */
const MYSQL_DATA_ERRORS: ReadonlySet<number> = new Set([1048, 1264, 1366, 1406, 1451, 1452]);

/** What one sync (with the keys it syncs first) shares: the keys under way and the conflicts left to resolve. */
interface Resolution {
  chain: Set<string>;
  left: number;
}

export type SyncOutcome = "created" | "updated" | "deleted" | "unchanged";

export class KeySync {
  constructor(
    private readonly codec: Codec,
    private readonly mysql: MysqlEntityStore,
    private readonly dynamodb: DynamoEntityStore,
  ) {}

  /**
   * Makes `target`'s item under `key` match the other store's; says what it had to do. A unique value held on the
   * target by another item that should no longer hold it is freed first (see above).
   */
  sync(target: StoreName, entity: string, key: EntityValue): Promise<SyncOutcome> {
    return this.resolving(target, entity, key, { chain: new Set(), left: RESOLUTIONS });
  }

  private async resolving(
    target: StoreName,
    entity: string,
    key: EntityValue,
    resolution: Resolution,
  ): Promise<SyncOutcome> {
    const id = this.idOf(entity, key);
    resolution.chain.add(id);
    try {
      for (;;) {
        try {
          return await this.syncOnce(target, entity, key);
        } catch (error) {
          if (!(error instanceof UniqueViolation) || error.store !== target) throw error;
          if (resolution.left <= 0) {
            throw new StoreError(
              target,
              entity,
              `gave up after resolving ${RESOLUTIONS} unique conflicts in one sync; the last: ${error.message}`,
              { cause: error },
            );
          }
          resolution.left--;
          await this.resolve(target, error, id, resolution);
        }
      }
    } finally {
      resolution.chain.delete(id);
    }
  }

  /** Frees the value `refused` says is taken on the target (or throws when it must stay taken). */
  private async resolve(target: StoreName, refused: UniqueViolation, self: string, resolution: Resolution) {
    const { entity, rule } = refused;
    const values = refused.values as EntityValue;
    // An orphan marker (its owner is not there, or does not hold the value) is freed, with a delete conditional on
    // the owner as read; then the write is tried again. Also when the marker went or changed meanwhile.
    if (target === "dynamodb" && (await this.dynamodb.freeOrphanMarker(entity, rule, values)) !== "held") return;
    const holder = await this.holderOf(target, entity, rule, values);
    if (holder === undefined) return; // Freed meanwhile: try again.
    const holderKey = identityOf(this.codec, entity, holder);
    const holderId = this.idOf(entity, holderKey);
    if (holderId === self) throw refused;
    const authoritative = await this.read(otherStore(target), entity, holderKey);
    if (authoritative !== undefined && this.holds(entity, rule, authoritative, values)) {
      throw new UniqueHeld(target, entity, rule, refused.values, holderKey);
    }
    if (!resolution.chain.has(holderId)) {
      await this.resolving(target, entity, holderKey, resolution);
      return;
    }
    // A cycle: the holder's sync is under way further up and waits for this one. Set the holder aside.
    if (target === "dynamodb") await this.dynamodb.delete(entity, holderKey);
    else await this.mysql.setAside(entity, holderKey);
  }

  /** The target's item that holds a unique rule's values; undefined when none does. */
  private async holderOf(
    target: StoreName,
    entity: string,
    rule: string,
    values: EntityValue,
  ): Promise<EntityValue | undefined> {
    if (target === "mysql") return (await this.mysql.list(entity, { where: values, limit: 1 })).items[0];
    const held = await this.dynamodb.uniqueHolder(entity, rule, values);
    if (held === undefined) return undefined;
    // A marker whose owner went since freeOrphanMarker looked: try again (which frees it).
    return held.owner;
  }

  /** `value` holds the rule's `values` (as the marker keys, folded like their collation, compare them). */
  private holds(entity: string, rule: string, value: EntityValue, values: EntityValue): boolean {
    const codec = this.codec.entity(entity);
    const mine = uniqueMarkerKey(codec, rule, value);
    const theirs = uniqueMarkerKey(codec, rule, values);
    return mine !== undefined && theirs !== undefined && JSON.stringify(mine) === JSON.stringify(theirs);
  }

  private idOf(entity: string, key: EntityValue): string {
    const codec = this.codec.entity(entity);
    return JSON.stringify([entity, ...codec.identity.map((a) => codec.attribute(a).normalize(key[a]))]);
  }

  private async syncOnce(target: StoreName, entity: string, key: EntityValue): Promise<SyncOutcome> {
    const source = otherStore(target);
    let outcome: SyncOutcome = "unchanged";
    for (let round = 1; ; round++) {
      const wanted = await this.read(source, entity, key);
      const stored = await this.read(target, entity, key);
      try {
        const done = await this.apply(target, entity, key, wanted, stored);
        if (done !== "unchanged") outcome = done;
      } catch (error) {
        // The target changed between its read and the write (a live write, or another process's sync): look again.
        const raced = error instanceof AlreadyExists || error instanceof NotFound || error instanceof WriteConflict;
        if (raced && round < ROUNDS) continue;
        throw error;
      }
      if (this.same(entity, wanted, await this.read(source, entity, key))) return outcome;
      if (round >= ROUNDS) {
        throw new KeptChanging(`${entity}: the item kept changing on ${source} while it was synced to ${target}`);
      }
    }
  }

  /**
   * Checks that `target`'s item under `key` matches the other store's, reading both at once, and syncs it when it does
   * not. Called right after a write to `target` has landed: both reads then come after that write.
   */
  async settle(target: StoreName, entity: string, key: EntityValue): Promise<SyncOutcome> {
    const [wanted, stored] = await Promise.all([
      this.read(otherStore(target), entity, key),
      this.read(target, entity, key),
    ]);
    if (this.same(entity, wanted, stored)) return "unchanged";
    return this.sync(target, entity, key);
  }

  /**
   * settle() when the caller knows what `target` held right after its write (the value the write returned or put, or
   * undefined after a delete): only the other store is read.
   */
  async settleAfter(
    target: StoreName,
    entity: string,
    key: EntityValue,
    written: EntityValue | undefined,
  ): Promise<SyncOutcome> {
    const wanted = await this.read(otherStore(target), entity, key);
    if (this.same(entity, wanted, written)) return "unchanged";
    return this.sync(target, entity, key);
  }

  private async apply(
    target: StoreName,
    entity: string,
    key: EntityValue,
    wanted: EntityValue | undefined,
    stored: EntityValue | undefined,
  ): Promise<SyncOutcome> {
    if (wanted === undefined) {
      if (stored === undefined) return "unchanged";
      if (target === "mysql") await this.mysql.delete(entity, key);
      else await this.dynamodb.delete(entity, key);
      return "deleted";
    }
    const value = await this.valueFor(target, entity, wanted);
    if (stored === undefined) {
      if (target === "mysql") await this.mysql.create(entity, value);
      else await this.dynamodb.create(entity, value);
      return "created";
    }
    if (this.codec.entity(entity).diff(wanted, stored).length === 0) return "unchanged";
    if (target === "mysql") await this.mysql.update(entity, key, value);
    else await this.dynamodb.update(entity, key, value);
    return "updated";
  }

  /**
   * The value to write: every attribute (null where there is none, so that an update clears it too); for DynamoDB
   * with the denormalised copies read from the source store, for MySQL without them (it has no columns for them).
   */
  async valueFor(target: StoreName, entity: string, wanted: EntityValue): Promise<EntityValue> {
    const codec = this.codec.entity(entity);
    const value: EntityValue = {};
    for (const attribute of codec.attributes) value[attribute.name] = wanted[attribute.name] ?? null;
    if (target === "mysql") return value;
    return withCopies(this.codec, entity, value, (source, key) => this.read(otherStore(target), source, key));
  }

  private read(store: StoreName, entity: string, key: EntityValue): Promise<EntityValue | undefined> {
    return store === "mysql" ? this.mysql.get(entity, key) : this.dynamodb.get(entity, key);
  }

  private same(entity: string, a: EntityValue | undefined, b: EntityValue | undefined): boolean {
    if (a === undefined || b === undefined) return a === b;
    return this.codec.entity(entity).diff(a, b).length === 0;
  }
}
