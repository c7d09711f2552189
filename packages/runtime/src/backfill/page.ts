/**
 * BackfillPage: writes one page of an entity's rows to DynamoDB, fast and safe under live dual writes (the argument is
 * docs/backfill.md's; in short):
 *
 * 1. t0: the rows were read from MySQL (SourceRows.page) by the caller.
 * 2. Each row's items are computed with the live path's codec (entityItems): a row the codec cannot map, or whose
 *    item is over DynamoDB's 400 KB, is rejected with its key and the reason; the run goes on.
 * 3. t1, when the caller asks (a re-run, a resumed segment): the page's items are read (BatchGetItem, consistent). An
 *    item there and equal is skipped (a re-run writes nothing); an item there and different was written by the live
 *    path since dual writes began, and is re-synced (5) rather than overwritten. Only absent items go on. Safety does
 *    not rest on this check: without it an item there is overwritten like an absent one, and 5 settles it.
 * 4. t2: the items and their unique markers go out in unconditional BatchWriteItem requests (BulkWriter), each item
 *    at a new item's version. A marker of a row unchanged at t4 names the one row that held its value all along; one
 *    that named another row before was stale (that row's own writes leave it: DynamoEntityStore.update and delete
 *    leave an old value's marker another item holds).
 * 5. t4: the page's rows are read again by key. A row that changed or went since t0 (a live write landed between t0
 *    and t4, and its copy may have been overwritten at t2) is re-synced from MySQL with KeySync, whose writes are
 *    conditional on the item's version and which reads MySQL again after writing. A row unchanged at t4 has the
 *    value it had at t0, which is what t2 wrote; any live write after t4 lands its copy after t2 and the live path
 *    settles it.
 * 6. What a changed row held at t0 and holds no more (its item's key, a unique value) may belong to another row now,
 *    whose item or marker the bulk write may have replaced: each row of MySQL that holds it now is re-synced too, and
 *    its markers put back where missing; a marker of a value nobody holds any more is freed.
 */
import { type DynamoDBClient, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import pLimit from "p-limit";
import { type Codec, ENTITY_ATTRIBUTE, type EntityCodec, type EntityValue, type Item } from "../codec/index.ts";
import { batchGetItems } from "../dynamodb/batch-get.ts";
import { type DynamoEntityStore, entityItems, itemBytes, MAX_ITEM_BYTES } from "../dynamodb/index.ts";
import { primaryKey } from "../dynamodb/item-keys.ts";
import { freeOrphanMarker, markerOwnerKey, restoreMarkers } from "../dynamodb/orphan-markers.ts";
import { allUniqueRules, uniqueMarkerKey, uniqueRules } from "../dynamodb/unique-markers.ts";
import type { MysqlEntityStore } from "../mysql/index.ts";
import { identityOf } from "../outbox/entry.ts";
import { KeptChanging, type KeySync } from "../outbox/sync.ts";
import { keyId, type RowRead, type SourceRows } from "../rows/index.ts";
import { isTransient } from "../transient.ts";
import type { BulkWriter } from "./bulk-writer.ts";

/** Re-syncs of one page in flight at most. */
const SYNCS_IN_FLIGHT = 8;

/** Something a changed row held at t0 and holds no more: the attribute values of whoever holds it now. */
interface Vacated {
  where: EntityValue;
  /** A unique value's marker key (absent for the item's own key). */
  marker?: Item;
}

/** A row that could not be written, and why. */
export interface PageRejection {
  key: EntityValue;
  reason: string;
}

export interface PageOutcome {
  /** Rows whose items were written (bulk, or through a re-sync). */
  written: number;
  /** Rows whose item was there and equal already. */
  skipped: number;
  /** Rows re-synced from MySQL after the bulk write (changed since read, or a marker held). */
  resynced: number;
  /** Items written in bulk, markers included. */
  items: number;
  rejected: PageRejection[];
  /** Whether the page's items were looked up before writing (the check, step 3): how many, and how many were there. */
  checked: boolean;
  looked: number;
  found: number;
}

/** Places a test can hold the backfill at, to force an interleaving with a live write. */
export interface BackfillHooks {
  /** After the rows were read and mapped, before anything is written. */
  beforeWrite?: (entity: string, keys: readonly EntityValue[]) => Promise<void> | void;
  /** After the bulk write, before the rows are read again. */
  beforeReread?: (entity: string, keys: readonly EntityValue[]) => Promise<void> | void;
}

export interface BackfillPageOptions {
  tablePrefix: string;
  hooks?: BackfillHooks;
}

interface Mapped {
  key: EntityValue;
  /** The row with its denormalised copies. */
  value: EntityValue;
  /** The row as read (no copies): what an item there already is compared with, as the live path compares. */
  row: EntityValue;
  item: Item;
  markers: Item[];
  /** The row's word items (dynamodb/word-items.ts): written with the item. */
  words: Item[];
}

export class BackfillPage {
  constructor(
    private readonly codec: Codec,
    private readonly client: DynamoDBClient,
    private readonly rows: SourceRows,
    private readonly dynamodb: DynamoEntityStore,
    private readonly sync: KeySync,
    private readonly writer: BulkWriter,
    private readonly options: BackfillPageOptions,
    private readonly mysql: MysqlEntityStore,
  ) {}

  /**
   * Writes the page. `check` (default true) looks the items up first, so that those there and equal are skipped: what
   * a re-run or a resumed segment needs. Without it every mappable row is written (the argument holds for an item
   * there already as for an absent one: docs/backfill.md), which spares a read of every item on a first pass.
   */
  async write(entity: string, reads: readonly RowRead[], check = true): Promise<PageOutcome> {
    const codec = this.codec.entity(entity);
    const table = this.dynamodb.tableName(entity);
    const outcome: PageOutcome = {
      written: 0,
      skipped: 0,
      resynced: 0,
      items: 0,
      rejected: [],
      checked: check,
      looked: 0,
      found: 0,
    };
    const readable: Array<{ key: EntityValue; value: EntityValue }> = [];
    for (const read of reads) {
      if ("error" in read) outcome.rejected.push({ key: read.key, reason: reasonOf(read.error) });
      else readable.push(read);
    }
    const filled = await this.rows.withCopies(
      entity,
      readable.map((read) => read.value),
    );
    let mapped: Mapped[] = [];
    for (const [index, value] of filled.entries()) {
      const key = readable[index]?.key as EntityValue;
      try {
        const items = entityItems(codec, value);
        const bytes = itemBytes(items.item);
        if (bytes > MAX_ITEM_BYTES) {
          outcome.rejected.push({
            key,
            reason: `its item is ${bytes} bytes, over DynamoDB's limit of ${MAX_ITEM_BYTES}`,
          });
          continue;
        }
        mapped.push({
          key,
          value,
          row: readable[index]?.value ?? value,
          item: items.item,
          markers: items.markers.map((marker) => marker.item),
          words: items.words,
        });
      } catch (error) {
        outcome.rejected.push({ key, reason: reasonOf(error) });
      }
    }
    // The items there already: equal ones are skipped; different ones (a live write made them) are re-synced with
    // conditional writes rather than overwritten.
    const slow = new Set<Mapped>();
    // The check reads the rows' markers too: one that names another row (stale, or a value MySQL's collation keeps
    // apart from this row's and the marker's folding does not) sends the row to the re-sync, which frees a stale one
    // and reports a true conflict, rather than overwriting it.
    const stored = check
      ? await this.storedItems(
          table,
          codec,
          mapped.flatMap((row) => [codec.key(row.value), ...row.markers.map((marker) => primaryKey(codec, marker))]),
        )
      : new Map<string, Item>();
    if (check) outcome.looked = mapped.length;
    const heldMarkers = new Set<Mapped>();
    // Word items of the rows whose item is there and equal: put again (they are the row's own, and idempotent), so an
    // item written before its word index was in the contract gets them.
    const wordsOfSkipped: Item[] = [];
    mapped = mapped.filter((row) => {
      const mine = JSON.stringify(codec.key(row.value));
      const item = stored.get(mine);
      if (item !== undefined) outcome.found++;
      const markerHeld = row.markers.some((marker) => {
        const there = stored.get(JSON.stringify(primaryKey(codec, marker)));
        const owner = there === undefined ? undefined : markerOwnerKey(codec, there);
        return there !== undefined && JSON.stringify(owner) !== mine;
      });
      if (markerHeld) heldMarkers.add(row);
      if (item === undefined && !markerHeld) return true;
      if (
        item !== undefined &&
        !markerHeld &&
        item[ENTITY_ATTRIBUTE]?.S === codec.name &&
        codec.diff(codec.fromItem(item), row.row).length === 0
      ) {
        // An equal item whose marker is missing (a worker killed between its items and their markers, or a marker
        // lost since) goes out in bulk again with its markers: skipped, the marker would stay missing.
        if (row.markers.some((marker) => !stored.has(JSON.stringify(primaryKey(codec, marker))))) return true;
        outcome.skipped++;
        wordsOfSkipped.push(...row.words);
        return false;
      }
      slow.add(row);
      return false;
    });
    const keys = mapped.map((row) => row.key);
    const pageKeys = reads.map((read) => read.key);

    // The items and their unique markers go out together, unconditionally: a marker that names another row now is
    // stale or is settled after the re-read (docs/backfill.md, "Markers"). Two rows of a page whose markers would share
    // a key (values MySQL's collation keeps apart and the marker's folding does not) are left to the re-sync.
    const markerKeys = new Set<string>();
    for (const row of mapped) {
      for (const marker of row.markers) {
        const id = JSON.stringify(primaryKey(codec, marker));
        if (markerKeys.has(id)) slow.add(row);
        markerKeys.add(id);
      }
    }
    await this.options.hooks?.beforeWrite?.(entity, pageKeys);
    const bulk = mapped.filter((row) => !slow.has(row));
    const markers = bulk.flatMap((row) => row.markers);
    // A row's word items are its own (their keys hold its primary key): written with it, never in another's way.
    const words = [...bulk.flatMap((row) => row.words), ...wordsOfSkipped];
    await this.writer.put(table, [...bulk.map((row) => row.item), ...markers, ...words]);
    outcome.items += markers.length + words.length;
    outcome.items += bulk.length;
    outcome.written += bulk.length;
    await this.options.hooks?.beforeReread?.(entity, keys);

    // Read the rows again: what changed or went since the first read is re-synced from MySQL.
    const now = await this.rows.byKeys(entity, keys);
    const resync: Mapped[] = [...slow];
    /** The bulk-written rows that changed since t0: what their old values held, others may hold now. */
    const changed = new Map<Mapped, EntityValue | undefined>();
    for (const row of bulk) {
      const current = now.get(keyId(this.codec, entity, row.key));
      if (current === undefined || "error" in current || codec.diff(current.value, row.value).length > 0) {
        resync.push(row);
        changed.set(row, current === undefined || "error" in current ? undefined : current.value);
      }
    }
    // What each changed row held at t0 and holds no more (settled below, after the rows' own re-syncs, whatever they
    // come to: a row that keeps changing still let go of what it held).
    const vacated = new Map<string, Vacated>();
    for (const [row, current] of changed) {
      for (const [id, slot] of this.vacatedBy(entity, row.value, current)) vacated.set(id, slot);
    }
    const limit = pLimit(SYNCS_IN_FLIGHT);
    await Promise.all(
      resync.map((row) =>
        limit(async () => {
          try {
            const done = await this.sync.sync("dynamodb", entity, identityOf(this.codec, entity, row.value));
            outcome.resynced++;
            if (slow.has(row) && done !== "deleted" && done !== "unchanged") outcome.written++;
            // A re-sync that found the item equal leaves the markers: a stale one is freed and the row's put back, a
            // value another row's item truly holds is reported.
            if (heldMarkers.has(row) && done !== "deleted") {
              const restored = await restoreMarkers(this.client, table, codec, codec.key(row.value));
              if (restored.held.length > 0) {
                outcome.rejected.push({
                  key: row.key,
                  reason: `its unique value (${restored.held.join(", ")}) is held by another item`,
                });
              }
            }
          } catch (error) {
            // A store away for a while: the page is done again (it is idempotent).
            if (isTransient(error)) throw error;
            // Live writes keep changing the row (or its markers, under restoreMarkers' conditions): each of them checks
            // its copy itself (docs/convergence.md).
            if (error instanceof KeptChanging || error instanceof TransactionCanceledException) {
              outcome.resynced++;
              return;
            }
            outcome.rejected.push({ key: row.key, reason: `could not be written: ${reasonOf(error)}` });
          }
        }),
      ),
    );
    // The rows that took what a changed row held at t0 (its item's key, a unique value): the bulk write may have put
    // the old row's item over theirs (docs/backfill.md, "Keys and values another row takes"). Each is re-synced and
    // its markers put back where missing, after the changed rows' own re-syncs moved their items away.
    // They are not the page's rows: not counted as its re-syncs.
    const holders = new Map<string, EntityValue>();
    await Promise.all(
      [...vacated.values()].map(({ where }) =>
        limit(async () => {
          for (const holder of (await this.mysql.list(entity, { where, limit: 2 })).items) {
            holders.set(keyId(this.codec, entity, identityOf(this.codec, entity, holder)), holder);
          }
        }),
      ),
    );
    await Promise.all(
      [...holders.values()].map((holder) =>
        limit(async () => {
          const identity = identityOf(this.codec, entity, holder);
          try {
            await this.sync.sync("dynamodb", entity, identity);
            await restoreMarkers(this.client, table, codec, codec.key(holder));
          } catch (error) {
            if (isTransient(error)) throw error;
            // Live writes are changing that row (its item or a marker moved under the conditional writes): each of
            // them checks its own copy.
            if (error instanceof KeptChanging || error instanceof TransactionCanceledException) return;
            outcome.rejected.push({
              key: identity,
              reason: `holds what a row of the page let go, and could not be written: ${reasonOf(error)}`,
            });
          }
        }),
      ),
    );
    // A unique value nobody holds any more keeps no marker: one the bulk write put for a row that let the value go is
    // freed (only if its owner item, as read, does not hold it: freeOrphanMarker).
    await Promise.all(
      [...vacated.values()].map(({ marker }) =>
        marker === undefined ? undefined : limit(() => freeOrphanMarker(this.client, table, codec, marker)),
      ),
    );
    return outcome;
  }

  /**
   * Whether every page of `entity` must be checked before writing (docs/backfill.md, step 2): when one of its unique
   * rules names an attribute its key does not (a user's email), an item overwritten unread would keep the markers of
   * the values it held; when one names a text attribute with a `_ci` collation, two rows' values MySQL keeps apart
   * can fold to one marker, which an unconditional write would take from the other row. An item under a key always
   * holds the values the key is made of, so a rule over those only (an order line's order and product) has the same
   * marker before and after.
   */
  needsCheck(entity: string): boolean {
    const codec = this.codec.entity(entity);
    const keyed = new Set(codec.identity.filter((name) => !codec.checkedIdentity.includes(name)));
    // Every rule, those the key enforces too: a `_ci` value in the key can fold two of MySQL's rows to one item.
    return allUniqueRules(codec).some((rule) =>
      rule.attributes.some((name) => !keyed.has(name) || codec.attribute(name).caseInsensitive),
    );
  }

  /**
   * What a row's value at t0 held and its value now (`now`; undefined: gone) does not: its item's key and its unique
   * values, each as the attribute values that select the row holding it now (and the marker's key for a unique
   * value), by a description of the slot.
   */
  private vacatedBy(entity: string, then: EntityValue, now: EntityValue | undefined): Array<[string, Vacated]> {
    const codec = this.codec.entity(entity);
    const pick = (value: EntityValue, attributes: readonly string[]) =>
      Object.fromEntries(attributes.map((name) => [name, value[name]]));
    const slots: Array<{
      name: string;
      where: EntityValue;
      slot: (value: EntityValue) => Item | undefined;
      marker: boolean;
    }> = [
      {
        name: "key",
        where: pick(
          then,
          codec.identity.filter((name) => !codec.checkedIdentity.includes(name)),
        ),
        slot: (value) => codec.key(value),
        marker: false,
      },
      ...uniqueRules(codec).map((rule) => ({
        name: `unique ${rule.name}`,
        where: pick(then, rule.attributes),
        slot: (value: EntityValue) => uniqueMarkerKey(codec, rule.name, value),
        marker: true,
      })),
    ];
    const vacated: Array<[string, Vacated]> = [];
    for (const { name, where, slot, marker } of slots) {
      const held = slot(then);
      if (held === undefined || Object.values(where).some((value) => value === null || value === undefined)) continue;
      const before = JSON.stringify(held);
      if (now !== undefined && JSON.stringify(slot(now)) === before) continue;
      vacated.push([`${name} ${before}`, marker ? { where, marker: held } : { where }]);
    }
    return vacated;
  }

  /** The items under `keys` as DynamoDB holds them now (consistent reads), by their key as JSON. */
  private storedItems(table: string, codec: EntityCodec, keys: readonly Item[]): Promise<Map<string, Item>> {
    return batchGetItems(this.client, table, keys, (key) => JSON.stringify(primaryKey(codec, key)));
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
