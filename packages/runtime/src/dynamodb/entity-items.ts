/**
 * Every item the live write path writes for one entity value, computed without writing: the entity's item (its key,
 * index keys, denormalised copies as the value carries them, `__entity`, a version), one marker item per unique
 * rule whose values are all present (but a rule the key enforces: enforcedByKey), and one item per word of each word index. The backfill writes exactly these;
 * validation expects the item and the markers.
 */
import type { EntityCodec, EntityValue, Item } from "../codec/index.ts";
import { VERSION_ATTRIBUTE } from "./expression.ts";
import { primaryKey } from "./item-keys.ts";
import { uniqueMarker, uniqueRules } from "./unique-markers.ts";
import { firstVersion } from "./versions.ts";
import { wordItems } from "./word-items.ts";

/** DynamoDB's limit on one item, attribute names included. */
export const MAX_ITEM_BYTES = 400 * 1024;

export interface MarkerItem {
  /** The unique rule it stands for. */
  rule: string;
  /** The marker: its key and its owner's key (`owner<PK>`, `owner<SK>`). */
  item: Item;
}

export interface EntityItems {
  /** The entity's item, with a version (a new item's, unless one is given). */
  item: Item;
  /** Its primary key. */
  key: Item;
  markers: MarkerItem[];
  /** One item per word of each word index (./word-items.ts). */
  words: Item[];
}

/** The items of `value` (with its denormalised copies filled in already): CodecError when it cannot be mapped. */
export function entityItems(codec: EntityCodec, value: EntityValue, version: string = firstVersion()): EntityItems {
  const item = codec.toItem(value);
  item[VERSION_ATTRIBUTE] = { N: version };
  const key = primaryKey(codec, item);
  const markers: MarkerItem[] = [];
  for (const rule of uniqueRules(codec)) {
    const marker = uniqueMarker(codec, rule.name, value, key);
    if (marker !== undefined) markers.push({ rule: rule.name, item: marker });
  }
  return { item, key, markers, words: wordItems(codec, value, key) };
}

/**
 * The size DynamoDB counts for an item: attribute names plus values (strings and binaries by their bytes, numbers by
 * about one byte per two digits plus one, 1 for booleans and nulls, 3 per list or map plus their elements).
 */
export function itemBytes(item: Item): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += Buffer.byteLength(name) + valueBytes(value);
  return total;
}

function valueBytes(value: Item[string]): number {
  if (value === undefined) return 0;
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return Math.ceil(value.N.replace(/^-|\.|e.*$/gi, "").length / 2) + 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + Math.ceil(n.length / 2) + 1, 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 0);
  if (value.M !== undefined) {
    return 3 + Object.entries(value.M).reduce((sum, [k, v]) => sum + 1 + Buffer.byteLength(k) + valueBytes(v), 0);
  }
  return 0;
}
