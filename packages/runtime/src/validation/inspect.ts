/**
 * inspectRecord(): one entity's record looked up by its key on both stores, for a person (the console's record
 * inspector): the MySQL row and the DynamoDB item side by side, the item as stored (its key, index key and bookkeeping
 * attributes apart), the unique markers its value should have, and what differs, compared as validation compares
 * (compare.ts: codec.diff of the row without its denormalised copies, and the key attributes the row renders).
 *
 * It reads and never writes. Reads are consistent; the item's value and its attributes come from two reads, taken
 * again when a write landed between them (their versions differ).
 */

import { type AttributeValue, type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import {
  type Codec,
  CodecError,
  conceal,
  ENTITY_ATTRIBUTE,
  type EntityCodec,
  type EntityValue,
  type Item,
} from "../codec/index.ts";
import { VERSION_ATTRIBUTE } from "../dynamodb/expression.ts";
import { identityMatches, primaryKey, sameItem } from "../dynamodb/item-keys.ts";
import { markerOwnerKey } from "../dynamodb/orphan-markers.ts";
import { DynamoEntityStore, type VersionedValue } from "../dynamodb/store.ts";
import { allUniqueRules, enforcedByKey, uniqueMarkerKey, uniqueRules } from "../dynamodb/unique-markers.ts";
import { MysqlEntityStore } from "../mysql/store.ts";
import { SourceRows } from "../rows/index.ts";
import { EntityComparison, reasonOf } from "./compare.ts";
import type { FieldDifference } from "./report.ts";
import { ValidationError, type ValidationServices } from "./validate.ts";

/** Where the record is. */
export type Presence = "both" | "mysql-only" | "dynamodb-only" | "neither";

/**
 * A DynamoDB attribute as plain JSON: numbers as numbers when exact, else `{"$bigint": "…"}` (integers) or
 * `{"$number": "…"}`; binary as `{"$bytes": "<base64>"}`; sets as `{"$set": [...]}`; lists, maps, strings, booleans
 * and null as they are.
 */
export type InspectedJson = null | boolean | number | string | InspectedJson[] | { [key: string]: InspectedJson };

/** One key attribute the contract defines for the entity: the table's primary key or one of its indexes' keys. */
export interface InspectedKeyAttribute {
  name: string;
  /** "table" for the primary key, else the index's name. */
  of: string;
  /** What the item holds; null when it does not have it (a sparse index). */
  value: InspectedJson;
}

/** An item as DynamoDB holds it, attribute by attribute. */
export interface InspectedItem {
  /** The physical table. */
  table: string;
  /** The key attributes (the table's, then each index's the entity uses), each once. */
  keys: InspectedKeyAttribute[];
  /** ferry's own attributes: `__entity`, `__version`. */
  bookkeeping: Record<string, InspectedJson>;
  /** Every other attribute (the entity's attributes and denormalised copies, and any the contract does not know). */
  attributes: Record<string, InspectedJson>;
}

/** One unique rule's marker, as the record's value should have it. */
export interface MarkerInspection {
  rule: string;
  /** The rule's attributes. */
  attributes: readonly string[];
  /** The marker's id (its partition key); null when a value of the rule is null (no marker: NULLs do not collide). */
  key: string | null;
  /** Whether the marker item is there. */
  present: boolean;
  /** The key of the item the marker names (`owner<PK>`, `owner<SK>`), when it is there and names one. */
  owner?: Record<string, InspectedJson>;
  /** Whether it names this record's item as its owner. */
  owned: boolean;
  /** The rule has no marker: the item's own key enforces it (enforcedByKey); `key` is null then. */
  byKey?: true;
}

export interface RecordInspection {
  entity: string;
  /** The identity looked up (its canonical values). */
  key: EntityValue;
  presence: Presence;
  /** The row, decoded by the codec; undefined when there is none (or it cannot be read: see `unreadable`). */
  mysql: EntityValue | undefined;
  /** The item, decoded by the codec; undefined when there is none (or it cannot be read: see `unreadable`). */
  dynamodb: EntityValue | undefined;
  /** The item attribute by attribute, when it is there. */
  item: InspectedItem | undefined;
  /**
   * An item of another record under the key this identity addresses (a checked identity attribute, such as MySQL's id
   * when the key templates leave it out, that differs), or of another entity.
   */
  otherItem?: InspectedItem;
  /** Why a row or item that is there cannot be read by the codec. */
  unreadable?: { mysql?: string; dynamodb?: string };
  /**
   * The fields that differ between the row and the item (both there), in the codec's normalised form: the entity's
   * attributes (denormalised copies are not compared, as in validation), then the key and index key attributes the
   * row renders that the item does not hold.
   */
  differences: FieldDifference[];
  /**
   * One per unique rule, from the authoritative value at hand: the row when MySQL has it, else the item. None when
   * neither store has the record.
   */
  markers: MarkerInspection[];
}

/** The entity or the key asked for cannot be looked up: `fields` says what is wrong, by "entity" or key attribute. */
export class InspectError extends ValidationError {
  constructor(
    message: string,
    readonly fields: Record<string, string>,
  ) {
    super(message);
  }
}

/** Tries at reading the item's value and its attributes at one version. */
const ITEM_READS = 3;

/** The record of `entity` under `key` (its identity attributes) on both stores. InspectError for bad input. */
export async function inspectRecord(
  services: ValidationServices,
  entity: string,
  key: EntityValue,
): Promise<RecordInspection> {
  const { codec } = services;
  const entityCodec = entityOf(codec, entity);
  const identity = checkedKey(entityCodec, key);
  const dynamo = new DynamoEntityStore(services.client, codec, { tablePrefix: services.tablePrefix });
  const table = dynamo.tableName(entity);

  const [row, stored] = await Promise.all([
    readRow(new MysqlEntityStore(services.mysql, codec), entity, identity),
    readItem(services.client, dynamo, entityCodec, table, identity),
  ]);
  const unreadable: { mysql?: string; dynamodb?: string } = {};
  if (row.unreadable !== undefined) unreadable.mysql = row.unreadable;
  if (stored.unreadable !== undefined) unreadable.dynamodb = stored.unreadable;

  const presence: Presence = row.there
    ? stored.item !== undefined
      ? "both"
      : "mysql-only"
    : stored.item !== undefined
      ? "dynamodb-only"
      : "neither";

  const differences: FieldDifference[] = [];
  if (row.value !== undefined && stored.value !== undefined && stored.item !== undefined) {
    const rows = new SourceRows(services.mysql, codec);
    const [filled] = await rows.withCopies(entity, [row.value]);
    differences.push(
      ...entityCodec
        .shownDiff(entityCodec.diff(row.value, stored.value))
        .map((diff): FieldDifference => ({ field: diff.field, mysql: diff.left, dynamodb: diff.right })),
      ...new EntityComparison(codec, entity, services.client, rows, table).keyDifferences(
        filled ?? row.value,
        stored.value,
        stored.item,
      ),
    );
  }

  const authoritative = row.value ?? stored.value;
  const markers =
    authoritative === undefined
      ? []
      : await inspectMarkers(
          services.client,
          entityCodec,
          table,
          authoritative,
          stored.item !== undefined ? primaryKey(entityCodec, stored.item) : entityCodec.key(authoritative),
        );

  return {
    entity,
    key: identity,
    presence,
    // What is shown of the record: a sensitive attribute's value as a tag, on every side.
    mysql: row.value === undefined ? undefined : entityCodec.shownValue(row.value),
    dynamodb: stored.value === undefined ? undefined : entityCodec.shownValue(stored.value),
    item: stored.item === undefined ? undefined : itemView(entityCodec, table, stored.item),
    // Another entity's item is shown by its own entity's rules (what of it is sensitive).
    ...(stored.other === undefined
      ? {}
      : { otherItem: itemView(ownEntity(codec, stored.other, entityCodec), table, stored.other) }),
    ...(Object.keys(unreadable).length > 0 ? { unreadable } : {}),
    differences,
    markers,
  };
}

function entityOf(codec: Codec, entity: string): EntityCodec {
  if (!codec.entities.includes(entity)) {
    throw new InspectError(`the contract has no entity '${entity}' (it has ${codec.entities.join(", ")})`, {
      entity: `There is no entity '${entity}' in the contract (it has ${codec.entities.join(", ")}).`,
    });
  }
  return codec.entity(entity);
}

/** The key's identity attributes in their canonical form; InspectError naming each one missing, extra or mistyped. */
function checkedKey(codec: EntityCodec, key: EntityValue): EntityValue {
  const fields: Record<string, string> = {};
  const identity: EntityValue = {};
  if (key === null || typeof key !== "object" || Array.isArray(key)) {
    throw new InspectError(`the key of ${codec.name} is an object of its identity (${codec.identity.join(", ")})`, {
      key: `The key is an object of ${codec.identity.join(", ")}.`,
    });
  }
  for (const [name, given] of Object.entries(key)) {
    if (given !== undefined && !codec.identity.includes(name)) {
      fields[name] = `${name} is not part of ${codec.name}'s key (${codec.identity.join(", ")}).`;
    }
  }
  for (const name of codec.identity) {
    const given = key[name];
    if (given === undefined || given === null) {
      fields[name] = `${name} is missing: ${codec.name}'s key is ${codec.identity.join(", ")}.`;
      continue;
    }
    try {
      identity[name] = codec.attribute(name).check(given);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      fields[name] = error.message;
    }
  }
  if (Object.keys(fields).length === 0) {
    // A key attribute DynamoDB would refuse (an empty string) addresses no item.
    try {
      const rendered = codec.key(identity);
      if (Object.values(rendered).some((attribute) => attribute.S === "")) {
        fields.key = `${codec.name}'s key renders as an empty string with these values.`;
      }
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      fields.key = error.message;
    }
  }
  if (Object.keys(fields).length > 0) {
    throw new InspectError(`not a key of ${codec.name}: ${Object.values(fields).join(" ")}`, fields);
  }
  return identity;
}

interface RowRead {
  there: boolean;
  value?: EntityValue;
  unreadable?: string;
}

async function readRow(store: MysqlEntityStore, entity: string, key: EntityValue): Promise<RowRead> {
  try {
    const value = await store.get(entity, key);
    return value === undefined ? { there: false } : { there: true, value };
  } catch (error) {
    // The codec read the row and could not map it: it is there.
    if (error instanceof CodecError) return { there: true, unreadable: reasonOf(error) };
    throw error;
  }
}

interface ItemRead {
  /** The record's item (this entity's, with this identity). */
  item?: Item;
  value?: EntityValue;
  unreadable?: string;
  /** Another item under the key. */
  other?: Item;
}

/**
 * The record's item through DynamoEntityStore (its value as every reader gets it) and as stored (GetItem), at one
 * version: read again when a write landed between the two reads.
 */
async function readItem(
  client: DynamoDBClient,
  store: DynamoEntityStore,
  codec: EntityCodec,
  table: string,
  key: EntityValue,
): Promise<ItemRead> {
  let read: ItemRead = {};
  for (let attempt = 1; attempt <= ITEM_READS; attempt++) {
    let versioned: VersionedValue | undefined;
    let unreadable: string | undefined;
    try {
      versioned = await store.versioned(codec.name, key);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      unreadable = reasonOf(error);
    }
    const raw = (await client.send(new GetItemCommand({ TableName: table, Key: codec.key(key), ConsistentRead: true })))
      .Item;
    let settled: boolean;
    if (unreadable !== undefined) {
      read = raw !== undefined && raw[ENTITY_ATTRIBUTE]?.S === codec.name ? { item: raw, unreadable } : {};
      settled = read.item !== undefined;
    } else if (versioned !== undefined) {
      read = raw === undefined ? {} : { item: raw, value: versioned.value };
      settled = raw?.[VERSION_ATTRIBUTE]?.N === versioned.version;
    } else {
      read = raw === undefined ? {} : { other: raw };
      settled = raw === undefined || !holdsRecord(codec, raw, key);
    }
    if (settled) break;
  }
  return read;
}

/** Whether `item` is the record's own item (this entity's, with this identity). */
function holdsRecord(codec: EntityCodec, item: Item, key: EntityValue): boolean {
  if (item[ENTITY_ATTRIBUTE]?.S !== codec.name) return false;
  try {
    return identityMatches(codec, codec.fromItem(item), key);
  } catch {
    return false;
  }
}

/** The markers `value` should have, each read: there or not, and whether it names `owner` (the record's item key). */
async function inspectMarkers(
  client: DynamoDBClient,
  codec: EntityCodec,
  table: string,
  value: EntityValue,
  owner: Item,
): Promise<MarkerInspection[]> {
  const byKey = allUniqueRules(codec)
    .filter((rule) => enforcedByKey(codec, rule))
    .map(
      (rule): MarkerInspection => ({
        rule: rule.name,
        attributes: rule.attributes,
        key: null,
        present: false,
        owned: false,
        byKey: true,
      }),
    );
  const marked = await Promise.all(
    uniqueRules(codec).map(async (rule): Promise<MarkerInspection> => {
      let markerKey: Item | undefined;
      try {
        markerKey = uniqueMarkerKey(codec, rule.name, value);
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        markerKey = undefined;
      }
      const base = { rule: rule.name, attributes: rule.attributes };
      if (markerKey === undefined) return { ...base, key: null, present: false, owned: false };
      const marker = (await client.send(new GetItemCommand({ TableName: table, Key: markerKey, ConsistentRead: true })))
        .Item;
      const id = markerKey[codec.keyNames.partition]?.S ?? "";
      if (marker === undefined) return { ...base, key: id, present: false, owned: false };
      const named = markerOwnerKey(codec, marker);
      return {
        ...base,
        key: id,
        present: true,
        ...(named === undefined ? {} : { owner: renderItem(named) }),
        owned: named !== undefined && sameItem(named, owner),
      };
    }),
  );
  return [...marked, ...byKey];
}

/** The bookkeeping attributes every item of an entity carries. */
const BOOKKEEPING: readonly string[] = [ENTITY_ATTRIBUTE, VERSION_ATTRIBUTE];

/** The codec of the entity an item says it belongs to (`__entity`), or `fallback` when the contract has none such. */
function ownEntity(codec: Codec, item: Item, fallback: EntityCodec): EntityCodec {
  const name = codec.entityOf(item);
  return name !== undefined && codec.entities.includes(name) ? codec.entity(name) : fallback;
}

function itemView(codec: EntityCodec, table: string, item: Item): InspectedItem {
  const keys: InspectedKeyAttribute[] = [];
  const keyed = new Set<string>();
  const add = (of: string, names: { partition: string; sort?: string }) => {
    for (const name of [names.partition, names.sort]) {
      if (name === undefined || keyed.has(name)) continue;
      keyed.add(name);
      const value = item[name];
      keys.push({ name, of, value: value === undefined ? null : attributeJson(value) });
    }
  };
  add("table", codec.keyNames);
  for (const index of Object.keys(codec.definition.indexes ?? {})) add(index, codec.indexKeyNames(index));
  const bookkeeping: Record<string, InspectedJson> = {};
  const attributes: Record<string, InspectedJson> = {};
  for (const name of Object.keys(item).sort()) {
    const value = item[name];
    if (value === undefined || keyed.has(name)) continue;
    if (BOOKKEEPING.includes(name)) bookkeeping[name] = attributeJson(value);
    else attributes[name] = shownAttribute(codec, name, value);
  }
  return { table, keys, bookkeeping, attributes };
}

/**
 * An item's attribute as the inspector shows it: as it is, or, for a sensitive attribute of the entity, its tag (the
 * same tag as the decoded value's; a value the codec cannot read gets a tag of its own, still never the value).
 */
function shownAttribute(codec: EntityCodec, name: string, value: AttributeValue): InspectedJson {
  const attribute = codec.attributes.find((each) => each.name === name);
  if (attribute === undefined || !attribute.sensitive) return attributeJson(value);
  try {
    return attribute.shown(attribute.normalize(attribute.fromAttribute(value)));
  } catch {
    return conceal(JSON.stringify(attributeJson(value)), `${codec.name}.${name}`);
  }
}

function renderItem(item: Item): Record<string, InspectedJson> {
  const rendered: Record<string, InspectedJson> = {};
  for (const [name, value] of Object.entries(item)) rendered[name] = attributeJson(value);
  return rendered;
}

/** A DynamoDB attribute as plain JSON (InspectedJson): never throws, never loses a digit or a byte. */
export function attributeJson(value: AttributeValue): InspectedJson {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return numberJson(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.B !== undefined) return bytesJson(value.B);
  if (value.SS !== undefined) return { $set: [...value.SS] };
  if (value.NS !== undefined) return { $set: value.NS.map(numberJson) };
  if (value.BS !== undefined) return { $set: value.BS.map(bytesJson) };
  if (value.L !== undefined) return value.L.map(attributeJson);
  if (value.M !== undefined) {
    const map: Record<string, InspectedJson> = {};
    for (const [name, inner] of Object.entries(value.M)) map[name] = attributeJson(inner);
    return map;
  }
  return { $unknown: JSON.stringify(value) ?? "" };
}

function numberJson(text: string): InspectedJson {
  const number = Number(text);
  if (Number.isFinite(number) && String(number) === text) return number;
  return /^-?\d+$/.test(text) ? { $bigint: text } : { $number: text };
}

function bytesJson(bytes: Uint8Array): InspectedJson {
  return { $bytes: Buffer.from(bytes).toString("base64") };
}
