/**
 * BackfillPage: writes one page of an entity's rows to DynamoDB, fast and safe under live dual writes (the argument is
 * docs/backfill.md's; in short):
 *
 * 1. t0: the rows were read from MySQL (SourceRows.page) by the caller.
 * 2. Each row's items are computed with the live path's codec (entityItems): a row the codec cannot map, or whose
 *    item is over DynamoDB's 400 KB, is rejected with its key and the reason; the run goes on.
 * 3. t1, when the caller asks (a re-run, a resumed segment): the page's items are read (BatchGetItem, consistent). An
 *    item there and equal is skipped (a re-run writes nothing); an item there and different was written by the live
 *    path since dual writes began, and is re-synced (6) rather than overwritten. Only absent items go on. Safety does
 *    not rest on this check: without it an item there is overwritten like an absent one, and 6 settles it.
 * 4. Unique markers are put on condition that no other item holds the value (putOwnedMarker; up to 100 conditional
 *    puts in one TransactWriteItems, BulkWriter.putMarkers): an unconditional marker could take a value from the item that holds it now. A row whose marker is held goes to
 *    the re-sync (6).
 * 5. t2: the items go out in unconditional BatchWriteItem requests (BulkWriter), each at a new item's version.
 * 6. t4: the page's rows are read again by key. A row that changed or went since t0 (a live write landed between t0
 *    and t4, and its copy may have been overwritten at t2) is re-synced from MySQL with KeySync, whose writes are
 *    conditional on the item's version and which reads MySQL again after writing. A row unchanged at t4 has the
 *    value it had at t0, which is what t2 wrote; any live write after t4 lands its copy after t2 and the live path
 *    settles it.
 * 7. What a changed row held at t0 and holds no more (its item's key, a unique value) may belong to another row now,
 *    whose item the bulk write may have replaced: each row of MySQL that holds it now is re-synced too, and its
 *    markers put back where missing.
 */
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  type KeysAndAttributes,
  type Put,
} from "@aws-sdk/client-dynamodb";
import pLimit from "p-limit";
import { type Codec, ENTITY_ATTRIBUTE, type EntityValue, type Item } from "../codec/index.ts";
import { type DynamoEntityStore, entityItems, itemBytes, MAX_ITEM_BYTES } from "../dynamodb/index.ts";
import { primaryKey } from "../dynamodb/item-keys.ts";
import { restoreMarkers } from "../dynamodb/orphan-markers.ts";
import { uniqueMarkerKey, uniqueRules } from "../dynamodb/unique-markers.ts";
import { putOwnedMarker } from "../dynamodb/write-items.ts";
import type { MysqlEntityStore } from "../mysql/index.ts";
import { identityOf } from "../outbox/entry.ts";
import { KeptChanging, type KeySync } from "../outbox/sync.ts";
import { keyId, type RowRead, type SourceRows } from "../rows/index.ts";
import type { BulkWriter } from "./bulk-writer.ts";
import { isTransient } from "./transient.ts";

/** Re-syncs of one page in flight at most. */
const SYNCS_IN_FLIGHT = 8;
/** BatchGetItem's limit. */
const GET_ITEMS = 100;
/** BatchGetItem requests of one page in flight at most. */
const GETS_IN_FLIGHT = 4;
/** Tries of one BatchGetItem that DynamoDB keeps leaving keys of unread. */
const GET_ATTEMPTS = 10;

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
  /** Whether the page's items were looked up before writing (the check, step 3), and how many were there then. */
  checked: boolean;
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
        });
      } catch (error) {
        outcome.rejected.push({ key, reason: reasonOf(error) });
      }
    }
    // The items there already: equal ones are skipped; different ones (a live write made them) are re-synced with
    // conditional writes rather than overwritten.
    const slow = new Set<Mapped>();
    const stored = check ? await this.storedItems(entity, table, mapped) : new Map<string, Item>();
    outcome.found = stored.size;
    mapped = mapped.filter((row) => {
      const item = stored.get(JSON.stringify(codec.key(row.value)));
      if (item === undefined) return true;
      if (item[ENTITY_ATTRIBUTE]?.S === codec.name && codec.diff(codec.fromItem(item), row.row).length === 0) {
        outcome.skipped++;
        return false;
      }
      slow.add(row);
      return false;
    });
    const keys = mapped.map((row) => row.key);
    const pageKeys = reads.map((read) => read.key);

    // Markers first, each on condition that no other item holds its value.
    const puts: Array<{ row: Mapped; put: Put }> = [];
    for (const row of mapped) {
      const owner = codec.key(row.value);
      for (const marker of row.markers) {
        const put = putOwnedMarker(table, codec, marker, owner).Put;
        if (put !== undefined) puts.push({ row, put });
      }
    }
    const written = await this.writer.putMarkers(puts.map((entry) => entry.put));
    for (const [index, entry] of puts.entries()) {
      if (written[index]) outcome.items++;
      else slow.add(entry.row);
    }
    await this.options.hooks?.beforeWrite?.(entity, pageKeys);
    const bulk = mapped.filter((row) => !slow.has(row));
    await this.writer.put(
      table,
      bulk.map((row) => row.item),
    );
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
    const vacated = new Map<string, EntityValue>();
    const limit = pLimit(SYNCS_IN_FLIGHT);
    await Promise.all(
      resync.map((row) =>
        limit(async () => {
          try {
            const done = await this.sync.sync("dynamodb", entity, identityOf(this.codec, entity, row.value));
            outcome.resynced++;
            if (slow.has(row) && done !== "deleted" && done !== "unchanged") outcome.written++;
            if (changed.has(row)) {
              for (const [id, where] of this.vacatedBy(entity, row.value, changed.get(row))) vacated.set(id, where);
            }
          } catch (error) {
            // A store away for a while: the page is done again (it is idempotent).
            if (isTransient(error)) throw error;
            // Live writes keep changing the row: each of them checks its copy itself (docs/convergence.md).
            if (error instanceof KeptChanging) {
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
    const holders = new Map<string, EntityValue>();
    for (const where of vacated.values()) {
      for (const holder of (await this.mysql.list(entity, { where, limit: 2 })).items) {
        const identity = identityOf(this.codec, entity, holder);
        holders.set(keyId(this.codec, entity, identity), holder);
      }
    }
    for (const row of changed.keys())
      holders.delete(keyId(this.codec, entity, identityOf(this.codec, entity, row.value)));
    await Promise.all(
      [...holders.values()].map((holder) =>
        limit(async () => {
          try {
            await this.sync.sync("dynamodb", entity, identityOf(this.codec, entity, holder));
            await restoreMarkers(this.client, table, codec, codec.key(holder));
            outcome.resynced++;
          } catch (error) {
            if (isTransient(error)) throw error;
            if (error instanceof KeptChanging) return;
            outcome.rejected.push({
              key: identityOf(this.codec, entity, holder),
              reason: `could not be written: ${reasonOf(error)}`,
            });
          }
        }),
      ),
    );
    return outcome;
  }

  /**
   * What a row's value at t0 held and its value now (`now`; undefined: gone) does not: its item's key and its unique
   * values, each as the attribute values that select the row holding it now, by a description of the slot.
   */
  private vacatedBy(entity: string, then: EntityValue, now: EntityValue | undefined): Array<[string, EntityValue]> {
    const codec = this.codec.entity(entity);
    const pick = (value: EntityValue, attributes: readonly string[]) =>
      Object.fromEntries(attributes.map((name) => [name, value[name]]));
    const slots: Array<[string, EntityValue, (value: EntityValue) => unknown]> = [
      [
        "key",
        pick(
          then,
          codec.identity.filter((name) => !codec.checkedIdentity.includes(name)),
        ),
        (value) => codec.key(value),
      ],
      ...uniqueRules(codec).map((rule): [string, EntityValue, (value: EntityValue) => unknown] => [
        `unique ${rule.name}`,
        pick(then, rule.attributes),
        (value) => uniqueMarkerKey(codec, rule.name, value),
      ]),
    ];
    const vacated: Array<[string, EntityValue]> = [];
    for (const [name, where, slot] of slots) {
      const before = JSON.stringify(slot(then));
      if (before === undefined || Object.values(where).some((value) => value === null || value === undefined)) continue;
      if (now !== undefined && JSON.stringify(slot(now)) === before) continue;
      vacated.push([`${name} ${before}`, where]);
    }
    return vacated;
  }

  /** The page's items as DynamoDB holds them now (consistent reads), by their key as JSON. */
  private async storedItems(entity: string, table: string, rows: readonly Mapped[]): Promise<Map<string, Item>> {
    const codec = this.codec.entity(entity);
    const stored = new Map<string, Item>();
    const chunks: Mapped[][] = [];
    for (let start = 0; start < rows.length; start += GET_ITEMS) chunks.push(rows.slice(start, start + GET_ITEMS));
    const limit = pLimit(GETS_IN_FLIGHT);
    await Promise.all(
      chunks.map((chunk) =>
        limit(async () => {
          let request: Record<string, KeysAndAttributes> | undefined = {
            [table]: { Keys: chunk.map((row) => codec.key(row.value)), ConsistentRead: true },
          };
          for (let attempt = 0; request !== undefined && Object.keys(request).length > 0; attempt++) {
            if (attempt >= GET_ATTEMPTS) {
              throw new Error(`${table}: DynamoDB left keys unread after ${GET_ATTEMPTS} tries of BatchGetItem`);
            }
            if (attempt > 0) await pause(attempt);
            const out: BatchGetItemCommandOutput = await this.client.send(
              new BatchGetItemCommand({ RequestItems: request }),
            );
            for (const item of out.Responses?.[table] ?? []) stored.set(JSON.stringify(primaryKey(codec, item)), item);
            request = out.UnprocessedKeys;
          }
        }),
      ),
    );
    return stored;
  }
}

/** Full jitter before another try of what DynamoDB left unprocessed. */
function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2_000, 25 * 2 ** attempt)));
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
