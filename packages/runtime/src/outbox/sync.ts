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
 */
import { type Codec, type EntityValue, withCopies } from "../codec/index.ts";
import type { DynamoEntityStore } from "../dynamodb/index.ts";
import { AlreadyExists, NotFound, WriteConflict } from "../errors.ts";
import type { MysqlEntityStore } from "../mysql/index.ts";
import { otherStore, type StoreName } from "../phases.ts";

/** Rounds before a sync of an item that keeps changing gives up (the entry is tried again later). */
const ROUNDS = 5;

export type SyncOutcome = "created" | "updated" | "deleted" | "unchanged";

export class KeySync {
  constructor(
    private readonly codec: Codec,
    private readonly mysql: MysqlEntityStore,
    private readonly dynamodb: DynamoEntityStore,
  ) {}

  /** Makes `target`'s item under `key` match the other store's; says what it had to do. */
  async sync(target: StoreName, entity: string, key: EntityValue): Promise<SyncOutcome> {
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
        throw new Error(`${entity}: the item kept changing on ${source} while it was synced to ${target}`);
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
    const value = await this.forTarget(target, entity, wanted);
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
  private async forTarget(target: StoreName, entity: string, wanted: EntityValue): Promise<EntityValue> {
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
