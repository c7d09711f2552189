/**
 * DynamoEntityStore: the DynamoDB side of the generated repositories. Every value goes through the codec (raw
 * AttributeValues, no lib-dynamodb), so keys and types are the ones the backfill and the validator use.
 *
 * - Keys never change in place (REFERENCE item 4): an update that changes a primary-key attribute moves the item in
 *   one transaction (delete the old item, conditionally; put the new one with attribute_not_exists).
 * - `unique` rules keep holding (DESIGN.md, "Write and read semantics"): one marker item per rule and value,
 *   written, swapped and deleted in the same transaction as the item.
 * - Every write bumps a numeric `__version` attribute, which conditional writes (here and in the backfill) rely on.
 */

import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { parseKeyTemplate } from "@ferry/contract";
import { type Codec, ENTITY_ATTRIBUTE, type EntityCodec, type EntityValue, type Item } from "../codec/index.ts";
import { increment } from "../codec/numbers.ts";
import {
  AlreadyExists,
  ConditionFailed,
  CursorError,
  NotFound,
  StoreError,
  UniqueViolation,
  WriteConflict,
} from "../errors.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";

/** The numeric attribute every write increments. */
export const VERSION_ATTRIBUTE = "__version";

/** DynamoDB's limit on the items of one transaction. */
export const MAX_TRANSACTION_ITEMS = 100;

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

export type DynamoConditionOperator = "=" | "<>" | "<" | "<=" | ">" | ">=";

/** A condition on the stored item, e.g. { attribute: "inventoryQuantity", op: ">=", value: 1 }. */
export interface DynamoCondition {
  attribute: string;
  op: DynamoConditionOperator;
  value: unknown;
}

export interface DynamoUpdateOptions {
  /** Every condition must hold on the stored item, or nothing is written (ConditionFailed). */
  condition?: DynamoCondition[];
  /** Atomic increments (negative to decrement) of numeric attributes. */
  add?: Record<string, number>;
}

const OPERATORS: ReadonlySet<string> = new Set(["=", "<>", "<", "<=", ">", ">="]);
const NUMERIC: ReadonlySet<string> = new Set(["integer", "bigint", "decimal", "float"]);

/** Expression attribute names and values for one request: only those it uses (DynamoDB rejects the others). */
class Expression {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  private count = 0;
  private readonly byName = new Map<string, string>();

  name(attribute: string): string {
    let placeholder = this.byName.get(attribute);
    if (!placeholder) {
      placeholder = `#n${this.byName.size}`;
      this.byName.set(attribute, placeholder);
      this.names[placeholder] = attribute;
    }
    return placeholder;
  }

  value(value: AttributeValue): string {
    const placeholder = `:v${this.count++}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The names and values, for a request (an empty values map is left out: DynamoDB rejects it). */
  get attributes(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
  } {
    const out: {
      ExpressionAttributeNames?: Record<string, string>;
      ExpressionAttributeValues?: Record<string, AttributeValue>;
    } = {};
    if (this.byName.size > 0) out.ExpressionAttributeNames = this.names;
    if (this.count > 0) out.ExpressionAttributeValues = this.values;
    return out;
  }
}

/** What a transaction's write stands for, so a cancellation reason can be told to the caller. */
type Meaning = (
  | {
      kind: "new-item";
      key: EntityValue;
      /** create: the new value and its item's key, to tell a taken key from a unique key MySQL would name. */
      created?: { value: EntityValue; itemKey: Item };
    }
  | { kind: "current" }
  | { kind: "unique"; rule: string; values: EntityValue }
  | { kind: "marker" }
  | { kind: "condition"; key: EntityValue }
) & { entity?: string /** The index of the DynamoTransactWrite it belongs to (transact). */; write?: number };

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
      condition?: DynamoCondition[];
    }
  /** `ifExists`: a missing item is skipped rather than failing the transaction (replaying a write elsewhere). */
  | { delete: string; key: EntityValue; condition?: DynamoCondition[]; ifExists?: boolean }
  | { check: string; key: EntityValue; condition: DynamoCondition[] };

export interface DynamoTransactOptions {
  /** Turns the failure of one write (its index in `writes`) into the error transact throws. */
  onFailure?: (write: number, error: StoreError) => Error;
}

/** A transaction cancelled by a write whose expectation about the stored state did not hold: read again. */
class Stale extends Error {}

interface UniqueRule {
  name: string;
  attributes: readonly string[];
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
      if (prefix !== "") {
        keyCondition += ` AND begins_with(${expression.name(names.sort)}, ${expression.value({ S: prefix })})`;
      }
    }
    const filter = `${expression.name(ENTITY_ATTRIBUTE)} = ${expression.value({ S: codec.name })}`;

    let start = cursor === undefined ? undefined : decodeCursor(cursor, entity, index);
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
        options.signal === undefined ? {} : { abortSignal: options.signal },
      );
      for (const item of page.Items ?? []) items.push(codec.fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined && (limit === undefined || items.length < limit));
    return start === undefined ? { items } : { items, cursor: encodeCursor(entity, index, start) };
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
    const item = codec.toItem(value);
    item[VERSION_ATTRIBUTE] = { N: "1" };
    const key = primaryKey(codec, item);
    writes.push(this.putNew(codec, item));
    meanings.push({
      kind: "new-item",
      key: keyValues(codec, value),
      entity: codec.name,
      created: { value, itemKey: key },
    });
    for (const rule of uniqueRules(codec)) {
      const marker = uniqueMarker(codec, rule.name, value, key);
      if (!marker) continue;
      writes.push(this.putNew(codec, marker));
      meanings.push({ kind: "unique", rule: rule.name, values: pick(value, rule.attributes), entity: codec.name });
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
        items.push(this.updateWrite(codec, write.key, write.changes ?? {}, write.add ?? {}, condition));
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
        items.push(this.deleteCurrent(codec, current, write.condition ?? []));
        meanings.push({ kind: "condition", key: keyValues(codec, before), entity: codec.name });
        for (const rule of uniqueRules(codec)) {
          const marker = uniqueMarker(codec, rule.name, before, itemKey);
          if (!marker) continue;
          items.push(this.deleteMarker(codec, marker, itemKey));
          meanings.push({ kind: "condition", key: keyValues(codec, before), entity: codec.name });
        }
      } else {
        const codec = this.codec.entity(write.check);
        const expression = new Expression();
        const conditions = [`attribute_exists(${expression.name(codec.keyNames.partition)})`];
        conditions.push(
          ...userConditions(codec, expression, [...identityConditions(codec, write.key), ...write.condition]),
        );
        items.push({
          ConditionCheck: {
            TableName: this.tableName(codec.name),
            Key: codec.key(write.key),
            ConditionExpression: conditions.join(" AND "),
            ...expression.attributes,
          },
        });
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

  /** An in-place Update for a transaction: only plain attributes change, so no index key or marker follows. */
  private updateWrite(
    codec: EntityCodec,
    key: EntityValue,
    changes: EntityValue,
    add: Record<string, number | bigint | string>,
    condition: readonly DynamoCondition[],
  ): TransactWriteItem {
    const keyed = keyedAttributes(codec);
    for (const rule of uniqueRules(codec)) for (const name of rule.attributes) keyed.add(name);
    const expression = new Expression();
    const sets: string[] = [];
    const removes: string[] = [];
    for (const [name, value] of Object.entries(changes)) {
      if (keyed.has(name)) {
        throw new StoreError(
          "dynamodb",
          codec.name,
          `'${name}' is in a key, an index key or a unique rule: change it with update(), not in a transaction`,
        );
      }
      const converted = codec.attribute(name).toAttribute(value);
      if (converted === undefined) removes.push(expression.name(name));
      else sets.push(`${expression.name(name)} = ${expression.value(converted)}`);
    }
    const adds: string[] = [];
    for (const [name, delta] of Object.entries(add)) {
      const attribute = codec.attribute(name);
      const finite = typeof delta === "number" ? Number.isFinite(delta) : /^-?\d+(\.\d+)?$/.test(String(delta));
      if (!NUMERIC.has(attribute.type) || keyed.has(name) || !finite) {
        throw new StoreError("dynamodb", codec.name, `'${name}' cannot be incremented in a transaction`);
      }
      adds.push(`${expression.name(name)} ${expression.value({ N: String(delta) })}`);
    }
    const version = expression.name(VERSION_ATTRIBUTE);
    sets.push(
      `${version} = if_not_exists(${version}, ${expression.value({ N: "0" })}) + ${expression.value({ N: "1" })}`,
    );
    let update = `SET ${sets.join(", ")}`;
    if (removes.length > 0) update += ` REMOVE ${removes.join(", ")}`;
    if (adds.length > 0) update += ` ADD ${adds.join(", ")}`;
    const conditions = [`attribute_exists(${expression.name(codec.keyNames.partition)})`];
    conditions.push(...userConditions(codec, expression, condition));
    return {
      Update: {
        TableName: this.tableName(codec.name),
        Key: codec.key(key),
        UpdateExpression: update,
        ConditionExpression: conditions.join(" AND "),
        ...expression.attributes,
      },
    };
  }

  /**
   * Changes an item and returns its new value. A changed primary-key attribute moves the item (one transaction);
   * changed unique values swap their markers in the same transaction; index keys follow the new value. `add`
   * increments atomically; `condition` must hold on the stored item (ConditionFailed otherwise). NotFound when
   * there is no item with the key.
   */
  async update(
    entity: string,
    key: EntityValue,
    changes: EntityValue,
    options: DynamoUpdateOptions = {},
  ): Promise<EntityValue> {
    const codec = this.codec.entity(entity);
    const add = Object.entries(options.add ?? {});
    for (const [name, delta] of add) {
      const attribute = codec.attribute(name);
      if (!NUMERIC.has(attribute.type)) {
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
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.read(codec, codec.key(key));
      const before = current === undefined ? undefined : codec.fromItem(current);
      if (!current || !before || !identityMatches(codec, before, key)) {
        throw new NotFound("dynamodb", entity, keyValues(codec, key));
      }
      const next: EntityValue = { ...before, ...changes };
      const moves = !sameItem(codec.key(before), codec.key(next));
      const swapped = uniqueRules(codec).filter((rule) => rule.attributes.some((a) => changed(codec, a, before, next)));
      const simple = !moves && swapped.length === 0 && add.every(([name]) => !keyed.has(name));
      try {
        if (simple) return await this.updateInPlace(codec, current, next, options);
        for (const [name, delta] of add) next[name] = increment(before[name], delta);
        return await this.rewrite(codec, current, before, next, moves, swapped, options.condition ?? []);
      } catch (error) {
        if (!(error instanceof Stale)) throw error;
        const now = await this.read(codec, codec.key(key));
        if (!now) throw new NotFound("dynamodb", entity, keyValues(codec, key));
        // Unchanged since the read: the caller's condition is what failed.
        if (now[VERSION_ATTRIBUTE]?.N === current[VERSION_ATTRIBUTE]?.N) {
          throw new ConditionFailed("dynamodb", entity, keyValues(codec, before), { cause: error.cause });
        }
      }
    }
    throw new WriteConflict("dynamodb", entity, keyValues(codec, key));
  }

  /** Deletes an item and its unique markers in one transaction; false when there was no item. */
  async delete(entity: string, key: EntityValue): Promise<boolean> {
    const codec = this.codec.entity(entity);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.read(codec, codec.key(key));
      if (!current) return false;
      const before = codec.fromItem(current);
      if (!identityMatches(codec, before, key)) return false;
      const itemKey = primaryKey(codec, current);
      const writes: TransactWriteItem[] = [this.deleteCurrent(codec, current, [])];
      const meanings: Meaning[] = [{ kind: "current" }];
      for (const rule of uniqueRules(codec)) {
        const marker = uniqueMarker(codec, rule.name, before, itemKey);
        if (!marker) continue;
        writes.push(this.deleteMarker(codec, marker, itemKey));
        meanings.push({ kind: "marker" });
      }
      try {
        await this.run(codec.name, writes, meanings);
        return true;
      } catch (error) {
        if (!(error instanceof Stale)) throw error;
      }
    }
    throw new WriteConflict("dynamodb", entity, keyValues(codec, key));
  }

  private async read(codec: EntityCodec, key: Item, signal?: AbortSignal): Promise<Item | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName(codec.name), Key: key, ConsistentRead: true }),
      signal === undefined ? {} : { abortSignal: signal },
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
  ): Promise<EntityValue> {
    const add = options.add ?? {};
    const target = codec.toItem(next);
    const expression = new Expression();
    const sets: string[] = [];
    const removes: string[] = [];
    for (const name of writableAttributes(codec)) {
      if (name in add) continue;
      const wanted = target[name];
      const stored = current[name];
      if (wanted === undefined) {
        if (stored !== undefined) removes.push(expression.name(name));
      } else if (stored === undefined || !sameValue(wanted, stored)) {
        sets.push(`${expression.name(name)} = ${expression.value(wanted)}`);
      }
    }
    const version = expression.name(VERSION_ATTRIBUTE);
    sets.push(
      `${version} = if_not_exists(${version}, ${expression.value({ N: "0" })}) + ${expression.value({ N: "1" })}`,
    );
    const adds = Object.entries(add).map(
      ([name, delta]) => `${expression.name(name)} ${expression.value({ N: String(delta) })}`,
    );
    let update = `SET ${sets.join(", ")}`;
    if (removes.length > 0) update += ` REMOVE ${removes.join(", ")}`;
    if (adds.length > 0) update += ` ADD ${adds.join(", ")}`;
    const conditions = [`attribute_exists(${expression.name(codec.keyNames.partition)})`];
    conditions.push(...userConditions(codec, expression, options.condition ?? []));
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName(codec.name),
          Key: primaryKey(codec, current),
          UpdateExpression: update,
          ConditionExpression: conditions.join(" AND "),
          ...expression.attributes,
          ReturnValues: "ALL_NEW",
        }),
      );
      if (!out.Attributes) throw new StoreError("dynamodb", codec.name, "UpdateItem returned no item");
      return codec.fromItem(out.Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new Stale("condition failed", { cause: error });
      throw error;
    }
  }

  /** The item written whole, in one transaction: moved when its key changes, with its markers swapped. */
  private async rewrite(
    codec: EntityCodec,
    current: Item,
    before: EntityValue,
    next: EntityValue,
    moves: boolean,
    swapped: readonly UniqueRule[],
    condition: readonly DynamoCondition[],
  ): Promise<EntityValue> {
    const item = codec.toItem(next);
    item[VERSION_ATTRIBUTE] = { N: String(Number(current[VERSION_ATTRIBUTE]?.N ?? "0") + 1) };
    const oldKey = primaryKey(codec, current);
    const newKey = primaryKey(codec, item);
    const writes: TransactWriteItem[] = [];
    const meanings: Meaning[] = [];
    if (moves) {
      writes.push(this.deleteCurrent(codec, current, condition), this.putNew(codec, item));
      meanings.push({ kind: "current" }, { kind: "new-item", key: keyValues(codec, next) });
    } else {
      const expression = new Expression();
      writes.push({
        Put: {
          TableName: this.tableName(codec.name),
          Item: item,
          ConditionExpression: [
            versionCondition(expression, current),
            ...userConditions(codec, expression, condition),
          ].join(" AND "),
          ...expression.attributes,
        },
      });
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
        if (oldMarker) {
          writes.push(this.deleteMarker(codec, oldMarker, oldKey));
          meanings.push({ kind: "marker" });
        }
        if (newMarker) {
          writes.push(this.putNew(codec, newMarker));
          meanings.push({ kind: "unique", rule: rule.name, values: pick(next, rule.attributes) });
        }
      } else if (moves && newMarker) {
        // Same values, new owner.
        const expression = new Expression();
        writes.push({
          Put: {
            TableName: this.tableName(codec.name),
            Item: newMarker,
            ConditionExpression: ownedBy(codec, expression, oldKey),
            ...expression.attributes,
          },
        });
        meanings.push({ kind: "marker" });
      }
    }
    await this.run(codec.name, writes, meanings);
    return codec.fromItem(item);
  }

  private putNew(codec: EntityCodec, item: Item): TransactWriteItem {
    const expression = new Expression();
    return {
      Put: {
        TableName: this.tableName(codec.name),
        Item: item,
        ConditionExpression: `attribute_not_exists(${expression.name(codec.keyNames.partition)})`,
        ...expression.attributes,
      },
    };
  }

  private deleteCurrent(codec: EntityCodec, current: Item, condition: readonly DynamoCondition[]): TransactWriteItem {
    const expression = new Expression();
    return {
      Delete: {
        TableName: this.tableName(codec.name),
        Key: primaryKey(codec, current),
        ConditionExpression: [
          versionCondition(expression, current),
          ...userConditions(codec, expression, condition),
        ].join(" AND "),
        ...expression.attributes,
      },
    };
  }

  private deleteMarker(codec: EntityCodec, marker: Item, owner: Item): TransactWriteItem {
    const expression = new Expression();
    return {
      Delete: {
        TableName: this.tableName(codec.name),
        Key: primaryKey(codec, marker),
        ConditionExpression: ownedBy(codec, expression, owner),
        ...expression.attributes,
      },
    };
  }

  /**
   * When a new item's DynamoDB key is taken by another item (another MySQL primary key, e.g. a second cart line for
   * the same user and product), MySQL refuses the row by the unique key over those values, not by its primary key:
   * the rule to name then (one whose marker failed too, else one over exactly the key's placeholders).
   */
  private async uniqueKeyTaken(
    meaning: Meaning & { kind: "new-item" },
    codes: readonly string[],
    meanings: readonly Meaning[],
  ): Promise<{ name: string; values: EntityValue } | undefined> {
    const created = meaning.created;
    if (!created || meaning.entity === undefined) return undefined;
    const codec = this.codec.entity(meaning.entity);
    if (codec.checkedIdentity.length === 0) return undefined;
    const current = await this.read(codec, created.itemKey).catch(() => undefined);
    if (current === undefined || identityMatches(codec, codec.fromItem(current), created.value)) return undefined;
    const own = meanings.indexOf(meaning);
    for (const [i, other] of meanings.entries()) {
      if (i <= own || other.kind === "new-item") continue;
      if (other.kind !== "unique" || other.entity !== meaning.entity || other.write !== meaning.write) break;
      if (codes[i] === "ConditionalCheckFailed") return { name: other.rule, values: other.values };
    }
    const keyed = new Set(
      [codec.definition.key.partition, codec.definition.key.sort].flatMap((template) => placeholders(template)),
    );
    const rule = uniqueRules(codec).find(
      (candidate) => candidate.attributes.length === keyed.size && candidate.attributes.every((a) => keyed.has(a)),
    );
    return rule ? { name: rule.name, values: pick(created.value, rule.attributes) } : undefined;
  }

  /** Runs one TransactWriteItems and turns a cancellation into the error its first failed write stands for. */
  private async run(entity: string, writes: TransactWriteItem[], meanings: readonly Meaning[]): Promise<void> {
    if (writes.length > MAX_TRANSACTION_ITEMS) {
      throw new StoreError(
        "dynamodb",
        entity,
        `a transaction of ${writes.length} writes (unique markers included) is over DynamoDB's limit of ${MAX_TRANSACTION_ITEMS}`,
      );
    }
    try {
      await this.client.send(new TransactWriteItemsCommand({ TransactItems: writes }));
    } catch (error) {
      const codes = cancellationCodes(error);
      if (!codes) throw error;
      if (codes.includes("TransactionConflict")) throw new Stale("transaction conflict", { cause: error });
      const failed = codes.indexOf("ConditionalCheckFailed");
      const meaning = failed >= 0 ? meanings[failed] : undefined;
      const located = <T extends StoreError>(failure: T): T =>
        meaning?.write === undefined ? failure : Object.assign(failure, { write: meaning.write });
      switch (meaning?.kind) {
        case "new-item": {
          const rule = await this.uniqueKeyTaken(meaning, codes, meanings);
          if (rule) {
            throw located(
              new UniqueViolation("dynamodb", meaning.entity ?? entity, rule.name, rule.values, { cause: error }),
            );
          }
          throw located(new AlreadyExists("dynamodb", meaning.entity ?? entity, meaning.key, { cause: error }));
        }
        case "unique":
          throw located(
            new UniqueViolation("dynamodb", meaning.entity ?? entity, meaning.rule, meaning.values, { cause: error }),
          );
        case "condition":
          throw located(new ConditionFailed("dynamodb", meaning.entity ?? entity, meaning.key, { cause: error }));
        case "current":
        case "marker":
          throw new Stale("condition failed", { cause: error });
        default:
          throw error;
      }
    }
  }
}

/**
 * The key of a unique rule's marker item: partition (and sort) `UNIQUE#<Entity>#<rule>#<values>`, each value as
 * it is written in keys (folded as its `_ci` collation compares it: see foldForCollation), with `%` and `#` escaped
 * (%25, %23) so that values of several attributes cannot run together. Undefined when a value is null (NULLs do not
 * collide, as in MySQL).
 */
export function uniqueMarkerKey(codec: EntityCodec, rule: string, value: EntityValue): Item | undefined {
  const attributes = codec.definition.unique?.[rule]?.attributes;
  if (!attributes) throw new StoreError("dynamodb", codec.name, `has no unique rule '${rule}'`);
  const texts: string[] = [];
  for (const name of attributes) {
    const given = value[name];
    if (given === undefined || given === null) return undefined;
    texts.push(codec.attribute(name).keyText(given).replaceAll("%", "%25").replaceAll("#", "%23"));
  }
  const id = `UNIQUE#${codec.name}#${rule}#${texts.join("#")}`;
  const key: Item = { [codec.keyNames.partition]: { S: id } };
  if (codec.keyNames.sort !== undefined) key[codec.keyNames.sort] = { S: id };
  return key;
}

/** The marker item: its key and its owner's key (`owner<PK>`, `owner<SK>`). */
function uniqueMarker(codec: EntityCodec, rule: string, value: EntityValue, owner: Item): Item | undefined {
  const key = uniqueMarkerKey(codec, rule, value);
  if (!key) return undefined;
  const marker: Item = { ...key };
  for (const [name, attribute] of Object.entries(owner)) marker[`owner${name}`] = attribute;
  return marker;
}

/** The marker is absent or belongs to `owner`. */
function ownedBy(codec: EntityCodec, expression: Expression, owner: Item): string {
  const checks = Object.entries(owner).map(
    ([name, attribute]) => `${expression.name(`owner${name}`)} = ${expression.value(attribute)}`,
  );
  return `(attribute_not_exists(${expression.name(codec.keyNames.partition)}) OR (${checks.join(" AND ")}))`;
}

function versionCondition(expression: Expression, current: Item): string {
  const stored = current[VERSION_ATTRIBUTE]?.N;
  const name = expression.name(VERSION_ATTRIBUTE);
  return stored === undefined ? `attribute_not_exists(${name})` : `${name} = ${expression.value({ N: stored })}`;
}

function userConditions(codec: EntityCodec, expression: Expression, conditions: readonly DynamoCondition[]): string[] {
  return conditions.map(({ attribute, op, value }) => {
    if (!OPERATORS.has(op)) throw new StoreError("dynamodb", codec.name, `'${String(op)}' is not a condition operator`);
    const converted = codec.attribute(attribute).toAttribute(value);
    if (converted === undefined) {
      throw new StoreError(
        "dynamodb",
        codec.name,
        `a condition on '${attribute}' needs a value (null is not comparable)`,
      );
    }
    return `${expression.name(attribute)} ${op} ${expression.value(converted)}`;
  });
}

function uniqueRules(codec: EntityCodec): UniqueRule[] {
  return Object.entries(codec.definition.unique ?? {}).map(([name, rule]) => ({ name, attributes: rule.attributes }));
}

function primaryKey(codec: EntityCodec, item: Item): Item {
  const key: Item = {};
  for (const name of [codec.keyNames.partition, codec.keyNames.sort]) {
    if (name === undefined) continue;
    const value = item[name];
    if (value === undefined) throw new StoreError("dynamodb", codec.name, `the item has no key attribute '${name}'`);
    key[name] = value;
  }
  return key;
}

function placeholders(template: string | undefined): string[] {
  if (template === undefined) return [];
  return parseKeyTemplate(template).flatMap((part) => ("placeholder" in part ? [part.placeholder] : []));
}

/** The attributes the primary key is made of, with their values (for error messages). */
function keyValues(codec: EntityCodec, value: EntityValue): EntityValue {
  const key: EntityValue = {};
  for (const name of codec.identity) if (value[name] !== undefined) key[name] = value[name];
  return key;
}

/** False when the key names an identity attribute the key templates leave out (MySQL's id) with another value. */
function identityMatches(codec: EntityCodec, value: EntityValue, key: EntityValue): boolean {
  return codec.checkedIdentity.every((attribute) => {
    const given = key[attribute];
    if (given === undefined) return true;
    const normalize = (v: unknown) => codec.attribute(attribute).normalize(v);
    return normalize(given) === normalize(value[attribute]);
  });
}

/** The identity attributes the key templates leave out, as conditions on the stored item. */
function identityConditions(codec: EntityCodec, key: EntityValue): DynamoCondition[] {
  return codec.checkedIdentity
    .filter((attribute) => key[attribute] !== undefined && key[attribute] !== null)
    .map((attribute) => ({ attribute, op: "=", value: key[attribute] }));
}

/** Attributes that appear in a key or index key template. */
function keyedAttributes(codec: EntityCodec): Set<string> {
  const templates = [codec.definition.key, ...Object.values(codec.definition.indexes ?? {})];
  return new Set(templates.flatMap((t) => [...placeholders(t.partition), ...placeholders(t.sort)]));
}

/** The item attributes an update may set or remove: attributes, copies and index keys (never the primary key). */
function writableAttributes(codec: EntityCodec): string[] {
  const names = [...codec.attributes, ...codec.copies].map((attribute) => attribute.name);
  for (const index of Object.keys(codec.definition.indexes ?? {})) {
    const keyNames = codec.indexKeyNames(index);
    names.push(keyNames.partition);
    if (keyNames.sort !== undefined) names.push(keyNames.sort);
  }
  return [...new Set(names)];
}

function pick(value: EntityValue, names: readonly string[]): EntityValue {
  const picked: EntityValue = {};
  for (const name of names) picked[name] = value[name];
  return picked;
}

function changed(codec: EntityCodec, name: string, before: EntityValue, next: EntityValue): boolean {
  const attribute = codec.attribute(name);
  return attribute.normalize(before[name]) !== attribute.normalize(next[name]);
}

function sameItem(a: Item, b: Item): boolean {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const name of names) {
    const x = a[name];
    const y = b[name];
    if (x === undefined || y === undefined || !sameValue(x, y)) return false;
  }
  return true;
}

function sameValue(a: AttributeValue, b: AttributeValue): boolean {
  return stable(a) === stable(b);
}

function stable(value: AttributeValue): string {
  return JSON.stringify(value, (_key, given: unknown) =>
    given instanceof Uint8Array ? Buffer.from(given).toString("base64") : given,
  );
}

function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  if (error.CancellationReasons) return error.CancellationReasons.map((reason) => reason.Code ?? "None");
  const listed = /\[([^\]]*)\]/.exec(error.message)?.[1];
  return listed === undefined ? [] : listed.split(",").map((code) => code.trim());
}
