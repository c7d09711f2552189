/**
 * EntityComparison: one entity's rows and items compared, in batches, by the codec: what validation looks at first
 * and looks at again (the recheck, the keys a repair touched). Each method reads both sides itself and returns the
 * differences it sees now; none of them writes.
 *
 * - Rows: each row's expected items are computed as the live path writes them (SourceRows.withCopies + entityItems):
 *   the entity's item under its key, and one marker per unique rule its key does not enforce. The item must be there
 *   and equal to the row
 *   (codec.diff, denormalised copies left out: see docs/validation.md), each marker there and naming the item.
 * - Items (from a scan): the item's row must be there (by its identity, SourceRows.byKeys) and address this key.
 * - Markers (from a scan): the marker's owner must be there and hold the marker's value (markerState).
 */

import { createHash } from "node:crypto";
import type { AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type Codec, ENTITY_ATTRIBUTE, type EntityCodec, type EntityValue, type Item } from "../codec/index.ts";
import { batchGetItems } from "../dynamodb/batch-get.ts";
import { entityItems } from "../dynamodb/entity-items.ts";
import { identityMatches, primaryKey } from "../dynamodb/item-keys.ts";
import { markerOwnerKey, markerRule, markerState } from "../dynamodb/orphan-markers.ts";
import { uniqueMarkerKey, uniqueRuleAttributes, uniqueRules } from "../dynamodb/unique-markers.ts";
import { encodeKey, identityOf } from "../outbox/entry.ts";
import { keyId, type SourceRows } from "../rows/index.ts";
import { retryTransient } from "../transient.ts";
import type { Difference, FieldDifference } from "./report.ts";

/** BatchGetItem's limit. */

/** What comparing some rows found. */
export interface RowsCompared {
  differences: Difference[];
  /** Rows whose item and markers are there and equal. */
  matched: number;
  /** Items equal to their row whose denormalised copies differ from their source now. */
  staleCopies: number;
}

/** Buckets of the marker digests: a marker's bucket comes from its key alone, so a second look can pick its bucket. */
const DIGEST_BUCKETS = 256;

/**
 * Marker digests of one entity, filled by the scan of its table: for every item, each marker its value should have
 * ("expected", with the item's key as owner); for every marker, itself ("found", with the owner it names). Each is a
 * 128-bit digest (SHA-256's first 16 bytes) of the marker's key and its owner's key, summed mod 2^128 in buckets by
 * the marker's key. Where a bucket's two sums and counts agree, its markers are exactly those its items should have,
 * each naming its item: no orphan, no marker missing. Where they do not (an orphan, a missing marker, a write during
 * the scan), the bucket's markers are looked at one by one (validate.ts).
 */
export class MarkerDigests {
  private readonly expected = Array.from({ length: DIGEST_BUCKETS }, () => ({ sum: 0n, count: 0 }));
  private readonly found = Array.from({ length: DIGEST_BUCKETS }, () => ({ sum: 0n, count: 0 }));

  static bucketOf(markerKey: string): number {
    return createHash("sha256").update(markerKey).digest()[0] ?? 0;
  }

  add(side: "expected" | "found", markerKey: string, ownerKey: string): void {
    const digest = createHash("sha256").update(`${markerKey}\u0000${ownerKey}`).digest();
    const value = (digest.readBigUInt64BE(0) << 64n) | digest.readBigUInt64BE(8);
    const bucket = (side === "expected" ? this.expected : this.found)[MarkerDigests.bucketOf(markerKey)];
    if (bucket === undefined) return;
    bucket.sum = BigInt.asUintN(128, bucket.sum + value);
    bucket.count++;
  }

  /** The buckets whose sums or counts differ. */
  differing(): Set<number> {
    const buckets = new Set<number>();
    for (let index = 0; index < DIGEST_BUCKETS; index++) {
      const expected = this.expected[index];
      const found = this.found[index];
      if (expected?.sum !== found?.sum || expected?.count !== found?.count) buckets.add(index);
    }
    return buckets;
  }
}

export class EntityComparison {
  private readonly entityCodec: EntityCodec;

  constructor(
    private readonly codec: Codec,
    readonly entity: string,
    private readonly client: DynamoDBClient,
    private readonly rows: SourceRows,
    readonly table: string,
  ) {
    this.entityCodec = codec.entity(entity);
  }

  /** Rows as read from MySQL (without copies) against their items and markers. */
  async compareRows(values: readonly EntityValue[]): Promise<RowsCompared> {
    const codec = this.entityCodec;
    const result: RowsCompared = { differences: [], matched: 0, staleCopies: 0 };
    const filled = await retryTransient(() => this.rows.withCopies(this.entity, values));
    const expected: Array<{
      row: EntityValue;
      filled: EntityValue;
      key: Item;
      markers: Array<{ rule: string; key: Item }>;
    }> = [];
    for (const [index, value] of filled.entries()) {
      const row = values[index] as EntityValue;
      try {
        const items = entityItems(codec, value);
        expected.push({
          row,
          filled: value,
          key: items.key,
          markers: items.markers.map((marker) => ({ rule: marker.rule, key: primaryKey(codec, marker.item) })),
        });
      } catch (error) {
        result.differences.push(this.difference("unreadable", row, [], { reason: reasonOf(error) }));
      }
    }
    const stored = await this.getItems(expected.flatMap((row) => [row.key, ...row.markers.map((m) => m.key)]));
    for (const row of expected) {
      const before = result.differences.length;
      const item = stored.get(this.keyText(row.key));
      if (item === undefined || item[ENTITY_ATTRIBUTE]?.S !== codec.name) {
        result.differences.push(this.difference("missing-item", row.row, [], { reason: "no item under its key" }));
        continue;
      }
      let value: EntityValue;
      try {
        value = codec.fromItem(item);
      } catch (error) {
        result.differences.push(
          this.difference("unreadable", row.row, [], { reason: `its item cannot be read: ${reasonOf(error)}` }),
        );
        continue;
      }
      // As the report shows them: a sensitive attribute's values as tags.
      const fields = codec
        .shownDiff(codec.diff(row.row, value))
        .map((diff): FieldDifference => ({ field: diff.field, mysql: diff.left, dynamodb: diff.right }));
      fields.push(...this.keyDifferences(row.filled, value, item));
      if (fields.length > 0) result.differences.push(this.difference("mismatched", row.row, fields));
      else if (codec.diff(row.filled, value).length > 0) result.staleCopies++;
      for (const marker of row.markers) {
        const held = stored.get(this.keyText(marker.key));
        const owner = held === undefined ? undefined : markerOwnerKey(codec, held);
        if (owner !== undefined && this.keyText(owner) === this.keyText(row.key)) continue;
        const values = uniqueRuleAttributes(codec, marker.rule).map(
          (attribute): FieldDifference => ({
            field: attribute,
            mysql: codec.attribute(attribute).shown(codec.attribute(attribute).normalize(row.row[attribute])),
            dynamodb: null,
          }),
        );
        result.differences.push(
          this.difference("missing-marker", row.row, values, {
            rule: marker.rule,
            marker: this.markerId(marker.key),
            reason:
              owner === undefined
                ? "no marker holds its value"
                : `its value's marker names another item (${this.keyText(owner)})`,
          }),
        );
      }
      if (result.differences.length === before) result.matched++;
    }
    return result;
  }

  /**
   * Items found in DynamoDB: each must have its row in MySQL, and the row must address this item. Returns the items
   * without one (extra), and those the codec cannot read.
   */
  async compareItems(items: readonly Item[], digests?: MarkerDigests): Promise<Difference[]> {
    const codec = this.entityCodec;
    const differences: Difference[] = [];
    const read: Array<{ item: Item; value: EntityValue }> = [];
    for (const item of items) {
      try {
        const value = codec.fromItem(item);
        read.push({ item, value });
        if (digests !== undefined) {
          const owner = this.keyText(primaryKey(codec, item));
          for (const rule of uniqueRules(codec)) {
            const marker = uniqueMarkerKey(codec, rule.name, value);
            if (marker !== undefined) digests.add("expected", this.keyText(marker), owner);
          }
        }
      } catch (error) {
        differences.push({
          entity: this.entity,
          kind: "unreadable",
          key: this.identityOfItem(item),
          fields: [],
          reason: `its item cannot be read: ${reasonOf(error)}`,
        });
      }
    }
    const rows = await retryTransient(() =>
      this.rows.byKeys(
        this.entity,
        read.map(({ value }) => value),
      ),
    );
    for (const { item, value } of read) {
      const row = rows.get(keyId(this.codec, this.entity, value));
      const addresses =
        row !== undefined &&
        "value" in row &&
        identityMatches(codec, row.value, identityOf(this.codec, this.entity, value)) &&
        this.keyText(codec.key(row.value)) === this.keyText(primaryKey(codec, item));
      if (addresses) continue;
      differences.push(
        this.difference("extra-item", value, [], {
          reason: row === undefined ? "no row with its key in MySQL" : "its row has another key now",
        }),
      );
    }
    return differences;
  }

  /** Marker items found in DynamoDB: each must name an item that is there and holds its value. */
  async compareMarkers(markers: readonly Item[]): Promise<Difference[]> {
    const codec = this.entityCodec;
    const owners = await this.getItems(
      markers.map((marker) => markerOwnerKey(codec, marker)).filter((key): key is Item => key !== undefined),
    );
    const differences: Difference[] = [];
    for (const marker of markers) {
      const ownerKey = markerOwnerKey(codec, marker);
      const ownerItem = ownerKey === undefined ? undefined : owners.get(this.keyText(ownerKey));
      const state = markerState(codec, marker, ownerItem);
      if (state.kind === "held") continue;
      const rule = markerRule(codec, marker);
      differences.push({
        entity: this.entity,
        kind: "orphan-marker",
        key:
          state.owner !== undefined
            ? JSON.parse(encodeKey(identityOf(this.codec, this.entity, state.owner)))
            : plainKey(ownerKey ?? {}),
        fields:
          state.owner === undefined || rule === undefined
            ? []
            : uniqueRuleAttributes(codec, rule).map((attribute) => ({
                field: attribute,
                mysql: null,
                dynamodb: codec
                  .attribute(attribute)
                  .shown(codec.attribute(attribute).normalize(state.owner?.[attribute])),
              })),
        ...(rule === undefined ? {} : { rule }),
        marker: this.markerId(primaryKey(codec, marker)),
        reason: `${state.why}`,
      });
    }
    return differences;
  }

  /**
   * Everything about these identities now: their rows against their items and markers, and an item under a key whose
   * row is gone or addresses another key. For the recheck and for the keys a repair touched.
   */
  async compareKeys(keys: readonly EntityValue[]): Promise<Difference[]> {
    const codec = this.entityCodec;
    const rows = await retryTransient(() => this.rows.byKeys(this.entity, keys));
    const present: EntityValue[] = [];
    const differences: Difference[] = [];
    const seenRows = new Set<string>();
    const itemKeys: Item[] = [];
    for (const key of keys) {
      const row = rows.get(keyId(this.codec, this.entity, key));
      if (row !== undefined && "error" in row) {
        differences.push(this.difference("unreadable", row.key, [], { reason: reasonOf(row.error) }));
        continue;
      }
      if (row !== undefined && !seenRows.has(keyId(this.codec, this.entity, key))) {
        seenRows.add(keyId(this.codec, this.entity, key));
        present.push(row.value);
      }
      // The item this identity addresses, unless it is the row's own (compared with the row below).
      try {
        const itemKey = codec.key(key);
        if (row === undefined || this.keyText(codec.key(row.value)) !== this.keyText(itemKey)) itemKeys.push(itemKey);
      } catch {
        // An identity without the key templates' values addresses no item.
      }
    }
    differences.push(...(await this.compareRows(present)).differences);
    const found = [...(await this.getItems(itemKeys)).values()].filter(
      (item) => item[ENTITY_ATTRIBUTE]?.S === codec.name,
    );
    differences.push(...(await this.compareItems(found)));
    return differences;
  }

  /** The markers under these ids now, compared (those gone are no difference). */
  async compareMarkerIds(ids: readonly string[]): Promise<Difference[]> {
    const found = await this.getItems(ids.map((id) => this.markerKey(id)));
    return this.compareMarkers([...found.values()]);
  }

  /** A marker's key from its id (both key attributes carry the id). */
  markerKey(id: string): Item {
    const key: Item = { [this.entityCodec.keyNames.partition]: { S: id } };
    if (this.entityCodec.keyNames.sort !== undefined) key[this.entityCodec.keyNames.sort] = { S: id };
    return key;
  }

  /** The marker key of one rule for a value (undefined when a value is null). */
  markerKeyOf(rule: string, value: EntityValue): Item | undefined {
    return uniqueMarkerKey(this.entityCodec, rule, value);
  }

  /**
   * The item's key and index key attributes against those `entityItems` renders for the row: one field per attribute
   * that is wrong, missing or extra. Denormalised copies are taken from the item when it has them (a copy older than
   * its source is no difference, so neither is an index key rendered from it).
   */
  keyDifferences(filled: EntityValue, stored: EntityValue, item: Item): FieldDifference[] {
    const codec = this.entityCodec;
    const basis: EntityValue = { ...filled };
    for (const copy of codec.copies) if (stored[copy.name] !== undefined) basis[copy.name] = stored[copy.name];
    let expected: Item;
    try {
      expected = entityItems(codec, basis).item;
    } catch {
      return [];
    }
    const fields: FieldDifference[] = [];
    for (const name of keyAttributeNames(codec)) {
      const want = attributeText(expected[name]);
      const have = attributeText(item[name]);
      if (want !== have) fields.push({ field: name, mysql: want, dynamodb: have });
    }
    return fields;
  }

  /** The identity of an item the codec cannot read whole (its identity attributes alone), else its key's text. */
  private identityOfItem(item: Item): unknown {
    const codec = this.entityCodec;
    try {
      const identity: EntityValue = {};
      for (const attribute of codec.identity)
        identity[attribute] = codec.attribute(attribute).fromAttribute(item[attribute]);
      return JSON.parse(encodeKey(identity));
    } catch {
      return plainKey(primaryKey(codec, item));
    }
  }

  private markerId(key: Item): string {
    return key[this.entityCodec.keyNames.partition]?.S ?? "";
  }

  private difference(
    kind: Difference["kind"],
    value: EntityValue,
    fields: FieldDifference[],
    more: { rule?: string; marker?: string; reason?: string } = {},
  ): Difference {
    return {
      entity: this.entity,
      kind,
      key: JSON.parse(encodeKey(identityOf(this.codec, this.entity, value))),
      fields,
      ...more,
    };
  }

  /** A marker's bucket among the digests (MarkerDigests). */
  markerBucket(marker: Item): number {
    return MarkerDigests.bucketOf(this.keyText(primaryKey(this.entityCodec, marker)));
  }

  /** A marker seen by the scan, into `digests` ("found", with the owner it names). */
  foundMarker(digests: MarkerDigests, marker: Item): void {
    const owner = markerOwnerKey(this.entityCodec, marker);
    digests.add("found", this.keyText(primaryKey(this.entityCodec, marker)), owner ? this.keyText(owner) : "");
  }

  /** A primary key as text: its partition and sort values. */
  private keyText(key: Item): string {
    const names = this.entityCodec.keyNames;
    return JSON.stringify([key[names.partition]?.S, names.sort === undefined ? null : key[names.sort]?.S]);
  }

  /** Items by key (consistent reads: batchGetItems), by keyText; a dropped connection or a timeout is tried again. */
  private getItems(keys: readonly Item[]): Promise<Map<string, Item>> {
    return batchGetItems(this.client, this.table, keys, (key) => this.keyText(primaryKey(this.entityCodec, key)), {
      retry: retryTransient,
    });
  }
}

/** The entity's primary key attributes, then each of its indexes' key attributes, once each. */
export function keyAttributeNames(codec: EntityCodec): string[] {
  const names = new Set<string>();
  const add = (keys: { partition: string; sort?: string }) => {
    names.add(keys.partition);
    if (keys.sort !== undefined) names.add(keys.sort);
  };
  add(codec.keyNames);
  for (const index of Object.keys(codec.definition.indexes ?? {})) add(codec.indexKeyNames(index));
  return [...names];
}

/** A key attribute's value as text (null: absent). */
function attributeText(value: AttributeValue | undefined): string | null {
  if (value === undefined || value.NULL === true) return null;
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return value.N;
  if (value.B !== undefined) return Buffer.from(value.B).toString("base64");
  return JSON.stringify(value);
}

/** A key's string attributes as a plain object. */
function plainKey(key: Record<string, AttributeValue>): Record<string, string> {
  return Object.fromEntries(Object.entries(key).map(([name, value]) => [name, value.S ?? JSON.stringify(value)]));
}

export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
