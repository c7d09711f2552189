/**
 * DynamoEntityStore: the DynamoDB side of the generated repositories (docs/architecture.md, "Writes"). Every value
 * goes through the codec (raw AttributeValues, no lib-dynamodb), so keys and types are the same on every path.
 *
 * - Keys never change in place: an update that changes a primary-key attribute moves the item in one transaction
 *   (delete the old item, conditionally; put the new one with attribute_not_exists).
 * - `unique` rules keep holding: one marker item per rule and value (./unique-markers.ts), written, swapped and
 *   deleted in the same transaction as the item.
 * - Every write bumps a numeric `__version` attribute, which conditional writes rely on (./write-items.ts).
 */

import { createHash, randomUUID } from "node:crypto";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { keyTemplatePlaceholders } from "@ferry/contract";
import { type Codec, ENTITY_ATTRIBUTE, type EntityCodec, type EntityValue, type Item } from "../codec/index.ts";
import { increment } from "../codec/numbers.ts";
import type { Condition } from "../condition.ts";
import { ConditionFailed, CursorError, NotFound, StoreError, WriteConflict } from "../errors.ts";
import { batchGetItems } from "./batch-get.ts";
import { cancellationError, type Meaning, Stale } from "./cancellation.ts";
import { cancellationCodes } from "./cancellation-codes.ts";
import { decodeQueryCursor, encodeQueryCursor } from "./cursor.ts";
import { entityItems } from "./entity-items.ts";
import {
  conditionExpressions,
  Expression,
  incrementAmount,
  updateExpressions,
  VERSION_ATTRIBUTE,
} from "./expression.ts";
import {
  changed,
  identityConditions,
  identityMatches,
  keyedAttributes,
  keyValues,
  pick,
  primaryKey,
  sameItem,
  sameValue,
  writableAttributes,
} from "./item-keys.ts";
import { freeOrphanMarker, markerOwnerKey } from "./orphan-markers.ts";
import {
  enforcedByKey,
  type UniqueRule,
  uniqueMarker,
  uniqueMarkerKey,
  uniqueRuleAttributes,
  uniqueRules,
} from "./unique-markers.ts";
import {
  hasWords,
  SEARCH_EXAMINED,
  wordIndexedAttributes,
  wordIndexes,
  wordItems,
  wordPartition,
  wordsOf,
} from "./word-items.ts";
import {
  conditionCheck,
  deleteCurrent,
  deleteMarker,
  deleteUnread,
  deleteWord,
  inPlaceUpdate,
  MAX_TRANSACTION_ITEMS,
  NUMERIC_TYPES,
  putCurrent,
  putNew,
  putOwnedMarker,
  putWord,
} from "./write-items.ts";

/** How often a write that raced another one is read and tried again. */
const ATTEMPTS = 3;

export interface DynamoEntityStoreOptions {
  /** Put in front of the contract's logical table names (FERRY_TABLE_PREFIX). */
  tablePrefix: string;
}

export interface DynamoQueryInput {
  /** A global secondary index the entity uses; absent means the table's primary key. */
  index?: string;
  /** Values for the partition template (all of them) and the sort template (a leading part of them, or none). */
  values: EntityValue;
  order?: "asc" | "desc";
  /** The most items to return (a positive integer). */
  limit?: number;
  /** From the previous page. */
  cursor?: string;
  /**
   * Conditions every item returned meets, in the FilterExpression; bounds (>=, >, <=, <) on the sort template's first
   * placeholder after the values given also narrow the key condition, so that only that stretch is read.
   */
  filter?: readonly Condition[];
}

/** A search by words (DynamoEntityStore.search). */
export interface DynamoSearchInput {
  /** The entity's word index. */
  index: string;
  /** What the shopper typed: its words are looked for. */
  text: string;
  /** The most items to return (a positive integer). */
  limit: number;
  cursor?: string;
}

export interface ReadOptions {
  /** Gives the read up (it rejects) when aborted: a shadow read past its time budget. */
  signal?: AbortSignal;
}

export interface DynamoPage {
  items: EntityValue[];
  /** Present when there may be more items: pass it to the next query. */
  cursor?: string;
}

export interface DynamoUpdateOptions {
  /** Every condition must hold on the stored item, or nothing is written (ConditionFailed). */
  condition?: Condition[];
  /** Atomic increments (negative to decrement) of numeric attributes. */
  add?: Record<string, number>;
  /**
   * The item's version as `versioned` read it: nothing is written unless the item is still at it (WriteConflict
   * otherwise). A re-sync that must not put an older value over a live write made since its read.
   */
  ifVersion?: string;
}

/** DynamoEntityStore.delete's options. */
export interface DynamoDeleteOptions {
  /** As DynamoUpdateOptions.ifVersion: an item gone or at another version is a WriteConflict. */
  ifVersion?: string;
}

/** An item with the version every write bumps ("0": an item no ferry write has versioned). */
export interface VersionedValue {
  value: EntityValue;
  version: string;
}

/** One write of a multi-entity transaction (DynamoEntityStore.transact). */
export type DynamoTransactWrite =
  | { create: string; value: EntityValue }
  /** In place: no key, index-key or unique attribute may change (use update() for those). */
  | {
      update: string;
      key: EntityValue;
      changes?: EntityValue;
      /** Amounts added: numbers, bigints, or exact decimal strings ("-1.25"). */
      add?: Record<string, number | bigint | string>;
      condition?: Condition[];
    }
  /** `ifExists`: a missing item is skipped rather than failing the transaction (replaying a write elsewhere). */
  | { delete: string; key: EntityValue; condition?: Condition[]; ifExists?: boolean }
  | { check: string; key: EntityValue; condition: Condition[] };

export interface DynamoTransactOptions {
  /** Turns the failure of one write (its index in `writes`) into the error transact throws. */
  onFailure?: (write: number, error: StoreError) => Error;
}

export class DynamoEntityStore {
  private readonly prefix: string;

  constructor(
    private readonly client: DynamoDBClient,
    readonly codec: Codec,
    options: DynamoEntityStoreOptions,
  ) {
    this.prefix = options.tablePrefix;
  }

  /** The physical name of an entity's table. */
  tableName(entity: string): string {
    return `${this.prefix}${this.codec.entity(entity).table}`;
  }

  /** One item by its key (a strongly consistent read); undefined when there is none. */
  async get(entity: string, key: EntityValue, options: ReadOptions = {}): Promise<EntityValue | undefined> {
    const codec = this.codec.entity(entity);
    const item = await this.read(codec, codec.key(key), options.signal);
    if (item === undefined) return undefined;
    const value = codec.fromItem(item);
    return identityMatches(codec, value, key) ? value : undefined;
  }

  /** get() with the item's version, for writes conditional on it (`ifVersion`). */
  async versioned(entity: string, key: EntityValue): Promise<VersionedValue | undefined> {
    const codec = this.codec.entity(entity);
    const item = await this.read(codec, codec.key(key));
    if (item === undefined) return undefined;
    const value = codec.fromItem(item);
    return identityMatches(codec, value, key) ? { value, version: versionOf(item) } : undefined;
  }

  /**
   * A page of an entity's items in one partition of the table or an index, in sort-key order. Only the entity's own
   * items: the sort key must begin with the sort template's literal prefix and `__entity` must match.
   */
  async query(entity: string, input: DynamoQueryInput, options: ReadOptions = {}): Promise<DynamoPage> {
    const codec = this.codec.entity(entity);
    const { index, values, order = "asc", limit, cursor } = input;
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
      throw new StoreError("dynamodb", entity, `a query limit must be a positive integer, got ${String(limit)}`);
    }
    const names = index === undefined ? codec.keyNames : codec.indexKeyNames(index);
    const templates = index === undefined ? codec.definition.key : codec.definition.indexes?.[index];
    if (!templates) throw new StoreError("dynamodb", entity, `uses no index '${String(index)}'`);

    const expression = new Expression();
    const partition = codec.render(templates.partition, values);
    let keyCondition = `${expression.name(names.partition)} = ${expression.value({ S: partition })}`;
    if (templates.sort !== undefined && names.sort !== undefined) {
      const prefix = codec.render(templates.sort, values, { prefixOnly: true });
      const range = sortRange(codec, templates.sort, values, prefix, input.filter ?? []);
      // Bounds that cross (a lowest price above the highest) hold for no item; DynamoDB refuses such a BETWEEN.
      if (range !== undefined && range.from > range.to) return { items: [] };
      if (range !== undefined) {
        const sortKey = expression.name(names.sort);
        // An empty string is no key value: with no prefix and no lowest bound, everything up to the highest.
        keyCondition +=
          range.from === ""
            ? ` AND ${sortKey} <= ${expression.value({ S: range.to })}`
            : ` AND ${sortKey} BETWEEN ${expression.value({ S: range.from })} AND ${expression.value({ S: range.to })}`;
      } else if (prefix !== "") {
        keyCondition += ` AND begins_with(${expression.name(names.sort)}, ${expression.value({ S: prefix })})`;
      }
    }
    const filter = [
      `${expression.name(ENTITY_ATTRIBUTE)} = ${expression.value({ S: codec.name })}`,
      ...conditionExpressions(codec, expression, input.filter ?? []),
    ].join(" AND ");
    // A cursor continues the listing with the same order and filters only.
    const where = listingFingerprint(codec, order, input.filter ?? []);

    let start = cursor === undefined ? undefined : decodeQueryCursor(cursor, entity, index, where);
    if (start !== undefined && start[names.partition]?.S !== partition) {
      throw new CursorError("dynamodb", entity, "continues a listing of another partition");
    }
    const items: EntityValue[] = [];
    // A filtered page can come back short: read on until the limit is met or the partition ends.
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName(entity),
          IndexName: index,
          KeyConditionExpression: keyCondition,
          FilterExpression: filter,
          ...expression.attributes,
          ScanIndexForward: order !== "desc",
          Limit: limit === undefined ? undefined : limit - items.length,
          ExclusiveStartKey: start,
          ConsistentRead: index === undefined ? true : undefined,
        }),
        sendOptions(options.signal),
      );
      for (const item of page.Items ?? []) items.push(codec.fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined && (limit === undefined || items.length < limit));
    return start === undefined ? { items } : { items, cursor: encodeQueryCursor(entity, index, start, where) };
  }

  /**
   * A page of a search by words (a word index of the entity, ./word-items.ts): the items whose indexed text has every
   * word of `text`, the highest primary key first. It reads the partition of the longest word and checks every word
   * on the items it names (so a word item an older value left behind is passed over). No words: no items.
   */
  async search(entity: string, input: DynamoSearchInput, options: ReadOptions = {}): Promise<DynamoPage> {
    const codec = this.codec.entity(entity);
    const index = wordIndexes(codec).find((candidate) => candidate.name === input.index);
    if (index === undefined) throw new StoreError("dynamodb", entity, `has no word index '${input.index}'`);
    const { limit } = input;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new StoreError("dynamodb", entity, `a search limit must be a positive integer, got ${String(limit)}`);
    }
    const words = wordsOf(input.text);
    if (words.length === 0) return { items: [] };
    const word = words.reduce((longest, candidate) => (candidate.length > longest.length ? candidate : longest));
    const partition = wordPartition(codec, index.name, word);
    const cursorIndex = `words:${index.name}`;
    const searched = words.join(" ");
    let start = input.cursor === undefined ? undefined : decodeQueryCursor(input.cursor, entity, cursorIndex, searched);
    if (start !== undefined && start[codec.keyNames.partition]?.S !== partition) {
      throw new CursorError("dynamodb", entity, "continues a search for other words");
    }
    const table = this.tableName(entity);
    const expression = new Expression();
    const keyCondition = `${expression.name(codec.keyNames.partition)} = ${expression.value({ S: partition })}`;
    const keyText = (key: Item) => JSON.stringify(primaryKey(codec, key));
    const items: EntityValue[] = [];
    let examined = 0;
    for (;;) {
      const page = await this.client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: keyCondition,
          ...expression.attributes,
          ScanIndexForward: false,
          // Some word items may name items without every word: read a little more than the page needs.
          Limit: Math.min(Math.max((limit - items.length) * 2, 10), 100),
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
        sendOptions(options.signal),
      );
      const found = page.Items ?? [];
      const owners = found.map((item) => markerOwnerKey(codec, item)).filter((key) => key !== undefined);
      const read =
        owners.length === 0 ? new Map<string, Item>() : await batchGetItems(this.client, table, owners, keyText);
      for (const item of found) {
        const ownerKey = markerOwnerKey(codec, item);
        const owner = ownerKey === undefined ? undefined : read.get(keyText(ownerKey));
        if (owner !== undefined && owner[ENTITY_ATTRIBUTE]?.S === codec.name) {
          const value = codec.fromItem(owner);
          if (hasWords(value[index.attribute], words)) items.push(value);
        }
        examined++;
        // A full page, or as many word items read as one call may (a common word with a rare one): the next page
        // starts after this word item (there may be none left; that page is then empty).
        if (items.length === limit || examined >= SEARCH_EXAMINED) {
          return { items, cursor: encodeQueryCursor(entity, cursorIndex, primaryKey(codec, item), searched) };
        }
      }
      start = page.LastEvaluatedKey;
      if (start === undefined) return { items };
    }
  }

  /**
   * Creates an item and its unique markers in one transaction: AlreadyExists when its key is taken, UniqueViolation
   * when a unique rule's values are; nothing is written then.
   */
  async create(entity: string, value: EntityValue): Promise<void> {
    const codec = this.codec.entity(entity);
    const writes: TransactWriteItem[] = [];
    const meanings: Meaning[] = [];
    this.createWrites(codec, value, writes, meanings);
    await this.run(codec.name, writes, meanings);
  }

  private createWrites(codec: EntityCodec, value: EntityValue, writes: TransactWriteItem[], meanings: Meaning[]): void {
    const { item, key, markers, words } = entityItems(codec, value);
    writes.push(putNew(this.tableName(codec.name), codec, item));
    meanings.push({
      kind: "new-item",
      key: keyValues(codec, value),
      entity: codec.name,
      created: { value, itemKey: key },
    });
    for (const marker of markers) {
      // Absent, or this item's already (a backfill's marker can land ahead of its item: backfill/page.ts).
      writes.push(putOwnedMarker(this.tableName(codec.name), codec, marker.item, key));
      meanings.push({
        kind: "unique",
        rule: marker.rule,
        values: pick(value, uniqueRuleAttributes(codec, marker.rule)),
        entity: codec.name,
      });
    }
    for (const word of words) {
      writes.push(putWord(this.tableName(codec.name), word));
      meanings.push({ kind: "marker" });
    }
  }

  /**
   * Several writes, possibly of several entities, all or nothing in one TransactWriteItems (e.g. checkout: decrement
   * stock with a condition, create the order and its lines, delete the cart lines). Unique markers count towards
   * DynamoDB's limit of 100 items: a longer transaction is refused before anything is sent. Errors: as create;
   * ConditionFailed when a condition does not hold or an item to delete changed since it was read; NotFound when the
   * item of an update, check or delete does not exist (as MySQL says).
   */
  async transact(writes: readonly DynamoTransactWrite[], options: DynamoTransactOptions = {}): Promise<void> {
    const items: TransactWriteItem[] = [];
    const meanings: Meaning[] = [];
    const fail = (write: number, error: StoreError): Error => options.onFailure?.(write, error) ?? error;
    for (const [index, write] of writes.entries()) {
      const first = meanings.length;
      if ("create" in write) {
        this.createWrites(this.codec.entity(write.create), write.value, items, meanings);
      } else if ("update" in write) {
        const codec = this.codec.entity(write.update);
        const condition = [...identityConditions(codec, write.key), ...(write.condition ?? [])];
        items.push(
          inPlaceUpdate(this.tableName(codec.name), codec, write.key, write.changes ?? {}, write.add ?? {}, condition),
        );
        meanings.push({ kind: "condition", key: keyValues(codec, write.key), entity: codec.name });
      } else if ("delete" in write) {
        const codec = this.codec.entity(write.delete);
        const current = await this.read(codec, codec.key(write.key));
        const before = current === undefined ? undefined : codec.fromItem(current);
        if (!current || !before || !identityMatches(codec, before, write.key)) {
          if (write.ifExists) continue;
          throw fail(index, new NotFound("dynamodb", codec.name, keyValues(codec, write.key)));
        }
        const itemKey = primaryKey(codec, current);
        items.push(deleteCurrent(this.tableName(codec.name), codec, current, write.condition ?? []));
        meanings.push({ kind: "condition", key: keyValues(codec, before), entity: codec.name });
        for (const rule of uniqueRules(codec)) {
          const marker = uniqueMarker(codec, rule.name, before, itemKey);
          if (!marker) continue;
          items.push(deleteMarker(this.tableName(codec.name), codec, marker, itemKey));
          meanings.push({ kind: "condition", key: keyValues(codec, before), entity: codec.name });
        }
        for (const word of wordItems(codec, before, itemKey)) {
          items.push(deleteWord(this.tableName(codec.name), primaryKey(codec, word)));
          meanings.push({ kind: "marker" });
        }
      } else {
        const codec = this.codec.entity(write.check);
        const condition = [...identityConditions(codec, write.key), ...write.condition];
        items.push(conditionCheck(this.tableName(codec.name), codec, write.key, condition));
        meanings.push({ kind: "condition", key: keyValues(codec, write.key), entity: codec.name });
      }
      for (let m = first; m < meanings.length; m++) {
        const meaning = meanings[m];
        if (meaning) meaning.write = index;
      }
    }
    if (items.length === 0) return;
    try {
      await this.run("transaction", items, meanings);
    } catch (error) {
      if (error instanceof Stale) throw new WriteConflict("dynamodb", "transaction", {}, { cause: error.cause });
      const write = error instanceof StoreError ? (error as StoreError & { write?: number }).write : undefined;
      if (write !== undefined && error instanceof StoreError)
        throw fail(write, await this.missing(writes[write], error));
      throw error;
    }
  }

  /**
   * A failed condition of an update or check whose item is not there is NotFound, as MySQL says for the same write
   * (the transaction's `attribute_exists` and the caller's conditions fail alike on DynamoDB).
   */
  private async missing(write: DynamoTransactWrite | undefined, error: StoreError): Promise<StoreError> {
    if (!(error instanceof ConditionFailed) || write === undefined) return error;
    const target =
      "update" in write
        ? { entity: write.update, key: write.key }
        : "check" in write
          ? { entity: write.check, key: write.key }
          : undefined;
    if (target === undefined) return error;
    const codec = this.codec.entity(target.entity);
    const current = await this.read(codec, codec.key(target.key)).catch(() => null);
    if (current === null) return error;
    if (current !== undefined && identityMatches(codec, codec.fromItem(current), target.key)) return error;
    return new NotFound("dynamodb", codec.name, keyValues(codec, target.key));
  }

  /**
   * Changes an item and returns its new value. A changed primary-key attribute moves the item (one transaction);
   * changed unique values swap their markers in the same transaction; index keys follow the new value. `add`
   * increments atomically; `condition` must hold on the stored item (ConditionFailed otherwise). NotFound when
   * there is no item with the key. Resolves to undefined when an increment landed and the item could not be read back
   * (the write stands: a failure now would tell the caller it did not).
   */
  async update(
    entity: string,
    key: EntityValue,
    changes: EntityValue,
    options: DynamoUpdateOptions = {},
  ): Promise<EntityValue | undefined> {
    const codec = this.codec.entity(entity);
    const add = Object.entries(options.add ?? {});
    for (const [name, delta] of add) {
      const attribute = codec.attribute(name);
      if (!NUMERIC_TYPES.has(attribute.type)) {
        throw new StoreError(
          "dynamodb",
          entity,
          `'${name}' is a ${attribute.type} attribute and cannot be incremented`,
        );
      }
      if (!Number.isFinite(delta))
        throw new StoreError("dynamodb", entity, `the increment of '${name}' must be a finite number`);
      if (name in changes) throw new StoreError("dynamodb", entity, `'${name}' is both changed and incremented`);
    }
    const keyed = keyedAttributes(codec);
    // Old values' markers (their keys as JSON) another item holds: not this item's to delete (see delete()). By key,
    // not by rule: a later attempt reads the item again, and its old value may be another one by then.
    const heldByOthers = new Set<string>();
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.read(codec, codec.key(key));
      const before = current === undefined ? undefined : codec.fromItem(current);
      if (!current || !before || !identityMatches(codec, before, key)) {
        if (options.ifVersion !== undefined) throw new WriteConflict("dynamodb", entity, keyValues(codec, key));
        throw new NotFound("dynamodb", entity, keyValues(codec, key));
      }
      if (options.ifVersion !== undefined && versionOf(current) !== options.ifVersion) {
        throw new WriteConflict("dynamodb", entity, keyValues(codec, key));
      }
      const next: EntityValue = { ...before, ...changes };
      const moves = !sameItem(codec.key(before), codec.key(next));
      const swapped = uniqueRules(codec).filter((rule) => rule.attributes.some((a) => changed(codec, a, before, next)));
      // New words swap their word items in the same transaction as the item (rewrite).
      const reworded = [...wordIndexedAttributes(codec)].some((a) => changed(codec, a, before, next));
      // An update at a given version is a whole-item put on condition of the version (an in-place one has none).
      const simple =
        options.ifVersion === undefined &&
        !moves &&
        !reworded &&
        swapped.length === 0 &&
        add.every(([name]) => !keyed.has(name));
      try {
        if (simple) return await this.updateInPlace(codec, current, next, options);
        for (const [name, delta] of add) next[name] = increment(before[name], delta);
        return await this.rewrite(codec, current, before, next, moves, swapped, options.condition ?? [], heldByOthers);
      } catch (error) {
        if (!(error instanceof Stale)) throw error;
        // Another transaction held the item: nothing was written; read it again.
        if (error.reason === "transaction conflict") continue;
        const now = await this.read(codec, codec.key(key));
        if (!now) {
          if (options.ifVersion !== undefined) throw new WriteConflict("dynamodb", entity, keyValues(codec, key));
          throw new NotFound("dynamodb", entity, keyValues(codec, key));
        }
        // Unchanged since the read: an old value's marker another item holds now (an item a backfill wrote over a
        // live one, docs/backfill.md) is left to it; otherwise the caller's condition is what failed.
        if (now[VERSION_ATTRIBUTE]?.N === current[VERSION_ATTRIBUTE]?.N) {
          const held =
            swapped.length === 0 ? [] : await this.markersHeldByOthers(codec, before, primaryKey(codec, current));
          const fresh = held
            .filter((rule) => swapped.some((s) => s.name === rule))
            .map((rule) => JSON.stringify(uniqueMarkerKey(codec, rule, before)))
            .filter((marker) => !heldByOthers.has(marker));
          for (const marker of fresh) heldByOthers.add(marker);
          if (fresh.length > 0) continue;
          throw new ConditionFailed("dynamodb", entity, keyValues(codec, before), { cause: error.cause });
        }
      }
    }
    throw new WriteConflict("dynamodb", entity, keyValues(codec, key));
  }

  /** Deletes an item and its unique markers in one transaction; false when there was no item. */
  async delete(entity: string, key: EntityValue, options: DynamoDeleteOptions = {}): Promise<boolean> {
    const codec = this.codec.entity(entity);
    const { ifVersion } = options;
    if (uniqueRules(codec).length === 0 && wordIndexes(codec).length === 0)
      return this.deleteUnread(codec, key, ifVersion);
    const heldByOthers = new Set<string>();
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.read(codec, codec.key(key));
      const before = current === undefined ? undefined : codec.fromItem(current);
      if (current === undefined || before === undefined || !identityMatches(codec, before, key)) {
        if (ifVersion !== undefined) throw new WriteConflict("dynamodb", entity, keyValues(codec, key));
        return false;
      }
      if (ifVersion !== undefined && versionOf(current) !== ifVersion) {
        throw new WriteConflict("dynamodb", entity, keyValues(codec, key));
      }
      const itemKey = primaryKey(codec, current);
      const writes: TransactWriteItem[] = [deleteCurrent(this.tableName(codec.name), codec, current, [])];
      const meanings: Meaning[] = [{ kind: "current" }];
      const markers: Item[] = [];
      for (const rule of uniqueRules(codec)) {
        const marker = uniqueMarker(codec, rule.name, before, itemKey);
        if (!marker || heldByOthers.has(JSON.stringify(primaryKey(codec, marker)))) continue;
        writes.push(deleteMarker(this.tableName(codec.name), codec, marker, itemKey));
        meanings.push({ kind: "marker" });
        markers.push(marker);
      }
      for (const word of wordItems(codec, before, itemKey)) {
        writes.push(deleteWord(this.tableName(codec.name), primaryKey(codec, word)));
        meanings.push({ kind: "marker" });
      }
      try {
        await this.run(codec.name, writes, meanings);
        return true;
      } catch (error) {
        if (!(error instanceof Stale)) throw error;
        // A marker of the item's values that another item holds is not this item's to delete: an item a backfill
        // wrote over a live one can carry values whose markers have moved on (docs/backfill.md). Leave those.
        for (const rule of await this.markersHeldByOthers(codec, before, itemKey)) {
          heldByOthers.add(JSON.stringify(uniqueMarkerKey(codec, rule, before)));
        }
      }
    }
    throw new WriteConflict("dynamodb", entity, keyValues(codec, key));
  }

  /**
   * delete() of an item that has no marker or word item to delete with it: one conditional delete, not read first (its
   * condition checks what the read would). A failed condition is an item that is not there, or not at `ifVersion`.
   */
  private async deleteUnread(codec: EntityCodec, key: EntityValue, ifVersion: string | undefined): Promise<boolean> {
    // No item has a null identity (the read first found none to match).
    if (codec.checkedIdentity.some((attribute) => key[attribute] === null)) {
      if (ifVersion !== undefined) throw new WriteConflict("dynamodb", codec.name, keyValues(codec, key));
      return false;
    }
    const write = deleteUnread(this.tableName(codec.name), codec, key, identityConditions(codec, key), ifVersion);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      try {
        await this.run(codec.name, [write], [{ kind: "current" }]);
        return true;
      } catch (error) {
        if (!(error instanceof Stale)) throw error;
        if (error.reason === "condition failed") {
          if (ifVersion !== undefined) throw new WriteConflict("dynamodb", codec.name, keyValues(codec, key));
          return false;
        }
        // A transaction on the same item at the same moment: try again.
      }
    }
    throw new WriteConflict("dynamodb", codec.name, keyValues(codec, key));
  }

  /**
   * Frees the marker of a unique rule's values when it is an orphan (its owner item is not there, or does not hold
   * the values), with a delete conditional on the owner as read and on the marker still naming it
   * (dynamodb/orphan-markers.ts). "held" when its owner holds it; "changed" when a write raced the delete. A rule the
   * item's key enforces has no marker to free: "held" while an item is under the key the values make (it holds them),
   * else "absent".
   */
  async freeOrphanMarker(
    entity: string,
    rule: string,
    values: EntityValue,
  ): Promise<"freed" | "held" | "absent" | "changed"> {
    const codec = this.codec.entity(entity);
    const attributes = uniqueRuleAttributes(codec, rule);
    if (enforcedByKey(codec, { name: rule, attributes })) {
      return (await this.itemUnderKeyOf(codec, attributes, values)) === undefined ? "absent" : "held";
    }
    const key = uniqueMarkerKey(codec, rule, values);
    if (key === undefined) return "absent";
    return freeOrphanMarker(this.client, this.tableName(entity), codec, key);
  }

  /**
   * The item that holds a unique rule's values, as its marker names it: its value, or undefined when no marker holds
   * them. A marker whose owner is not there (or no longer of the entity) gives `{ owner: undefined }`. For a rule the
   * item's key enforces (no marker), the item under the key the values make, or undefined when there is none.
   */
  async uniqueHolder(
    entity: string,
    rule: string,
    values: EntityValue,
  ): Promise<{ owner: EntityValue | undefined } | undefined> {
    const codec = this.codec.entity(entity);
    const attributes = uniqueRuleAttributes(codec, rule);
    if (enforcedByKey(codec, { name: rule, attributes })) {
      const item = await this.itemUnderKeyOf(codec, attributes, values);
      return item === undefined ? undefined : { owner: codec.fromItem(item) };
    }
    const key = uniqueMarkerKey(codec, rule, values);
    if (key === undefined) return undefined;
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName(entity), Key: key, ConsistentRead: true }),
    );
    const marker = out.Item;
    if (marker === undefined) return undefined;
    const ownerKey: Item = {};
    for (const name of [codec.keyNames.partition, codec.keyNames.sort]) {
      if (name === undefined) continue;
      const attribute = marker[`owner${name}`];
      if (attribute === undefined) return { owner: undefined };
      ownerKey[name] = attribute;
    }
    const owner = await this.read(codec, ownerKey);
    return { owner: owner === undefined ? undefined : codec.fromItem(owner) };
  }

  /** For a rule the key enforces: the item under the key its values make, the rule's holder (undefined: none, or a null value). */
  private async itemUnderKeyOf(
    codec: EntityCodec,
    attributes: readonly string[],
    values: EntityValue,
  ): Promise<Item | undefined> {
    if (attributes.some((name) => values[name] === undefined || values[name] === null)) return undefined;
    return this.read(codec, codec.key(values));
  }

  /** The unique rules whose marker for `value`'s values is there and names an item other than `owner`. */
  private async markersHeldByOthers(codec: EntityCodec, value: EntityValue, owner: Item): Promise<string[]> {
    const held: string[] = [];
    for (const rule of uniqueRules(codec)) {
      const key = uniqueMarkerKey(codec, rule.name, value);
      if (key === undefined) continue;
      const out = await this.client.send(
        new GetItemCommand({ TableName: this.tableName(codec.name), Key: key, ConsistentRead: true }),
      );
      const marker = out.Item;
      if (marker === undefined) continue;
      const mine = Object.entries(owner).every(([name, attribute]) => {
        const named = marker[`owner${name}`];
        return named !== undefined && JSON.stringify(named) === JSON.stringify(attribute);
      });
      if (!mine) held.push(rule.name);
    }
    return held;
  }

  private async read(codec: EntityCodec, key: Item, signal?: AbortSignal): Promise<Item | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName(codec.name), Key: key, ConsistentRead: true }),
      sendOptions(signal),
    );
    const item = out.Item;
    return item !== undefined && item[ENTITY_ATTRIBUTE]?.S === codec.name ? item : undefined;
  }

  /** One UpdateItem: changed attributes set, emptied ones removed, increments added, the version bumped. */
  private async updateInPlace(
    codec: EntityCodec,
    current: Item,
    next: EntityValue,
    options: DynamoUpdateOptions,
  ): Promise<EntityValue | undefined> {
    const add = options.add ?? {};
    const target = codec.toItem(next);
    const set: Array<[string, AttributeValue]> = [];
    const remove: string[] = [];
    for (const name of writableAttributes(codec)) {
      if (name in add) continue;
      const wanted = target[name];
      const stored = current[name];
      if (wanted === undefined) {
        if (stored !== undefined) remove.push(name);
      } else if (stored === undefined || !sameValue(wanted, stored)) {
        set.push([name, wanted]);
      }
    }
    // Checked finite by update(): the amount is always there.
    const adds = Object.entries(add).map(([name, delta]): [string, string] => [name, incrementAmount(delta) ?? ""]);
    const expressions = updateExpressions(codec, { set, remove, add: adds }, options.condition ?? []);
    if (adds.length > 0) return this.incrementOnce(codec, current, expressions);
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName(codec.name),
          Key: primaryKey(codec, current),
          ...expressions,
          ReturnValues: "ALL_NEW",
        }),
      );
      // Not a StoreError: the update has landed, and a StoreError says a write did not.
      if (!out.Attributes) throw new Error(`DynamoDB's UpdateItem of a ${codec.name} returned no item`);
      return codec.fromItem(out.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new Stale("condition failed", { cause: error });
      throw error;
    }
  }

  /**
   * An UpdateItem that increments, sent as a one-write TransactWriteItems with a client request token: the SDK sends
   * the same token when it retries after a timeout, and DynamoDB applies a token once (for ten minutes), so an answer
   * lost on the way back never applies the increment twice (a plain UpdateItem's ADD would). The new value is read
   * back (a transaction returns none): it is the item as it stands right after, or newer; undefined when that read
   * fails, since the increment has landed by then.
   */
  private async incrementOnce(
    codec: EntityCodec,
    current: Item,
    expressions: ReturnType<typeof updateExpressions>,
  ): Promise<EntityValue | undefined> {
    const key = primaryKey(codec, current);
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Update: { TableName: this.tableName(codec.name), Key: key, ...expressions } }],
          ClientRequestToken: randomUUID(),
        }),
      );
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.includes("ConditionalCheckFailed")) throw new Stale("condition failed", { cause: error });
      if (codes?.includes("TransactionConflict")) throw new Stale("transaction conflict", { cause: error });
      throw error;
    }
    const after = await this.read(codec, key).catch(() => undefined);
    return after === undefined ? undefined : codec.fromItem(after);
  }

  /** The item written whole, in one transaction: moved when its key changes, with its markers swapped. */
  private async rewrite(
    codec: EntityCodec,
    current: Item,
    before: EntityValue,
    next: EntityValue,
    moves: boolean,
    swapped: readonly UniqueRule[],
    condition: readonly Condition[],
    /** The keys (as JSON) of old markers another item holds: left, not deleted. */
    heldByOthers: ReadonlySet<string> = new Set(),
  ): Promise<EntityValue> {
    const item = codec.toItem(next);
    item[VERSION_ATTRIBUTE] = { N: String(Number(current[VERSION_ATTRIBUTE]?.N ?? "0") + 1) };
    const oldKey = primaryKey(codec, current);
    const newKey = primaryKey(codec, item);
    const writes: TransactWriteItem[] = [];
    const meanings: Meaning[] = [];
    if (moves) {
      writes.push(
        deleteCurrent(this.tableName(codec.name), codec, current, condition),
        putNew(this.tableName(codec.name), codec, item),
      );
      // `created`: a move onto a key another item holds is MySQL's UniqueViolation when a rule is over the key's values.
      meanings.push(
        { kind: "current" },
        {
          kind: "new-item",
          key: keyValues(codec, next),
          entity: codec.name,
          created: { value: next, itemKey: newKey },
        },
      );
    } else {
      writes.push(putCurrent(this.tableName(codec.name), codec, item, current, condition));
      meanings.push({ kind: "current" });
    }
    for (const rule of uniqueRules(codec)) {
      const oldMarker = uniqueMarker(codec, rule.name, before, oldKey);
      const newMarker = uniqueMarker(codec, rule.name, next, newKey);
      // A change the collation does not see (Bob@x -> bob@x) keeps its marker.
      const sameMarker =
        oldMarker !== undefined &&
        newMarker !== undefined &&
        sameItem(primaryKey(codec, oldMarker), primaryKey(codec, newMarker));
      if (swapped.some((s) => s.name === rule.name) && !sameMarker) {
        if (oldMarker && !heldByOthers.has(JSON.stringify(primaryKey(codec, oldMarker)))) {
          writes.push(deleteMarker(this.tableName(codec.name), codec, oldMarker, oldKey));
          meanings.push({ kind: "marker" });
        }
        if (newMarker) {
          // Absent, or this item's already (a backfill's marker can land ahead of its item: backfill/page.ts).
          writes.push(putOwnedMarker(this.tableName(codec.name), codec, newMarker, newKey));
          meanings.push({ kind: "unique", rule: rule.name, values: pick(next, rule.attributes) });
        }
      } else if (moves && newMarker) {
        // Same values, new owner.
        writes.push(putOwnedMarker(this.tableName(codec.name), codec, newMarker, oldKey));
        meanings.push({ kind: "marker" });
      }
    }
    // The old value's words that the new one has not go; the new one's are put (again: the owner may have moved).
    const wordKey = (word: Item) => JSON.stringify(primaryKey(codec, word));
    const oldWords = wordItems(codec, before, oldKey);
    const newWords = wordItems(codec, next, newKey);
    const newKeys = new Set(newWords.map(wordKey));
    for (const word of oldWords) {
      if (newKeys.has(wordKey(word))) continue;
      writes.push(deleteWord(this.tableName(codec.name), primaryKey(codec, word)));
      meanings.push({ kind: "marker" });
    }
    // Every word of the new value is put, kept ones too: one missing (an item written before its word index was in
    // the contract) comes back with the item's next rewrite.
    for (const word of newWords) {
      writes.push(putWord(this.tableName(codec.name), word));
      meanings.push({ kind: "marker" });
    }
    await this.run(codec.name, writes, meanings);
    return codec.fromItem(item);
  }

  /** Runs one TransactWriteItems and turns a cancellation into the error its first failed write stands for. */
  private async run(entity: string, writes: TransactWriteItem[], meanings: readonly Meaning[]): Promise<void> {
    if (writes.length > MAX_TRANSACTION_ITEMS) {
      throw new StoreError(
        "dynamodb",
        entity,
        `a transaction of ${writes.length} writes (unique markers and word items included) is over DynamoDB's limit of ${MAX_TRANSACTION_ITEMS}`,
      );
    }
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: writes }));
    } catch (error) {
      const codes = cancellationCodes(error);
      if (!codes) throw error;
      throw await cancellationError(error, codes, meanings, entity, this.codec, (codec, key) => this.read(codec, key));
    }
  }
}

/** A short digest of a listing's order and filters (in a cursor: a continuation must have the same). */
function listingFingerprint(codec: EntityCodec, order: string, filter: readonly Condition[]): string {
  const shown = filter.map(({ attribute, op, value }) => [attribute, op, codec.attribute(attribute).normalize(value)]);
  return createHash("sha256")
    .update(JSON.stringify([order, shown]))
    .digest("base64url")
    .slice(0, 16);
}

/** The highest character: a key text that starts with a prefix sorts below the prefix followed by it. */
const HIGHEST = "\u{10ffff}";

/**
 * The stretch of sort keys that bounds on the sort template's next placeholder (the first one `values` leave out)
 * allow: from the prefix and the lowest bound's key text, to the prefix and the highest bound's key text followed by
 * the highest character (every key that starts so). Bounds are taken inclusively here; the filter applies them
 * exactly. Undefined when no condition bounds that placeholder, or its key text is not fixed-width (only then do key
 * texts sort as the values do: integers, decimals, dates and datetimes).
 */
function sortRange(
  codec: EntityCodec,
  template: string,
  values: EntityValue,
  prefix: string,
  conditions: readonly Condition[],
): { from: string; to: string } | undefined {
  // The prefix stops at the first placeholder without a value: that one is the next to sort by.
  const next = keyTemplatePlaceholders(template).find((name) => values[name] === undefined || values[name] === null);
  if (next === undefined) return undefined;
  if (!["integer", "bigint", "decimal", "datetime", "date"].includes(codec.attribute(next).type)) return undefined;
  let low: string | undefined;
  let high: string | undefined;
  for (const { attribute, op, value } of conditions) {
    if (attribute !== next || value === undefined || value === null) continue;
    const text = codec.attribute(next).keyText(value);
    if (op === ">=" || op === ">" || op === "=") low = low === undefined || text > low ? text : low;
    if (op === "<=" || op === "<" || op === "=") high = high === undefined || text < high ? text : high;
  }
  if (low === undefined && high === undefined) return undefined;
  return { from: `${prefix}${low ?? ""}`, to: `${prefix}${high ?? HIGHEST}${HIGHEST}` };
}

/** The version every write bumps; "0" for an item without one. */
function versionOf(item: Item): string {
  return item[VERSION_ATTRIBUTE]?.N ?? "0";
}

/**
 * The options of a call that may be aborted: none at all without a signal. A client made with `cacheMiddleware` (the
 * store's) reuses its resolved middleware only for a call sent without options; an options object, even an empty one,
 * makes it resolve the whole stack again (and drop what it had cached).
 */
function sendOptions(signal: AbortSignal | undefined): { abortSignal: AbortSignal } | undefined {
  return signal === undefined ? undefined : { abortSignal: signal };
}
