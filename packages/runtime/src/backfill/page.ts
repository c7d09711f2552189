/**
 * BackfillPage: writes one page of an entity's rows to DynamoDB, fast and safe under live dual writes (the argument is
 * docs/backfill.md's; in short):
 *
 * 1. t0: the rows were read from MySQL (SourceRows.page) by the caller.
 * 2. Each row's items are computed with the live path's codec (entityItems): a row the codec cannot map, or whose
 *    item is over DynamoDB's 400 KB, is rejected with its key and the reason; the run goes on.
 * 3. t1: the page's items are read (BatchGetItem, consistent). An item there and equal is skipped (a re-run writes
 *    nothing); an item there and different was written by the live path since dual writes began, and is re-synced
 *    (6) rather than overwritten. Only absent items go on.
 * 4. Unique markers are put on condition that no other item holds the value (putOwnedMarker; up to 100 conditional
 *    puts in one TransactWriteItems, BulkWriter.putMarkers): an unconditional marker could take a value from the item that holds it now. A row whose marker is held goes to
 *    the re-sync (6).
 * 5. t2: the items go out in unconditional BatchWriteItem requests (BulkWriter), each at a new item's version.
 * 6. t4: the page's rows are read again by key. A row that changed or went since t0 (a live write landed between t0
 *    and t4, and its copy may have been overwritten at t2) is re-synced from MySQL with KeySync, whose writes are
 *    conditional on the item's version and which reads MySQL again after writing. A row unchanged at t4 has the
 *    value it had at t0, which is what t2 wrote; any live write after t4 lands its copy after t2 and the live path
 *    settles it.
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
import { putOwnedMarker } from "../dynamodb/write-items.ts";
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
  ) {}

  async write(entity: string, reads: readonly RowRead[]): Promise<PageOutcome> {
    const codec = this.codec.entity(entity);
    const table = this.dynamodb.tableName(entity);
    const outcome: PageOutcome = { written: 0, skipped: 0, resynced: 0, items: 0, rejected: [] };
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
    const stored = await this.storedItems(entity, table, mapped);
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
    for (const row of bulk) {
      const current = now.get(keyId(this.codec, entity, row.key));
      if (current === undefined || "error" in current || codec.diff(current.value, row.value).length > 0) {
        resync.push(row);
      }
    }
    const limit = pLimit(SYNCS_IN_FLIGHT);
    await Promise.all(
      resync.map((row) =>
        limit(async () => {
          try {
            const done = await this.sync.sync("dynamodb", entity, identityOf(this.codec, entity, row.value));
            outcome.resynced++;
            if (slow.has(row) && done !== "deleted" && done !== "unchanged") outcome.written++;
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
    return outcome;
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
